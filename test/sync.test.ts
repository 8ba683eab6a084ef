import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSecretIndex } from '../src/core/codec.js';
import { CLI } from './helpers/store.js';
import { makeTeam, ok, put, type Clone, type Team } from './helpers/team.js';

let team: Team | undefined;
afterEach(async () => {
  team?.cleanup();
  team = undefined;
  // The tests run the CLI synchronously; one turn of the event loop between them lets vitest's worker
  // answer its runner (a file of blocking tests would otherwise time out its RPC).
  await new Promise((resolve) => setImmediate(resolve));
});

function create(c: Clone, name: string, value: string): string {
  const r = c.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: value });
  ok(r);
  return r.json<{ VersionId: string }>().VersionId;
}

function sync(c: Clone, ...args: string[]) {
  const r = c.cli(['sync', ...args]);
  ok(r);
  return r.json<{ Status: string; Commit: string; Decisions: string[]; Pruned: { Name: string; VersionIds: string[] }[]; Retries: number }>();
}

function value(c: Clone, name: string, stage = 'AWSCURRENT'): string {
  const r = c.cli(['get-secret-value', '--secret-id', name, '--version-stage', stage]);
  ok(r);
  return r.json<{ SecretString: string }>().SecretString;
}

function labels(c: Clone, name: string): Record<string, string> {
  return parseSecretIndex(c.index(name), name).labels;
}

/** A team where `db` (value v1) is on the remote and in both clones. */
function teamWithDb(policy?: Parameters<typeof makeTeam>[0]['policy']): { t: Team; v1: string } {
  const t = makeTeam(policy ? { policy } : {});
  team = t;
  const v1 = create(t.a, 'db', 'v1');
  sync(t.a);
  expect(sync(t.b).Status).toBe('FastForwarded');
  return { t, v1 };
}

describe('secretstore sync (issue #5 item 1)', () => {
  it('concurrent offline puts on both clones: sync on both loses nothing, labels are consistent, both end on the same commit', () => {
    const { t, v1 } = teamWithDb();
    const a2 = put(t.a, 'db', 'a2');
    const b2 = put(t.b, 'db', 'b2', ['beta']);
    create(t.a, 'only-a', 'from a');
    create(t.b, 'only-b', 'from b');
    // Files outside the store come along byte for byte, with their executable bit (a rotation script).
    const bytes = Buffer.from([0, 255, 254, 1, 128, 10]);
    writeFileSync(join(t.a.dir, 'logo.bin'), bytes);
    writeFileSync(join(t.a.dir, 'rotate.sh'), '#!/bin/sh\necho rotated\n', { mode: 0o755 });
    t.a.git(['add', 'logo.bin', 'rotate.sh']);
    t.a.git(['commit', '-qm', 'tools']);
    expect(sync(t.a).Status).toBe('Pushed');
    const merged = sync(t.b);
    expect(merged.Status).toBe('Merged');
    expect(sync(t.a).Status).toBe('FastForwarded');
    const head = t.a.git(['rev-parse', 'HEAD']).trim();
    expect(t.b.git(['rev-parse', 'HEAD']).trim()).toBe(head);
    expect(t.remoteHead()).toBe(head);
    expect(t.b.git(['rev-list', '--parents', '-n', '1', 'HEAD']).trim().split(' ')).toHaveLength(3); // one merge commit, two parents
    for (const c of [t.a, t.b]) {
      expect(labels(c, 'db')).toEqual({ AWSCURRENT: a2, AWSPREVIOUS: v1, beta: b2 });
      expect([value(c, 'db'), value(c, 'db', 'beta'), value(c, 'db', 'AWSPREVIOUS')]).toEqual(['a2', 'b2', 'v1']);
      expect([value(c, 'only-a'), value(c, 'only-b')]).toEqual(['from a', 'from b']);
      expect(c.git(['status', '--porcelain'])).toBe('');
    }
    expect(readFileSync(join(t.b.dir, 'logo.bin')).equals(bytes)).toBe(true);
    expect(statSync(join(t.b.dir, 'rotate.sh')).mode & 0o111).not.toBe(0);
  });

  it('nothing is decrypted: sync works without a decryption key (a write-only identity)', () => {
    const { t } = teamWithDb();
    put(t.a, 'db', 'a2');
    put(t.b, 'db', 'b2', ['beta']);
    sync(t.a);
    const writeOnly = join(t.base, 'write-only');
    const keygen = t.b.cli(['keygen', '--write-only', '-o', writeOnly]);
    ok(keygen);
    // its merge commit is signed with its writer key, which the store must trust (issue #4 item 4)
    ok(t.b.cli(['writers', 'add', '--name', 'ci', '--writer-key', keygen.stdout.trim()]));
    expect(sync(t.b, '--identity', writeOnly).Status).toBe('Merged');
    expect(t.b.cli(['get-secret-value', '--secret-id', 'db', '--version-stage', 'beta', '--query', 'SecretString', '--output', 'text']).stdout).toBe('b2\n');
  });

  it('a contested AWSCURRENT move stops sync with a report (secret, label, both candidates with author and date) and leaves both clones untouched', () => {
    const { t } = teamWithDb();
    const a2 = put(t.a, 'db', 'a2');
    const b2 = put(t.b, 'db', 'b2');
    sync(t.a);
    const [beforeA, beforeB, remote] = [t.a.snapshot(), t.b.snapshot(), t.remoteHead()];
    const r = t.b.cli(['sync']);
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(
      new RegExp(`db label AWSCURRENT: ours ${b2} \\(Test User, \\d{4}-\\d\\d-\\d\\dT[^)]+\\) vs theirs ${a2} \\(Test User, \\d{4}-[^)]+\\)`),
    );
    expect(r.stderr).toContain('An error occurred (InvalidRequestException) when calling the Sync operation: 1 contested change(s) with origin/main; rerun with --prefer ours|theirs|newest');
    expect(r.stderr.trim().split('\n').at(-1)).not.toContain('\n');
    expect(t.b.snapshot()).toBe(beforeB);
    expect(t.a.snapshot()).toBe(beforeA);
    expect(t.remoteHead()).toBe(remote);
    expect(readdirGit(t.b)).toEqual([]);
  });

  it.each([
    ['ours', 'b2', 'a2'],
    ['theirs', 'a2', 'b2'],
    ['newest', 'b2', 'a2'], // b2 was put after a2
  ] as const)('--prefer %s: AWSCURRENT on the documented version, the loser AWSPREVIOUS, the decision in the commit message', (prefer, current, previous) => {
    const { t } = teamWithDb();
    const ids: Record<string, string> = { a2: put(t.a, 'db', 'a2') };
    ids.b2 = put(t.b, 'db', 'b2');
    sync(t.a);
    const r = sync(t.b, '--prefer', prefer);
    expect(r.Status).toBe('Merged');
    expect(labels(t.b, 'db')).toMatchObject({ AWSCURRENT: ids[current], AWSPREVIOUS: ids[previous] });
    expect([value(t.b, 'db'), value(t.b, 'db', 'AWSPREVIOUS')]).toEqual([current, previous]);
    const side = prefer === 'theirs' ? 'theirs' : 'ours';
    const decision = `db label AWSCURRENT: kept ${side} ${ids[current]} over ${ids[previous]} (--prefer ${prefer}); ${ids[previous]} -> AWSPREVIOUS`;
    expect(r.Decisions).toEqual([decision]);
    expect(t.b.git(['log', '-1', '--format=%B'])).toContain(`decision: ${decision}`);
    expect(sync(t.a).Status).toBe('FastForwarded');
    expect(labels(t.a, 'db')).toEqual(labels(t.b, 'db'));
  });

  it('a merge that leaves more versions than the policy allows is pruned by the same rule, in a signed commit of its own after the merge (a merge is never pruned: readers recompute it)', () => {
    const { t, v1 } = teamWithDb({ pruneAbove: 4, minVersionAgeHours: 0 });
    put(t.a, 'db', 'x2');
    put(t.a, 'db', 'x3'); // v1 deprecated, 3 versions
    sync(t.a);
    sync(t.b);
    put(t.a, 'db', 'a4', ['a']);
    put(t.b, 'db', 'b4', ['b']); // 4 each: at the limit, nothing pruned by the puts
    sync(t.a);
    const r = sync(t.b);
    expect(r.Pruned).toEqual([{ Name: 'db', VersionIds: [v1] }]);
    const index = parseSecretIndex(t.b.index('db'), 'db');
    expect(Object.keys(index.versions)).toHaveLength(4);
    expect(index.versions[v1]).toBeUndefined();
    expect(t.b.git(['ls-tree', '-r', '--name-only', 'HEAD', 'secrets/db/versions/']).split('\n').filter(Boolean)).toHaveLength(4);
    expect(t.b.git(['log', '-1', '--format=%B'])).toContain(`pruned: db ${v1}`);
    expect(t.b.git(['log', '-1', '--format=%B'])).toMatch(/^Secretstore-Signature: /m);
    expect(t.b.git(['rev-list', '--parents', '-n', '1', 'HEAD~1']).trim().split(' ')).toHaveLength(3); // the merge, unpruned
  }, 180_000);

  it('a version pruned on one side is not re-added by the merge', () => {
    const { t, v1 } = teamWithDb({ pruneAbove: 3, minVersionAgeHours: 0 });
    put(t.a, 'db', 'x2');
    put(t.a, 'db', 'x3');
    sync(t.a);
    sync(t.b);
    put(t.a, 'db', 'a4'); // prunes v1 in its own commit
    expect(parseSecretIndex(t.a.index('db'), 'db').versions[v1]).toBeUndefined();
    ok(t.b.cli(['tag-resource', '--secret-id', 'db', '--tags', 'Key=team,Value=b'])); // b still has v1
    sync(t.a);
    sync(t.b);
    const index = parseSecretIndex(t.b.index('db'), 'db');
    expect(index.versions[v1]).toBeUndefined();
    expect(index.tags).toEqual([{ Key: 'team', Value: 'b' }]);
    expect(existsSync(join(t.b.dir, 'secrets/db/versions'))).toBe(true);
    expect(t.b.git(['ls-tree', '-r', '--name-only', 'HEAD', 'secrets/db/versions/'])).not.toContain(v1);
  });

  it('a push that loses a race fetches, merges again and retries (bounded by --max-retries)', () => {
    const { t } = teamWithDb();
    const c = t.clone('c');
    put(c, 'db', 'c2', ['gamma']);
    put(t.a, 'db', 'a2', ['alpha']);
    // The first push from a is preceded by c's push: a's push is then rejected as not a fast-forward.
    const marker = join(t.base, 'raced');
    const hook = join(t.a.dir, '.git', 'hooks', 'pre-push');
    writeFileSync(
      hook,
      `#!/bin/sh\n[ -e '${marker}' ] && exit 0\ntouch '${marker}'\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE\ngit -C '${c.dir}' push -q origin main\n`,
    );
    chmodSync(hook, 0o755);
    const r = sync(t.a);
    expect(existsSync(marker)).toBe(true);
    expect(r.Retries).toBe(1);
    expect(t.remoteHead()).toBe(t.a.git(['rev-parse', 'HEAD']).trim());
    expect(Object.keys(labels(t.a, 'db')).sort()).toEqual(['AWSCURRENT', 'alpha', 'gamma']);

    // With no retries left, the lost race is an error and the merge stays committed locally.
    put(c, 'db', 'c3', ['delta']);
    put(t.a, 'db', 'a3', ['epsilon']);
    writeFileSync(hook, `#!/bin/sh\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE\ngit -C '${c.dir}' pull -q --no-rebase --no-edit && git -C '${c.dir}' push -q origin main\n`);
    const lost = t.a.cli(['sync', '--max-retries', '0']);
    expect(lost.status).toBe(254);
    expect(lost.stderr).toContain('InvalidRequestException');
    expect(lost.stderr).toContain('rejected 1 time(s)');
  }, 180_000);

  it.each([
    ['after-write-2', 'old'],
    ['after-commit-tree', 'old'],
    ['after-update-ref', 'new'],
  ] as const)('a sync killed at %s leaves the old or the new state (the transaction journal), and the next sync finishes', (point, state) => {
    const { t } = teamWithDb();
    put(t.a, 'db', 'a2');
    put(t.b, 'db', 'b2', ['beta']);
    create(t.a, 'only-a', 'x');
    sync(t.a);
    const before = t.b.snapshot();
    const killed = t.b.cli(['sync'], { env: { SECRETSTORE_FAULT_AT: point } });
    expect(killed.status).toBeNull(); // SIGKILL
    ok(t.b.cli(['list-secrets'])); // a reader recovers the dead writer's journal first
    if (state === 'old') {
      expect(t.b.snapshot()).toBe(before);
      expect(sync(t.b).Status).toBe('Merged');
    } else {
      expect(t.b.git(['rev-list', '--parents', '-n', '1', 'HEAD']).trim().split(' ')).toHaveLength(3);
      expect(t.b.git(['status', '--porcelain'])).toBe('');
      expect(sync(t.b).Status).toBe('Pushed');
    }
    expect(value(t.b, 'only-a')).toBe('x');
    expect(t.remoteHead()).toBe(t.b.git(['rev-parse', 'HEAD']).trim());
  });

  it('sync without an upstream and with more than one remote says how to set one; a first push sets the upstream (push -u)', () => {
    const { t } = teamWithDb();
    t.a.git(['branch', '--unset-upstream']);
    // An empty remote: nothing to integrate, the push creates the branch.
    const other = join(t.base, 'other.git');
    execFileSync('git', ['init', '-q', '--bare', other], { env: t.store.env });
    t.a.git(['remote', 'add', 'other', other]);
    const r = t.a.cli(['sync']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('has no upstream; give --remote REMOTE');
    expect(sync(t.a, '--remote', 'origin').Status).toBe('UpToDate');
    expect(sync(t.a, '--remote', 'other').Status).toBe('Pushed');
    expect(execFileSync('git', ['rev-parse', 'main'], { cwd: other, encoding: 'utf8' })).toBe(t.a.git(['rev-parse', 'HEAD']));
    expect(t.a.git(['config', '--get', 'branch.main.remote']).trim()).toBe('other');
  }, 180_000);

  it('a file outside the label indexes changed differently on both sides is refused, with the repository untouched', () => {
    const { t } = teamWithDb();
    for (const [c, text] of [[t.a, 'from a\n'], [t.b, 'from b\n']] as const) {
      writeFileSync(join(c.dir, 'NOTES.txt'), text);
      c.git(['add', 'NOTES.txt']);
      c.git(['commit', '-qm', 'notes']);
    }
    sync(t.a);
    const before = t.b.snapshot();
    const r = t.b.cli(['sync', '--prefer', 'ours']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('InvalidRequestException');
    expect(r.stderr).toContain('NOTES.txt was changed differently on both sides');
    expect(t.b.snapshot()).toBe(before);
  });
});

describe('install-hooks and init (issue #5 item 2: registration)', () => {
  it('init commits .gitattributes; install-hooks sets up a clone (five hooks, the merge driver config) and is idempotent', () => {
    const { t } = teamWithDb();
    expect(readFileSync(join(t.b.dir, '.gitattributes'), 'utf8')).toContain('secrets/**/secret.yaml merge=secretstore\nsecrets/**/*.sealed diff=secretstore\n');
    for (const c of [t.a, t.b]) {
      expect(c.git(['config', '--get', 'merge.secretstore.driver'])).toMatch(/merge-driver %O %A %B %P\n$/);
      expect(existsSync(join(c.dir, '.git/hooks/pre-merge-commit'))).toBe(true);
      expect(existsSync(join(c.dir, '.git/hooks/pre-commit'))).toBe(true);
      expect(existsSync(join(c.dir, '.git/hooks/commit-msg'))).toBe(true);
      expect(existsSync(join(c.dir, '.git/hooks/post-rewrite'))).toBe(true);
    }
    const before = t.b.snapshot();
    const r = t.b.cli(['install-hooks']);
    ok(r);
    expect(r.json()).toMatchObject({ Hooks: ['.git/hooks/pre-commit', '.git/hooks/commit-msg', '.git/hooks/pre-merge-commit', '.git/hooks/post-merge', '.git/hooks/post-rewrite'], Attributes: true });
    expect(t.b.snapshot()).toBe(before);
  });

  it("install-hooks respects a foreign hook and changes nothing", () => {
    const { t } = teamWithDb();
    const c = t.clone('c');
    writeFileSync(join(c.dir, '.git/hooks/pre-merge-commit'), '#!/bin/sh\necho mine\n');
    c.git(['config', '--unset', 'merge.secretstore.driver']);
    const r = c.cli(['install-hooks']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain("pre-merge-commit exists and is not secretstore's");
    expect(readFileSync(join(c.dir, '.git/hooks/pre-merge-commit'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
    expect(() => c.git(['config', '--get', 'merge.secretstore.driver'])).toThrow();
  });
});

/** Leftover temporary files of sync in .git (there must be none). */
function readdirGit(c: Clone): string[] {
  return readdirSync(join(c.dir, '.git')).filter((f) => f.startsWith('secretstore-sync') || f === 'secretstore-index.tmp');
}
