import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSecretIndex } from '../src/core/codec.js';
import { findSignature } from '../src/core/commit-signature.js';
import { makeTeam, ok, put, type Clone, type Team } from './helpers/team.js';

let team: Team | undefined;
afterEach(async () => {
  team?.cleanup();
  team = undefined;
  // The tests run the CLI synchronously; one turn of the event loop between them lets vitest's worker
  // answer its runner (a file of blocking tests would otherwise time out its RPC).
  await new Promise((resolve) => setImmediate(resolve));
});

/** Plain git in a clone, as a user runs it (hooks and the merge driver included). */
function git(c: Clone, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync('git', args, { cwd: c.dir, env: { ...team!.store.env, ...env }, encoding: 'utf8' });
}

/** HEAD's tree: files carry no signatures (the commits do), so the same merge is the same tree. */
const tree = (c: Clone) => c.git(['ls-tree', '-r', 'HEAD']).trim();
const unsigned = (text: string) => text;

/**
 * a and b each changed `db` offline and a pushed; returns two byte copies of b (each with its own copy
 * of the remote): one to `secretstore sync`, one for plain git.
 */
function diverged(changeA: (a: Clone) => void, changeB: (b: Clone) => void, policy?: Parameters<typeof makeTeam>[0]['policy']) {
  const t = makeTeam(policy ? { policy } : {});
  team = t;
  ok(t.a.cli(['create-secret', '--name', 'db', '--secret-string', '-'], { input: 'v1' }));
  ok(t.a.cli(['sync']));
  ok(t.b.cli(['sync']));
  changeA(t.a);
  changeB(t.b);
  ok(t.a.cli(['sync']));
  return { t, bySync: t.copy(t.b, 'by-sync'), byGit: t.copy(t.b, 'by-git') };
}

describe('the git merge driver (issue #5 item 2)', () => {
  it('plain git pull with the merge driver gives the same result (same index text, same tree) as sync', () => {
    const { bySync, byGit } = diverged(
      (a) => put(a, 'db', 'a2'),
      (b) => put(b, 'db', 'b2', ['beta']),
    );
    ok(bySync.cli(['sync']));
    const r = git(byGit, ['pull', '-q', '--no-rebase', '--no-edit']);
    expect(r.status, r.stderr).toBe(0);
    expect(unsigned(byGit.index('db'))).toBe(unsigned(bySync.index('db')));
    expect(tree(byGit)).toBe(tree(bySync));
    expect(Object.keys(parseSecretIndex(byGit.index('db'), 'db').labels).sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS', 'beta']);
  });

  it('without a writer key the driver merges just the same: the merge commit is unsigned, and readers accept it as secretstore\'s own merge (trust v2)', () => {
    const { t, byGit } = diverged(
      (a) => put(a, 'db', 'a2'),
      (b) => put(b, 'db', 'b2', ['beta']),
    );
    const r = git(byGit, ['pull', '-q', '--no-rebase', '--no-edit'], { SECRETSTORE_IDENTITY: join(t.base, 'no-such-identity') });
    expect(r.status, r.stderr).toBe(0);
    expect(byGit.index('db')).not.toContain('signature:');
    expect(findSignature(byGit.git(['log', '-1', '--format=%B']))).toBeUndefined();
    expect(Object.keys(parseSecretIndex(byGit.index('db'), 'db').labels).sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS', 'beta']);
    const read = byGit.cli(['get-secret-value', '--secret-id', 'db', '--version-stage', 'beta', '--query', 'SecretString', '--output', 'text']);
    expect(read.stdout, read.stderr).toBe('b2\n');
  });

  it('a contested label with no decision leaves standard conflict markers and a one-line explanation, and git pull fails', () => {
    const { byGit } = diverged(
      (a) => put(a, 'db', 'a2'),
      (b) => put(b, 'db', 'b2'),
    );
    const r = git(byGit, ['pull', '--no-rebase', '--no-edit']);
    expect(r.status).not.toBe(0);
    const explanation = r.stderr.split('\n').filter((l) => l.startsWith('secretstore: '));
    expect(explanation).toHaveLength(1);
    expect(explanation[0]).toMatch(/^secretstore: secrets\/db\/secret\.yaml: contested, left conflict markers: db label AWSCURRENT: ours \S+, theirs \S+; /);
    const text = readFileSync(join(byGit.dir, 'secrets/db/secret.yaml'), 'utf8');
    expect(text).toMatch(/^<<<<<<< ours$/m);
    expect(text).toMatch(/^=======$/m);
    expect(text).toMatch(/^>>>>>>> theirs$/m);
    expect(byGit.git(['ls-files', '-u']).trim()).not.toBe('');
  });

  it('SECRETSTORE_PREFER settles a contest in the driver exactly as sync --prefer does', () => {
    const { t, bySync, byGit } = diverged(
      (a) => put(a, 'db', 'a2'),
      (b) => put(b, 'db', 'b2'),
    );
    ok(bySync.cli(['sync', '--prefer', 'theirs']));
    const r = git(byGit, ['pull', '-q', '--no-rebase', '--no-edit'], { SECRETSTORE_PREFER: 'theirs' });
    expect(r.status, r.stderr).toBe(0);
    expect(unsigned(byGit.index('db'))).toBe(unsigned(bySync.index('db')));
    expect(parseSecretIndex(byGit.index('db'), 'db').labels.AWSCURRENT).toBe(parseSecretIndex(t.a.index('db'), 'db').labels.AWSCURRENT);
  });

  it('a plain git merge over the prune limit is pruned by the same rule (post-merge hook, own signed commit): the same tree as sync (issue #5 item 4)', () => {
    const { bySync, byGit } = diverged(
      (a) => {
        put(a, 'db', 'x2');
        put(a, 'db', 'x3');
        ok(a.cli(['sync']));
        put(a, 'db', 'a4', ['a']);
      },
      (b) => {
        ok(b.cli(['sync']));
        put(b, 'db', 'b4', ['b']);
      },
      { pruneAbove: 4, minVersionAgeHours: 0 },
    );
    ok(bySync.cli(['sync']));
    const r = git(byGit, ['pull', '--no-rebase', '--no-edit']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('over the policy; pruning them after the merge commit'); // pre-merge-commit validated it
    expect(r.stderr).toContain('secretstore: pruned 1 version(s) after the merge, in a signed commit of its own');
    expect(byGit.git(['log', '-1', '--format=%s'])).toBe('prune: after merge, 1 version(s)\n');
    expect(findSignature(byGit.git(['log', '-1', '--format=%B']))).toBeDefined();
    expect(byGit.git(['rev-list', '--parents', '-n', '1', 'HEAD~1']).trim().split(' ')).toHaveLength(3);
    expect(Object.keys(parseSecretIndex(byGit.index('db'), 'db').versions)).toHaveLength(4);
    expect(unsigned(byGit.index('db'))).toBe(unsigned(bySync.index('db')));
    expect(tree(byGit)).toBe(tree(bySync));
    expect(byGit.git(['status', '--porcelain'])).toBe('');
  });

  it('a merge that would break an invariant (more than 20 labels) is refused: sync changes nothing, the driver leaves markers', () => {
    const label = (c: Clone, prefix: string) => {
      const current = parseSecretIndex(c.index('db'), 'db').labels.AWSCURRENT!;
      for (let i = 0; i < 10; i++) ok(c.cli(['update-secret-version-stage', '--secret-id', 'db', '--version-stage', `${prefix}${i}`, '--move-to-version-id', current]));
    };
    const { bySync, byGit } = diverged(
      (a) => label(a, 'a'),
      (b) => label(b, 'b'),
    );
    const before = bySync.snapshot();
    const r = bySync.cli(['sync', '--prefer', 'newest']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('InvalidRequestException');
    expect(r.stderr).toContain('merge refused: db (merged) would carry more than 20 labels');
    expect(bySync.snapshot()).toBe(before);
    const pulled = git(byGit, ['pull', '--no-rebase', '--no-edit']);
    expect(pulled.status).not.toBe(0);
    expect(pulled.stderr).toContain('secretstore: secrets/db/secret.yaml: left conflict markers: merge refused');
    expect(readFileSync(join(byGit.dir, 'secrets/db/secret.yaml'), 'utf8')).toMatch(/^<<<<<<< ours$[\s\S]*^=======$[\s\S]*^>>>>>>> theirs$/m);
   }, 180_000); // twenty label moves through the CLI: slow on a loaded machine

  it('git pull --rebase replays a label change through the driver with every label kept', () => {
    const { bySync, byGit } = diverged(
      (a) => put(a, 'db', 'a2'),
      (b) => put(b, 'db', 'b2', ['beta']),
    );
    ok(bySync.cli(['sync']));
    const r = git(byGit, ['pull', '-q', '--rebase']);
    expect(r.status, r.stderr).toBe(0);
    expect(parseSecretIndex(byGit.index('db'), 'db').labels).toEqual(parseSecretIndex(bySync.index('db'), 'db').labels);
    expect(byGit.git(['rev-list', '--merges', '--count', 'HEAD']).trim()).toBe('0');
  });
});
