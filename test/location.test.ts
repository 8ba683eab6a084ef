import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InvalidRequestException } from '../src/errors.js';
import { locateStore } from '../src/store/location.js';
import { makeRepo, tempDir, type TestRepo } from './helpers/repo.js';

let repo: TestRepo;
const cleanups: (() => void)[] = [];

beforeAll(() => {
  repo = makeRepo();
  mkdirSync(join(repo.dir, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(repo.dir, 'from-flag'));
  mkdirSync(join(repo.dir, 'from-env'));
  cleanups.push(() => repo.cleanup());
});
afterAll(() => cleanups.reverse().forEach((f) => f()));

function scratch(): string {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('locateStore', () => {
  test('the --store flag wins over $SECRETSTORE_DIR and the git top level', () => {
    const loc = locateStore({ store: 'from-flag', cwd: repo.dir, env: { SECRETSTORE_DIR: join(repo.dir, 'from-env') } });
    expect(loc).toEqual({
      root: join(repo.dir, 'from-flag'),
      repoRoot: repo.dir,
      gitDir: join(repo.dir, '.git'),
      prefix: 'from-flag/',
    });
  });

  test('$SECRETSTORE_DIR wins over the git top level, relative to cwd', () => {
    const loc = locateStore({ cwd: join(repo.dir, 'sub'), env: { SECRETSTORE_DIR: '../from-env' } });
    expect(loc.root).toBe(join(repo.dir, 'from-env'));
    expect(loc.prefix).toBe('from-env/');
  });

  test('without flag or env the store is the git top level of cwd, found from a subfolder', () => {
    const loc = locateStore({ cwd: join(repo.dir, 'sub', 'deeper'), env: {} });
    expect(loc).toEqual({ root: repo.dir, repoRoot: repo.dir, gitDir: join(repo.dir, '.git'), prefix: '' });
  });

  test('an empty flag or env value counts as unset', () => {
    const loc = locateStore({ store: '', cwd: join(repo.dir, 'sub'), env: { SECRETSTORE_DIR: '' } });
    expect(loc.root).toBe(repo.dir);
  });

  test('a store folder that does not exist yet is located (init creates it)', () => {
    const loc = locateStore({ store: 'not/yet/there', cwd: repo.dir, env: {} });
    expect(loc.root).toBe(join(repo.dir, 'not', 'yet', 'there'));
    expect(loc.prefix).toBe('not/yet/there/');
  });

  test('it does not run git (works with an empty PATH)', () => {
    const saved = process.env.PATH;
    process.env.PATH = '';
    try {
      expect(locateStore({ cwd: join(repo.dir, 'sub'), env: {} }).repoRoot).toBe(repo.dir);
    } finally {
      process.env.PATH = saved;
    }
  });

  test('a .git file (git worktree) points at the git directory; the work tree is its folder', () => {
    repo.write('README', 'x');
    repo.commitAll();
    const worktree = join(scratch(), 'wt');
    cleanups.push(() => repo.git('worktree', 'remove', '--force', worktree));
    repo.git('worktree', 'add', '-q', worktree);
    const loc = locateStore({ cwd: worktree, env: {} });
    expect(loc.repoRoot).toBe(worktree);
    expect(loc.gitDir).toBe(join(repo.dir, '.git', 'worktrees', 'wt'));
    expect(loc.prefix).toBe('');
  });

  test('a .git file with a relative gitdir (submodule style) is resolved from its folder', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'modules', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'modules', 'sub', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(join(dir, 'work', 'store'), { recursive: true });
    writeFileSync(join(dir, 'work', '.git'), 'gitdir: ../modules/sub\n');
    const loc = locateStore({ store: 'store', cwd: join(dir, 'work'), env: {} });
    expect(loc).toEqual({
      root: join(dir, 'work', 'store'),
      repoRoot: join(dir, 'work'),
      gitDir: join(dir, 'modules', 'sub'),
      prefix: 'store/',
    });
  });

  test('a .git file pointing nowhere is an InvalidRequestException, not a reason to look further up', () => {
    const dir = join(repo.dir, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, '.git'), 'gitdir: ./missing\n');
    expect(() => locateStore({ cwd: dir, env: {} })).toThrow(InvalidRequestException);
  });

  test('outside any git repository it throws InvalidRequestException saying to run git init', () => {
    const dir = scratch();
    let error: unknown;
    try {
      locateStore({ cwd: dir, env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidRequestException);
    expect((error as Error).name).toBe('InvalidRequestException');
    expect((error as Error).message).toBe(`${dir} is not inside a git repository; run git init first`);
  });
});
