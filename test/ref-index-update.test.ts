/**
 * The two git processes that move a transaction's HEAD and index (git/ref-updater.ts,
 * git/index-update.ts), against real repositories: the warm `update-ref --stdin` keeps git's
 * compare-and-swap and survives a failed one; `update-index`, started by the warm shell with the paths
 * on its input, stages exactly those paths, whatever their names hold, or fails on a held index lock.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GitCommandError } from '../src/git/env.js';
import { updateIndexPaths } from '../src/git/index-update.js';
import { RefUpdater } from '../src/git/ref-updater.js';
import { isolateGitConfig, makeRepo, type TestRepo } from './helpers/repo.js';

const repos: TestRepo[] = [];
const updaters: RefUpdater[] = [];
beforeAll(() => isolateGitConfig());
afterAll(() => {
  updaters.forEach((u) => u.close());
  repos.forEach((r) => r.cleanup());
});

function repo(): TestRepo {
  const r = makeRepo();
  repos.push(r);
  return r;
}

/** A repository with two commits, HEAD on the second. */
function twoCommits(): { r: TestRepo; one: string; two: string } {
  const r = repo();
  r.write('a.txt', 'a\n');
  const one = r.commitAll('one');
  r.write('a.txt', 'b\n');
  return { r, one, two: r.commitAll('two') };
}

function updater(r: TestRepo): RefUpdater {
  const u = new RefUpdater(r.dir);
  updaters.push(u);
  return u;
}

describe('RefUpdater (a warm update-ref --stdin)', () => {
  test('moves HEAD by compare-and-swap, again and again, each move in the reflog with its message', async () => {
    const { r, one, two } = twoCommits();
    const u = updater(r);
    await u.update('HEAD', one, two, 'secretstore: back');
    expect(r.head()).toBe(one);
    await u.update('HEAD', two, one, 'secretstore: back');
    await u.update('HEAD', one, two, 'secretstore: other');
    expect(r.head()).toBe(one);
    expect(r.git('reflog', '-3', '--format=%H %gs').trim().split('\n')).toEqual([`${one} secretstore: other`, `${two} secretstore: back`, `${one} secretstore: back`]);
    // The branch moved, not a detached HEAD.
    expect(r.git('symbolic-ref', 'HEAD').trim()).toMatch(/^refs\/heads\//);
  });

  test('an update from a value HEAD no longer has fails with git\'s words and moves nothing; the next update works', async () => {
    const { r, one, two } = twoCommits();
    const u = updater(r);
    const failed = await u.update('HEAD', one, one, 'secretstore: stale').then(() => undefined, (err: unknown) => err);
    expect(failed).toBeInstanceOf(GitCommandError);
    expect((failed as GitCommandError).stderr).toMatch(/but expected/);
    expect(r.head()).toBe(two);
    await u.update('HEAD', one, two, 'secretstore: stale');
    expect(r.head()).toBe(one);
  });
});

describe('updateIndexPaths (update-index through the warm shell)', () => {
  test('stages exactly the given paths, whatever bytes their names hold', async () => {
    const r = repo();
    const odd = "it's $(touch pwned) é\nline.txt";
    r.write('a.txt', 'a\n');
    r.write('b.txt', 'b\n');
    r.write(odd, 'odd\n');
    r.commitAll();
    r.write('a.txt', 'changed\n');
    r.write('b.txt', 'changed too\n');
    r.write(odd, 'odd, changed\n');
    await updateIndexPaths(r.dir, ['a.txt', odd]);
    expect(existsSync(join(r.gitDir, 'index.lock'))).toBe(false);
    expect(existsSync(join(r.dir, 'pwned'))).toBe(false);
    expect(r.git('diff', '--cached', '-z', '--name-only').split('\0').filter(Boolean).sort()).toEqual(['a.txt', odd].sort());
  });

  test("while a user's git command holds index.lock, it fails naming the lock and changes nothing", async () => {
    const r = repo();
    r.write('a.txt', 'a\n');
    r.commitAll();
    r.write('a.txt', 'changed\n');
    const before = readFileSync(join(r.gitDir, 'index'));
    r.write('.git/index.lock', '');
    const failed = await updateIndexPaths(r.dir, ['a.txt']).then(() => undefined, (err: unknown) => err);
    expect(failed).toBeInstanceOf(GitCommandError);
    expect((failed as GitCommandError).stderr).toMatch(/index\.lock.*File exists/);
    expect(readFileSync(join(r.gitDir, 'index'))).toEqual(before);
  });
});
