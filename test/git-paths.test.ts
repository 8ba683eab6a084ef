/**
 * Every git path ends in a store whose history authenticates (issue 11): sync, plain `git pull` with the
 * merge driver, `git pull --rebase`, a conflict resolved by hand then `secretstore sign`, on any branch
 * name; and unauthenticated content from the remote is never signed by an honest user. Real git, the
 * built CLI, temp folders. (The attack suite proper lives in test/trust/.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findSignature } from '../src/core/commit-signature.js';
import { create, makeTeam, ok, put, valueOf, type Clone, type Team } from './helpers/team.js';

let team: Team | undefined;
afterEach(async () => {
  team?.cleanup();
  team = undefined;
  await new Promise((resolve) => setImmediate(resolve));
});

const value = valueOf;

function sync(c: Clone, ...args: string[]) {
  const r = c.cli(['sync', ...args]);
  ok(r);
  return r.json<{ Status: string; Commit: string; Signed?: boolean }>();
}

/** The commit's message and parents. */
function commit(c: Clone, rev = 'HEAD'): { message: string; parents: string[] } {
  return { message: c.git(['log', '-1', '--format=%B', rev]), parents: c.git(['log', '-1', '--format=%P', rev]).trim().split(' ').filter(Boolean) };
}

/** Everything a clone holds that a user sees: refs, HEAD, index, work tree. */
function state(c: Clone): string {
  return [c.git(['for-each-ref']), c.snapshot()].join('\n');
}

function teamWithDb(opts: Parameters<typeof makeTeam>[0] = {}): { t: Team; v1: string } {
  const t = makeTeam(opts);
  team = t;
  const v1 = create(t.a, 'db', 'v1');
  sync(t.a);
  expect(sync(t.b).Status).toBe('FastForwarded');
  return { t, v1 };
}

/** An attacker's edit of db's index: AWSCURRENT moved back to `to`. */
function rollback(to: string, from: string) {
  return (dir: string) => {
    const file = join(dir, 'secrets/db/secret.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(`AWSCURRENT: ${from}`, `AWSCURRENT: ${to}`));
  };
}

describe('issue 11 item 4: laundering through sync and the merge driver is refused', () => {
  it('sync refuses an unsigned remote commit (one line per refused commit), merges and signs nothing, and leaves both clones and the remote unchanged', () => {
    const { t, v1 } = teamWithDb();
    const a2 = put(t.a, 'db', 'a2');
    sync(t.a);
    sync(t.b);
    const evil = t.attack(rollback(v1, a2), 'roll db back');
    put(t.b, 'db', 'b3', ['beta']); // so sync has something to merge
    const [beforeA, beforeB, remote] = [state(t.a), state(t.b), t.remoteHead()];
    const r = t.b.cli(['sync']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain(`commit ${evil.slice(0, 12)} changes the store without a writer's signature`);
    expect(r.stderr).toContain('do not authenticate');
    expect(state(t.b)).toBe(beforeB);
    expect(state(t.a)).toBe(beforeA);
    expect(t.remoteHead()).toBe(remote);
    expect(value(t.b, 'db')).toBe('a2');
  }, 240_000);

  it('the merge driver refuses an unauthenticated incoming index (conflict markers and a one-line report naming the path), and sign refuses to conclude that merge', () => {
    const { t, v1 } = teamWithDb();
    const a2 = put(t.a, 'db', 'a2');
    sync(t.a);
    sync(t.b);
    t.attack(rollback(v1, a2), 'roll db back');
    put(t.b, 'db', 'b3', ['beta']);
    const head = t.b.git(['rev-parse', 'HEAD']).trim();
    let stderr = '';
    try {
      t.b.git(['-c', 'pull.rebase=false', 'pull', '--no-edit']);
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr);
    }
    expect(stderr).toMatch(/secretstore: secrets\/db\/secret\.yaml: refused to merge, left conflict markers: the incoming commit [0-9a-f]{12} does not authenticate/);
    expect(readFileSync(join(t.b.dir, 'secrets/db/secret.yaml'), 'utf8')).toContain('<<<<<<<');
    const signed = t.b.cli(['sign']);
    expect(signed.status).toBe(254);
    expect(signed.stderr).toContain('does not authenticate');
    expect(t.b.git(['rev-parse', 'HEAD']).trim()).toBe(head);
    t.b.git(['merge', '--abort']);
    expect(value(t.b, 'db')).toBe('a2');
  }, 240_000);
});

describe('issue 11 item 8: two offline puts, then plain git pull with the merge driver', () => {
  it('the unsigned merge commit is secretstore\'s own merge: readable in both clones, history authenticates', () => {
    const { t, v1 } = teamWithDb();
    const a2 = put(t.a, 'db', 'a2');
    sync(t.a);
    const b2 = put(t.b, 'db', 'b2', ['beta']);
    t.b.git(['-c', 'pull.rebase=false', 'pull', '-q', '--no-edit']);
    const merge = commit(t.b);
    expect(merge.parents).toHaveLength(2);
    expect(findSignature(merge.message)).toBeUndefined(); // merges are never signed by hooks
    expect([value(t.b, 'db'), value(t.b, 'db', 'beta'), value(t.b, 'db', 'AWSPREVIOUS')]).toEqual(['a2', 'b2', 'v1']);
    expect(t.b.git(['status', '--porcelain'])).toBe('');
    t.b.git(['push', '-q']);
    t.a.git(['pull', '-q']);
    expect(value(t.a, 'db', 'beta')).toBe('b2');
    expect([a2, b2, v1].every(Boolean)).toBe(true);
  }, 240_000);
});

describe('issue 11 item 9: sync --prefer newest with a contested AWSCURRENT', () => {
  it.each([
    ['by a writer: the merge commit is signed', []],
    ['by a non-writer: unsigned, with its Secretstore-Merge trailer, recomputed by readers', ['--identity', '/nonexistent/identity']],
  ])('%s; readable in both clones', (_what, extra) => {
    const { t } = teamWithDb();
    put(t.a, 'db', 'a2');
    sync(t.a);
    put(t.b, 'db', 'b2'); // newer
    const r = sync(t.b, '--prefer', 'newest', ...extra);
    expect(r.Status).toBe('Merged');
    const merge = commit(t.b);
    if (extra.length === 0) {
      expect(r.Signed).toBe(true);
      expect(findSignature(merge.message)).toBeDefined();
    } else {
      expect(r.Signed).toBe(false);
      expect(findSignature(merge.message)).toBeUndefined();
      expect(merge.message).toContain('Secretstore-Merge: prefer=newest');
    }
    expect(sync(t.a).Status).toBe('FastForwarded');
    for (const c of [t.a, t.b]) expect([value(c, 'db'), value(c, 'db', 'AWSPREVIOUS')]).toEqual(['b2', 'a2']);
  }, 240_000);
});

describe('issue 11 item 11: team flows on a branch not named main', () => {
  it('sync, plain git pull and pull --rebase on branch "trunk" end in readable stores', () => {
    const { t } = teamWithDb({ branch: 'trunk' });
    expect(t.b.git(['symbolic-ref', '--short', 'HEAD']).trim()).toBe('trunk');
    put(t.a, 'db', 'a2');
    sync(t.a);
    put(t.b, 'db', 'b2', ['beta']);
    expect(sync(t.b).Status).toBe('Merged');
    expect(sync(t.a).Status).toBe('FastForwarded');
    put(t.a, 'db', 'a3');
    t.a.git(['push', '-q']);
    put(t.b, 'db', 'b3', ['beta']);
    t.b.git(['pull', '-q', '--rebase']);
    t.b.git(['push', '-q']);
    t.a.git(['pull', '-q']);
    for (const c of [t.a, t.b]) expect([value(c, 'db'), value(c, 'db', 'beta')]).toEqual(['a3', 'b3']);
    expect(t.remoteHead()).toBe(t.a.git(['rev-parse', 'HEAD']).trim());
  }, 240_000);

  it('a first sync on a new branch pushes it and sets its upstream (push -u)', () => {
    const { t } = teamWithDb();
    t.b.git(['checkout', '-q', '-b', 'feature']);
    put(t.b, 'db', 'f1');
    expect(sync(t.b).Status).toBe('Pushed');
    expect(t.b.git(['config', '--get', 'branch.feature.remote']).trim()).toBe('origin');
    expect(t.b.git(['ls-remote', 'origin', 'refs/heads/feature']).split('\t')[0]).toBe(t.b.git(['rev-parse', 'HEAD']).trim());
  }, 240_000);
});

describe('git pull --rebase re-signs the writer\'s own commits (post-rewrite hook)', () => {
  it('a rebased put is signed again for its new parent and reads; an unsigned commit in the rebased range is not signed', () => {
    const { t, v1 } = teamWithDb();
    put(t.a, 'db', 'a2');
    sync(t.a);
    const b2 = put(t.b, 'db', 'b2', ['beta']);
    t.b.git(['pull', '-q', '--rebase']);
    const rebased = commit(t.b);
    expect(rebased.parents).toEqual([t.a.git(['rev-parse', 'HEAD']).trim()]);
    expect(findSignature(rebased.message)).toBeDefined();
    expect([value(t.b, 'db'), value(t.b, 'db', 'beta')]).toEqual(['a2', 'b2']);

    // An unsigned change (someone's plain commit past the hooks) rides in the range being rebased; it
    // touches another secret (on db the driver would refuse it: it does not authenticate).
    create(t.b, 'other', 'o1');
    put(t.a, 'db', 'a3');
    sync(t.a);
    put(t.b, 'db', 'b4', ['gamma']);
    const file = join(t.b.dir, 'secrets/other/secret.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^(lastChangedDate: .*)$/m, '$1\ndescription: by hand'));
    t.b.git(['commit', '-q', '--no-verify', '-am', 'other described by hand, unsigned']);
    t.b.git(['pull', '-q', '--rebase']);
    const [unsigned, own] = [commit(t.b, 'HEAD'), commit(t.b, 'HEAD~1')];
    expect(unsigned.message).toContain('other described by hand');
    expect(findSignature(unsigned.message)).toBeUndefined(); // never signed for someone
    expect(findSignature(own.message)).toBeDefined();
    expect(commit(t.b, 'HEAD~3').parents).toEqual([t.a.git(['rev-parse', 'HEAD']).trim()]);
    const read = t.b.cli(['get-secret-value', '--secret-id', 'db']);
    expect(read.status).toBe(254);
    expect(read.stderr).toContain('without a writer\'s signature');
  }, 240_000);
});

describe('a conflict resolved by hand, then secretstore sign', () => {
  it('sign concludes the merge: one commit with both parents, signed, readable in both clones', () => {
    const { t } = teamWithDb();
    put(t.a, 'db', 'a2');
    sync(t.a);
    put(t.b, 'db', 'b2');
    let stderr = '';
    try {
      t.b.git(['-c', 'pull.rebase=false', 'pull', '--no-edit']);
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr);
    }
    expect(stderr).toContain('contested');
    // Resolved by hand: theirs' index, as a person would pick it in an editor.
    t.b.git(['checkout', '--theirs', '--', 'secrets/db/secret.yaml']);
    const signed = t.b.cli(['sign']);
    ok(signed);
    const merge = commit(t.b);
    expect(merge.parents).toEqual([merge.parents[0], t.a.git(['rev-parse', 'HEAD']).trim()]);
    expect(findSignature(merge.message)).toBeDefined();
    expect(t.b.git(['status', '--porcelain'])).toBe('');
    expect(value(t.b, 'db')).toBe('a2');
    expect(sync(t.b).Status).toBe('Pushed');
    expect(sync(t.a).Status).toBe('FastForwarded');
    expect(value(t.a, 'db')).toBe('a2');
  }, 240_000);
});

describe('hooks: a plain git commit that changes the store', () => {
  it('is signed by the committer\'s writer key (commit-msg), and a non-writer is refused by pre-commit with what to do', () => {
    const { t } = teamWithDb();
    const file = join(t.b.dir, 'secrets/db/secret.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^(lastChangedDate: .*)$/m, '$1\ndescription: by hand'));
    t.b.git(['commit', '-q', '-am', 'describe db by hand']);
    expect(findSignature(commit(t.b).message)).toBeDefined();
    expect(t.b.cli(['describe-secret', '--secret-id', 'db']).json<{ Description: string }>().Description).toBe('by hand');
    writeFileSync(file, readFileSync(file, 'utf8').replace('description: by hand', 'description: again'));
    let stderr = '';
    try {
      t.b.git(['commit', '-q', '-am', 'not a writer'], { SECRETSTORE_IDENTITY: '/nonexistent/identity' });
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr);
    }
    expect(stderr).toContain('this commit changes the store, but');
    expect(stderr).toContain('readers would refuse it');
    expect(stderr).toContain('--no-verify');
  }, 240_000);
});
