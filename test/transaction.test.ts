import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { InternalServiceError, InvalidParameterException, InvalidRequestException } from '../src/errors.js';
import { expandFaultPoints, RECOVERY_FAULT_POINTS } from '../src/store/fault.js';
import { locateStore } from '../src/store/location.js';
import { LOCK_FILE } from '../src/store/lock.js';
import { recoverStale, transact } from '../src/store/transaction.js';
import type { FileChange, Plan, StoreLocation } from '../src/model/repository.js';
import { gitCallLog } from './helpers/git-calls.js';
import { makeRepo, type TestRepo } from './helpers/repo.js';
import { fileDriver, runDriver } from './helpers/spawn-driver.js';

const STORE = 'vault';
/** Three writes (a change, a new file in new folders, a new file) and a delete that empties its folder. */
const CHANGES: FileChange[] = [
  { path: 'mod.txt', content: 'new mod\n' },
  { path: 'olddir/gone.txt', delete: true },
  { path: 'new/deep/a.txt', content: 'new a\n' },
  { path: 'b.txt', content: 'new b\n' },
];
const OLD = { 'mod.txt': 'old mod\n', 'olddir/gone.txt': 'gone\n', 'new/deep/a.txt': undefined, 'b.txt': undefined };
const NEW = { 'mod.txt': 'new mod\n', 'olddir/gone.txt': undefined, 'new/deep/a.txt': 'new a\n', 'b.txt': 'new b\n' };
const MESSAGE = 'put-secret-value: demo\n\nversion: 1\n';

const driver = fileDriver();
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((f) => f()));

function repo(opts?: { identity?: boolean }): TestRepo {
  const r = makeRepo(opts);
  cleanups.push(() => r.cleanup());
  return r;
}

/** A repository holding the OLD state of the store, committed. */
function seeded(): { r: TestRepo; loc: StoreLocation; base: string } {
  const r = repo();
  r.write('README.md', 'readme\n');
  r.write(`${STORE}/mod.txt`, OLD['mod.txt']);
  r.write(`${STORE}/keep.txt`, 'keep\n');
  r.write(`${STORE}/olddir/gone.txt`, OLD['olddir/gone.txt']);
  const base = r.commitAll();
  return { r, loc: locateStore({ store: STORE, cwd: r.dir, env: {} }), base };
}

function plan<T>(changes: readonly FileChange[], result?: T): () => Promise<Plan<T | undefined>> {
  return async () => ({ result, changes, message: MESSAGE });
}

function storeFiles(r: TestRepo, paths: readonly string[]): Record<string, string | undefined> {
  return Object.fromEntries(paths.map((p) => [p, r.read(`${STORE}/${p}`)]));
}

function changedPaths(r: TestRepo, commit: string): string[] {
  return r.git('diff-tree', '--root', '--no-commit-id', '--name-status', '-r', commit).trim().split('\n').sort();
}

function parentOf(r: TestRepo, commit: string): string {
  return r.git('rev-list', '--parents', '-n1', commit).trim().split(' ')[1] ?? '(unborn)';
}

/** Our files left in .git (a temp index, a lock, a journal...). */
function leftovers(r: TestRepo): string[] {
  return r.snapshot().gitDirLeftovers;
}

/** The git subcommands `fn` starts, sorted (helpers/git-calls.ts). */
async function gitCalls(fn: () => Promise<unknown>): Promise<string[]> {
  const log = gitCallLog();
  cleanups.push(log.cleanup);
  const saved = process.env.PATH;
  process.env.PATH = `${log.bin}:${saved ?? ''}`;
  try {
    await fn();
  } finally {
    process.env.PATH = saved;
  }
  return log.calls();
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('transact', () => {
  test('commits exactly the planned paths as one commit with the message, and leaves git status empty', async () => {
    const { r, loc, base } = seeded();
    const result = await transact(loc, plan(CHANGES, 'done'));
    expect(result).toBe('done');
    expect(r.commitCount()).toBe(2);
    expect(r.git('rev-parse', 'HEAD^').trim()).toBe(base);
    expect(r.git('log', '-1', '--format=%B')).toBe(`${MESSAGE}\n`);
    expect(changedPaths(r, 'HEAD')).toEqual(
      ['A\tvault/b.txt', 'A\tvault/new/deep/a.txt', 'D\tvault/olddir/gone.txt', 'M\tvault/mod.txt'].sort(),
    );
    expect(storeFiles(r, Object.keys(NEW))).toEqual(NEW);
    expect(existsSync(join(r.dir, STORE, 'olddir'))).toBe(false); // the delete emptied it
    expect(r.status()).toBe('');
    expect(leftovers(r)).toEqual([]);
    // The reflog names the operation; the commit's subject says the rest.
    expect(r.git('reflog', '-1', '--format=%gs').trim()).toBe('secretstore: put-secret-value');
  });

  test('binary content is written and committed byte for byte', async () => {
    const { r, loc } = seeded();
    const bytes = new Uint8Array([0, 255, 10, 13, 128, 1]);
    await transact(loc, plan([{ path: 'bin.sealed', content: bytes }]));
    expect(readFileSync(join(r.dir, STORE, 'bin.sealed'))).toEqual(Buffer.from(bytes));
    expect(execFileSync('git', ['cat-file', 'blob', 'HEAD:vault/bin.sealed'], { cwd: r.dir })).toEqual(Buffer.from(bytes));
    expect(r.status()).toBe('');
  });

  test("a user's other staged changes stay staged and out of the commit", async () => {
    const { r, loc } = seeded();
    r.write('notes.txt', 'staged new file\n');
    r.write('README.md', 'staged edit\n');
    r.git('add', 'notes.txt', 'README.md');
    r.write('README.md', 'staged edit\nplus an unstaged line\n');
    await transact(loc, plan(CHANGES));
    expect(changedPaths(r, 'HEAD')).not.toContain('A\tnotes.txt');
    expect(changedPaths(r, 'HEAD').every((line) => line.includes('vault/'))).toBe(true);
    expect(r.git('diff', '--cached', '--name-status').trim().split('\n')).toEqual(['M\tREADME.md', 'A\tnotes.txt']);
    expect(r.git('show', ':README.md')).toBe('staged edit\n');
    expect(r.read('README.md')).toBe('staged edit\nplus an unstaged line\n');
    expect(r.status()).toBe('MM README.md\nA  notes.txt\n');
  });

  test('an empty plan makes no commit and leaves no lock behind', async () => {
    const { r, loc, base } = seeded();
    let ran = false;
    const result = await transact(loc, async () => ((ran = true), { result: 42, changes: [], message: 'nothing' }));
    expect([ran, result]).toEqual([true, 42]);
    expect(r.head()).toBe(base);
    expect(r.snapshot().gitDirLeftovers).toEqual([]);
  });

  test('a plan that only rewrites current bytes (or deletes absent files) makes no commit', async () => {
    const { r, loc, base } = seeded();
    await transact(loc, plan([{ path: 'mod.txt', content: OLD['mod.txt'] }, { path: 'nothing.txt', delete: true }]));
    expect(r.head()).toBe(base);
    expect(r.status()).toBe('');
  });

  test('an error thrown by work() leaves HEAD, index and work tree as they were', async () => {
    const { r, loc } = seeded();
    r.write('README.md', 'user edit\n');
    const before = r.snapshot();
    const err = await rejection(transact(loc, async () => Promise.reject(new Error('boom'))));
    expect(err.message).toBe('boom');
    expect(r.snapshot()).toEqual(before);
  });

  test('a write failing midway (a folder where a file is) is rolled back byte for byte', async () => {
    const { r, loc } = seeded();
    const before = r.snapshot();
    const changes: FileChange[] = [...CHANGES, { path: 'keep.txt/under-a-file', content: 'x' }];
    const err = await rejection(transact(loc, plan(changes)));
    expect((err as NodeJS.ErrnoException).code).toMatch(/ENOTDIR|EEXIST/);
    expect(r.snapshot()).toEqual(before);
  });

  test('update-ref failing (a reference-transaction hook refuses) is rolled back byte for byte', async () => {
    const { r, loc } = seeded();
    const hook = join(r.gitDir, 'hooks', 'reference-transaction');
    writeFileSync(hook, '#!/bin/sh\n[ "$1" = prepared ] && exit 1\nexit 0\n');
    chmodSync(hook, 0o755);
    const before = r.snapshot();
    const err = await rejection(transact(loc, plan(CHANGES)));
    expect(err).toBeInstanceOf(InternalServiceError);
    expect(err.message).toMatch(/^git update-ref failed/);
    expect(r.snapshot()).toEqual(before);
    rmSync(hook);
    await transact(loc, plan(CHANGES)); // and the next one works
    expect(r.status()).toBe('');
  });

  describe('refuses to touch a path the user changed, with InvalidRequestException, changing nothing', () => {
    const cases: [string, (r: TestRepo) => void, RegExp][] = [
      ['an unstaged edit', (r) => r.write(`${STORE}/mod.txt`, 'edit\n'), /^vault\/mod\.txt has uncommitted changes; commit or discard them first$/],
      ['a staged edit', (r) => (r.write(`${STORE}/mod.txt`, 'edit\n'), r.git('add', '.')), /^vault\/mod\.txt has uncommitted changes/],
      ['a deletion', (r) => rmSync(join(r.dir, STORE, 'olddir', 'gone.txt')), /^vault\/olddir\/gone\.txt has uncommitted changes/],
      ['an untracked file', (r) => r.write(`${STORE}/b.txt`, 'mine\n'), /^vault\/b\.txt is untracked; commit or delete it first$/],
      // Cases the in-process check must see as git status does (work-tree.ts): the index differs, the work tree not...
      ['a staged edit undone in the work tree', (r) => (r.write(`${STORE}/mod.txt`, 'edit\n'), r.git('add', '.'), r.write(`${STORE}/mod.txt`, OLD['mod.txt'])), /^vault\/mod\.txt has uncommitted changes/],
      ['a new file staged, then deleted', (r) => (r.write(`${STORE}/b.txt`, 'mine\n'), r.git('add', '.'), rmSync(join(r.dir, STORE, 'b.txt'))), /^vault\/b\.txt has uncommitted changes/],
      ['a file marked intent-to-add', (r) => (r.write(`${STORE}/b.txt`, 'mine\n'), r.git('add', '-N', `${STORE}/b.txt`)), /^vault\/b\.txt has uncommitted changes/],
      // ...the bytes are the same but the mode is not, or a file changed within the index's timestamp (racy git).
      ['an executable bit set by hand', (r) => chmodSync(join(r.dir, STORE, 'mod.txt'), 0o755), /^vault\/mod\.txt has uncommitted changes/],
      ['an edit of the same size right after the index was written', (r) => r.write(`${STORE}/mod.txt`, 'OLD MOD\n'), /^vault\/mod\.txt has uncommitted changes/],
      [
        'an ignored file',
        (r) => (r.write('.git/info/exclude', 'a.txt\n'), r.write(`${STORE}/new/deep/a.txt`, 'mine\n')),
        /^vault\/new\/deep\/a\.txt exists but is ignored by git/,
      ],
    ];
    test.each(cases)('%s', async (_name, edit, message) => {
      const { r, loc } = seeded();
      edit(r);
      const before = r.snapshot();
      const err = await rejection(transact(loc, plan(CHANGES)));
      expect(err).toBeInstanceOf(InvalidRequestException);
      expect(err.message).toMatch(message);
      expect(r.snapshot()).toEqual(before);
    });
  });

  test('a path that leaves the store folder is rejected with InvalidParameterException', async () => {
    const { r, loc } = seeded();
    const before = r.snapshot();
    for (const path of ['../escape.txt', '/abs', 'a//b', '.git/config', 'x/./y']) {
      const err = await rejection(transact(loc, plan([{ path, content: 'x' }])));
      expect(err).toBeInstanceOf(InvalidParameterException);
    }
    expect(r.snapshot()).toEqual(before);
  });

  test('works on an unborn branch: the first commit has no parent and status is empty', async () => {
    const r = repo();
    const loc = locateStore({ store: STORE, cwd: r.dir, env: {} });
    await transact(loc, plan([{ path: '.secretstore.yaml', content: 'format: 1\n' }]));
    expect(r.commitCount()).toBe(1);
    expect(r.git('log', '-1', '--format=%P').trim()).toBe('');
    expect(r.git('ls-tree', '-r', '--name-only', 'HEAD').trim()).toBe('vault/.secretstore.yaml');
    expect(r.git('symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
    expect(r.status()).toBe('');
  });

  test('without a git identity the commit is made by secretstore <secretstore@localhost>', async () => {
    const r = repo({ identity: false });
    const loc = locateStore({ cwd: r.dir, env: {} });
    const saved = { ...process.env };
    // user.useConfigOnly makes git refuse to guess an identity from the host name, as on a bare CI box.
    Object.assign(process.env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.useConfigOnly', GIT_CONFIG_VALUE_0: 'true' });
    for (const key of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) {
      delete process.env[key];
    }
    try {
      await transact(loc, plan([{ path: 'a.txt', content: 'a' }]));
    } finally {
      process.env = saved;
    }
    expect(r.git('log', '-1', '--format=%an <%ae> / %cn <%ce>').trim()).toBe(
      'secretstore <secretstore@localhost> / secretstore <secretstore@localhost>',
    );
  });

  test('GIT_AUTHOR_* and GIT_COMMITTER_* from the environment reach git', async () => {
    const { r, loc } = seeded();
    const saved = { ...process.env };
    Object.assign(process.env, { GIT_AUTHOR_NAME: 'Env Author', GIT_COMMITTER_EMAIL: 'env@committer' });
    try {
      await transact(loc, plan(CHANGES));
    } finally {
      process.env = saved;
    }
    expect(r.git('log', '-1', '--format=%an / %ce').trim()).toBe('Env Author / env@committer');
  });
});

describe('the lock', () => {
  function holdLock(r: TestRepo, holder: object): string {
    const path = join(r.gitDir, LOCK_FILE);
    writeFileSync(path, JSON.stringify({ startedAt: new Date().toISOString(), paths: [], nonce: 'test', ...holder }));
    return path;
  }

  test('a live holder makes a writer wait, then fail with InternalServiceError naming its pid', async () => {
    const { r, loc, base } = seeded();
    const lock = holdLock(r, { pid: process.pid });
    process.env.SECRETSTORE_LOCK_TIMEOUT_MS = '150';
    let ran = false;
    try {
      const started = Date.now();
      const err = await rejection(transact(loc, async () => ((ran = true), { result: 1, changes: CHANGES, message: 'm' })));
      expect(err).toBeInstanceOf(InternalServiceError);
      expect(err.message).toContain(`held by pid ${process.pid}`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      delete process.env.SECRETSTORE_LOCK_TIMEOUT_MS;
    }
    expect(ran).toBe(false);
    expect(existsSync(lock)).toBe(true); // not ours to remove
    expect(r.head()).toBe(base);
  });

  test('a waiting writer proceeds as soon as the holder releases', async () => {
    const { r, loc } = seeded();
    const lock = holdLock(r, { pid: process.pid });
    setTimeout(() => rmSync(lock), 100);
    await transact(loc, plan(CHANGES));
    expect(r.commitCount()).toBe(2);
  });

  test("a dead holder's journal is restored to HEAD before the next writer runs", async () => {
    const { r, loc, base } = seeded();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    // What a writer killed halfway leaves: files written, a temp file, a staged path, the journal.
    r.write(`${STORE}/mod.txt`, 'half written\n');
    r.write(`${STORE}/b.txt`, 'new b\n');
    r.git('add', `${STORE}/b.txt`);
    r.write(`${STORE}/.a.txt.secretstore-tmp`, 'temp');
    rmSync(join(r.dir, STORE, 'olddir'), { recursive: true });
    holdLock(r, { pid: dead, paths: ['vault/mod.txt', 'vault/b.txt', 'vault/a.txt', 'vault/olddir/gone.txt'] });
    let seen: Record<string, string | undefined> = {};
    await transact(loc, async () => {
      seen = storeFiles(r, Object.keys(OLD));
      return { result: null, changes: [], message: '' };
    });
    expect(seen).toEqual(OLD);
    expect(r.head()).toBe(base);
    expect(r.status()).toBe('');
    expect(r.snapshot().gitDirLeftovers).toEqual([]);
  });
});

describe('crashes (SIGKILL at every fault point)', () => {
  const spec = (r: TestRepo, changes = CHANGES) => ({ cwd: r.dir, store: STORE, changes, message: MESSAGE });

  /**
   * After the crash: the next transaction (here in-process, committing after.txt) recovers; then the
   * repository must hold exactly the old or exactly the new state, clean, with one commit more.
   */
  async function expectRecovered(r: TestRepo, base: string, state: 'old' | 'new', paths: Record<string, unknown>) {
    const loc = locateStore({ store: STORE, cwd: r.dir, env: {} });
    await transact(loc, plan([{ path: 'after.txt', content: 'after\n' }]));
    const parent = parentOf(r, 'HEAD');
    if (state === 'old') {
      expect(parent).toBe(base);
    } else {
      const crashed = parent;
      expect(parentOf(r, crashed)).toBe(base);
      expect(r.git('log', '-1', '--format=%B', crashed)).toBe(`${MESSAGE}\n`);
    }
    expect(storeFiles(r, Object.keys(paths))).toEqual(paths);
    expect(r.status()).toBe('');
    expect(leftovers(r)).toEqual([]);
  }

  const points = expandFaultPoints(CHANGES);
  test('the fault points cover every step', () => {
    expect(points).toEqual([
      'after-lock', 'after-journal', 'after-temp-1', 'after-write-1', 'after-write-2', 'after-temp-3',
      'after-write-3', 'after-temp-4', 'after-write-4', 'after-blobs', 'after-trees', 'after-commit-tree',
      'after-update-ref', 'after-index', 'before-unlock',
    ]);
  });

  // HEAD made by the user, or by an earlier secretstore transaction.
  const cases = points.flatMap((p, i) =>
    (['a user', 'secretstore'] as const).map((by) => [p, by, i < points.indexOf('after-update-ref') ? 'old' : 'new'] as const),
  );
  test.each(cases)(
    'killed at %s (HEAD made by %s): the repository holds the %s state and the next transaction succeeds',
    async (point, by, state) => {
      const { r, loc } = seeded();
      if (by === 'secretstore') await transact(loc, plan([{ path: 'warm.txt', content: 'warm\n' }]));
      const base = r.head();
      const run = await runDriver(driver(), spec(r), { SECRETSTORE_FAULT_AT: point });
      expect(run.signal).toBe('SIGKILL');
      expect(existsSync(join(r.gitDir, LOCK_FILE))).toBe(true);
      expect(state === 'old' ? r.head() : parentOf(r, 'HEAD')).toBe(base);
      await expectRecovered(r, base, state, state === 'old' ? OLD : NEW);
    },
  );

  test('a CLI writer updates the index while it writes its objects: killed once its commit object exists, the index is ahead of HEAD, and the next transaction brings it back', async () => {
    const { r, base } = seeded();
    const run = await runDriver(driver(), spec(r), { SECRETSTORE_FAULT_AT: 'after-commit-tree' });
    expect(run.signal).toBe('SIGKILL');
    // The update-index the writer asked for before its commit existed ends on its own (its shell outlives the writer).
    const staged = () => r.git('diff', '--cached', '--name-only').trim().split('\n').sort();
    await vi.waitFor(() => expect(staged()).toEqual(CHANGES.map((c) => `${STORE}/${c.path}`).sort()), { timeout: 20_000 });
    expect(r.head()).toBe(base);
    await expectRecovered(r, base, 'old', OLD);
  });

  const unborn: FileChange[] = [
    { path: '.secretstore.yaml', content: 'format: 1\n' },
    { path: 'secrets/x/secret.yaml', content: 'name: x\n' },
  ];
  const unbornPoints = expandFaultPoints(unborn);
  test.each(unbornPoints.map((p, i) => [p, i < unbornPoints.indexOf('after-update-ref') ? 'old' : 'new'] as const))(
    'on an unborn branch, killed at %s: the repository holds the %s state',
    async (point, state) => {
      const r = repo();
      const run = await runDriver(driver(), spec(r, unborn), { SECRETSTORE_FAULT_AT: point });
      expect(run.signal).toBe('SIGKILL');
      const expected = { '.secretstore.yaml': 'format: 1\n', 'secrets/x/secret.yaml': 'name: x\n' };
      await expectRecovered(r, '(unborn)', state, state === 'old' ? { '.secretstore.yaml': undefined, 'secrets/x/secret.yaml': undefined } : expected);
      expect(existsSync(join(r.dir, STORE, 'secrets'))).toBe(state === 'new');
    },
  );

  test('a writer killed while recovering a dead writer is itself recovered by the next one', async () => {
    const { r, base } = seeded();
    expect((await runDriver(driver(), spec(r), { SECRETSTORE_FAULT_AT: 'after-write-3' })).signal).toBe('SIGKILL');
    for (const point of RECOVERY_FAULT_POINTS) {
      const other = spec(r, [{ path: 'other.txt', content: 'other\n' }]);
      expect((await runDriver(driver(), other, { SECRETSTORE_FAULT_AT: point })).signal).toBe('SIGKILL');
    }
    await expectRecovered(r, base, 'old', OLD);
  });

  test('recoverStale repairs a dead writer for a reader, and is a no-op otherwise', async () => {
    const { r, loc, base } = seeded();
    expect(await recoverStale(loc)).toBe(false);
    expect((await runDriver(driver(), spec(r), { SECRETSTORE_FAULT_AT: 'after-write-4' })).signal).toBe('SIGKILL');
    expect(r.status()).not.toBe('');
    expect(await recoverStale(loc)).toBe(true);
    expect(r.head()).toBe(base);
    expect(storeFiles(r, Object.keys(OLD))).toEqual(OLD);
    expect(r.status()).toBe('');
  });

  test('five writers finding the same dead lock: one recovers it, all five commit', async () => {
    const { r, base } = seeded();
    expect((await runDriver(driver(), spec(r), { SECRETSTORE_FAULT_AT: 'after-write-3' })).signal).toBe('SIGKILL');
    const runs = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => runDriver(driver(), spec(r, [{ path: `r${i}.txt`, content: `${i}\n` }]))),
    );
    expect(runs.map((run) => [run.code, run.stderr])).toEqual(runs.map(() => [0, '']));
    expect(r.git('rev-parse', 'HEAD~5').trim()).toBe(base);
    expect(storeFiles(r, Object.keys(OLD))).toEqual(OLD);
    expect(r.status()).toBe('');
    expect(leftovers(r)).toEqual([]);
  });
});

describe('commits built from the parent\'s trees', () => {
  /** The tree git itself makes of `commit`'s parent with the planned paths added from the work tree. */
  function treeByGit(r: TestRepo, commit: string, paths: readonly string[]): string {
    const index = join(r.gitDir, 'reference.index');
    const env = { ...process.env, GIT_INDEX_FILE: index };
    execFileSync('git', ['read-tree', `${commit}^`], { cwd: r.dir, env });
    execFileSync('git', ['update-index', '--add', '--remove', '--', ...paths], { cwd: r.dir, env });
    const tree = execFileSync('git', ['write-tree'], { cwd: r.dir, env, encoding: 'utf8' }).trim();
    rmSync(index);
    return tree;
  }

  test('the commit holds exactly the tree git would make of the parent and the changed files', async () => {
    const { r, loc } = seeded();
    await transact(loc, plan(CHANGES));
    const paths = CHANGES.map((c) => `${STORE}/${c.path}`);
    expect(r.git('rev-parse', 'HEAD^{tree}').trim()).toBe(treeByGit(r, 'HEAD', paths));
    expect(r.git('ls-tree', '-r', '--name-only', 'HEAD').trim().split('\n')).toEqual(
      ['README.md', 'vault/b.txt', 'vault/keep.txt', 'vault/mod.txt', 'vault/new/deep/a.txt'],
    );
  });

  test('tree ids computed in process match git: a folder sorts as if its name ended in "/" (a, a-b, a.b, a/ , a0)', async () => {
    const { r, loc } = seeded();
    const changes: FileChange[] = ['x/a-b', 'x/a.b', 'x/a/c.txt', 'x/a0', 'x/a/b/d.txt', 'x/ab', 'x/a'.replace('a', 'A')].map((p) => ({ path: p, content: `${p}\n` }));
    await transact(loc, plan(changes));
    const paths = changes.map((c) => `${STORE}/${c.path}`);
    expect(r.git('rev-parse', 'HEAD^{tree}').trim()).toBe(treeByGit(r, 'HEAD', paths));
    // fsck checks every tree's entry order and that every object the commit names exists.
    expect(spawnSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: r.dir, encoding: 'utf8' }).status).toBe(0);
    expect(r.status()).toBe('');
  });

  test('paths with quotes, spaces, $(...) and non-ASCII letters reach update-index through the warm shell intact: git status is clean', async () => {
    const { r, loc } = seeded();
    const names = [`it's "quoted".txt`, 'sub/$(touch pwned) `touch pwned` x.txt', 'grüße.txt'];
    await transact(loc, plan(names.map((p) => ({ path: p, content: `${p}\n` }))));
    expect(r.status()).toBe('');
    expect(existsSync(join(r.dir, STORE, 'pwned'))).toBe(false);
    expect(existsSync(join(r.dir, 'pwned'))).toBe(false);
    for (const n of names) expect(r.git('show', `HEAD:${STORE}/${n}`)).toBe(`${n}\n`);
  });

  test('more paths than go to update-index as arguments (over 32 KB of names) reach it on its input: git status is clean', async () => {
    const { r, loc } = seeded();
    const names = Array.from({ length: 700 }, (_, i) => `many/${String(i).padStart(4, '0')}-${'x'.repeat(50)}.txt`);
    await transact(loc, plan(names.map((p) => ({ path: p, content: `${p}\n` }))));
    expect(r.status()).toBe('');
    expect(r.git('ls-files', `${STORE}/many`).trim().split('\n')).toHaveLength(700);
  });

  test('an executable file is committed with mode 100755, and deleting the last file of the store leaves an empty tree', async () => {
    const r = repo();
    const loc = locateStore({ store: STORE, cwd: r.dir, env: {} });
    await transact(loc, plan([{ path: 'run.sh', content: '#!/bin/sh\n', executable: true }]));
    expect(r.git('ls-tree', 'HEAD', 'vault/run.sh').split(' ')[0]).toBe('100755');
    expect(r.status()).toBe('');
    await transact(loc, plan([{ path: 'run.sh', delete: true }]));
    expect(r.git('rev-parse', 'HEAD^{tree}').trim()).toBe(r.git('hash-object', '-t', 'tree', '/dev/null').trim());
    expect(r.status()).toBe('');
  });

  test('git runs no read-tree, write-tree or status: the object writers, update-ref, update-index', async () => {
    const { r, loc } = seeded();
    const calls = await gitCalls(() => transact(loc, plan(CHANGES)));
    // cat-file reads HEAD and the trees on the paths; hash-object writes the blobs, mktree the trees; the
    // paths are checked against the index file and the work tree in process; update-ref (--stdin) moves
    // HEAD; update-index, started (by the shell of git/launcher.ts) as soon as the files are written, runs
    // while the objects are.
    expect(calls.filter((c) => c !== 'update-index')).toEqual(['cat-file', 'commit-tree', 'hash-object', 'mktree', 'update-ref']);
    expect(calls.filter((c) => c === 'update-index')).toHaveLength(1);
    expect(r.status()).toBe('');
  });

  test('an index this process does not read (split) is checked by git status, and the commit is the same', async () => {
    const { r, loc } = seeded();
    r.git('update-index', '--split-index');
    const calls = await gitCalls(() => transact(loc, plan(CHANGES)));
    expect(calls).toContain('status');
    expect(changedPaths(r, 'HEAD')).toEqual(['A\tvault/b.txt', 'A\tvault/new/deep/a.txt', 'D\tvault/olddir/gone.txt', 'M\tvault/mod.txt'].sort());
    expect(r.status()).toBe('');
  });

  test('a warm commit object is byte for byte the one git commit-tree makes', async () => {
    const { r, loc } = seeded();
    await transact(loc, plan([{ path: 'first.txt', content: 'first\n' }])); // by commit-tree
    await transact(loc, plan(CHANGES)); // by the warm writer
    const head = r.head();
    const [tree, parent, authorDate, committerDate] = r.git('log', '-1', '--format=%T%n%P%n%ad%n%cd', '--date=raw', head).trim().split('\n');
    const env = { ...process.env, GIT_AUTHOR_DATE: authorDate!, GIT_COMMITTER_DATE: committerDate! };
    const again = execFileSync('git', ['commit-tree', tree!, '-p', parent!, '-m', MESSAGE], { cwd: r.dir, env, encoding: 'utf8' }).trim();
    expect(again).toBe(head);
  });

  test('later transactions in the same process reuse the warm object writers, commits included', async () => {
    const { r, loc } = seeded();
    await transact(loc, plan([{ path: 'first.txt', content: 'first\n' }]));
    const second = await gitCalls(() => transact(loc, plan([{ path: 'second.txt', content: 'second\n' }])));
    // A second mktree (a commit's trees go two at a time from now on) and the commit writer start; HEAD
    // moves through the update-ref the first transaction started (the same reflog message), and
    // update-index is started by the shell it started (git/launcher.ts), which keeps the PATH it had, so
    // this wrapper does not see it.
    expect(second).toEqual(['hash-object', 'mktree', 'var']);
    // From the third on, fast-import writes the commits (git/fast-import.ts); from the fourth on, nothing starts.
    expect(await gitCalls(() => transact(loc, plan([{ path: 'third.txt', content: 'third\n' }])))).toEqual(['fast-import']);
    const calls = await gitCalls(() => transact(loc, plan(CHANGES)));
    expect(calls).toEqual([]);
    expect(r.git('reflog', '-4', '--format=%gs').trim().split('\n')).toEqual(Array(4).fill('secretstore: put-secret-value'));
    expect(r.git('show', 'HEAD:vault/first.txt')).toBe('first\n');
    expect(r.status()).toBe('');
  });

  test("after a user's commit (HEAD moved), the next transaction builds on it without reading the whole tree", async () => {
    const { r, loc } = seeded();
    await transact(loc, plan([{ path: 'first.txt', content: 'first\n' }]));
    r.write(`${STORE}/user.txt`, 'by hand\n');
    r.write('README.md', 'edited by hand\n');
    const user = r.commitAll('by hand');
    const calls = await gitCalls(() => transact(loc, plan(CHANGES)));
    expect(calls).not.toContain('read-tree');
    expect(calls).not.toContain('write-tree');
    expect(parentOf(r, 'HEAD')).toBe(user);
    expect(r.git('show', 'HEAD:vault/user.txt')).toBe('by hand\n');
    expect(r.git('show', 'HEAD:README.md')).toBe('edited by hand\n');
    expect(changedPaths(r, 'HEAD')).toHaveLength(4);
    expect(r.status()).toBe('');
  });

  test('after a reset to an older commit, the next transaction builds on that commit', async () => {
    const { r, loc } = seeded();
    await transact(loc, plan([{ path: 'first.txt', content: 'first\n' }]));
    const first = r.head();
    await transact(loc, plan([{ path: 'second.txt', content: 'second\n' }]));
    r.git('reset', '-q', '--hard', first);
    await transact(loc, plan([{ path: 'third.txt', content: 'third\n' }]));
    expect(parentOf(r, 'HEAD')).toBe(first);
    expect(changedPaths(r, 'HEAD')).toEqual(['A\tvault/third.txt']);
    expect(r.status()).toBe('');
  });

  test('a file rewritten with other bytes of the same size is committed with its new content', async () => {
    // The real index holds stat data of the files secretstore wrote; rewriting one at once with bytes
    // of the same length must still be seen as a change (git's racy-clean check).
    const { r, loc } = seeded();
    for (const content of ['aaaa\n', 'bbbb\n', 'cccc\n', 'dddd\n']) {
      await transact(loc, plan([{ path: 'same-size.txt', content }]));
      expect(r.git('show', 'HEAD:vault/same-size.txt')).toBe(content);
      expect(r.status()).toBe('');
    }
  });

  test('works from an unborn branch on: the second commit builds on the first', async () => {
    const r = repo();
    const loc = locateStore({ store: STORE, cwd: r.dir, env: {} });
    await transact(loc, plan([{ path: 'a.txt', content: 'a\n' }]));
    await transact(loc, plan([{ path: 'b.txt', content: 'b\n' }]));
    expect(r.git('ls-tree', '-r', '--name-only', 'HEAD').trim().split('\n')).toEqual(['vault/a.txt', 'vault/b.txt']);
    expect(r.commitCount()).toBe(2);
    expect(r.status()).toBe('');
  });
});

describe('transactions of one process queue and share the lock (batch)', () => {
  const batch = { batch: true } as const;

  /** The counter at each commit a plan made (git may not have written it yet while the batch runs). */
  const counters = new Map<string, number>();
  /** Each plan reads the counter at its base (the previous plan's commit) and writes it plus one. */
  function counting(r: TestRepo, loc: StoreLocation, i: number, bases: (string | undefined)[], opts = {}) {
    let next = 0;
    return transact(
      loc,
      async (base) => {
        bases[i] = base.commit;
        const now = counters.get(base.commit!) ?? Number(r.read(`${STORE}/counter.txt`) ?? '0');
        next = now + 1;
        return { result: next, changes: [{ path: 'counter.txt', content: String(next) }, { path: `c${i}.txt`, content: `${i}\n` }], message: `count ${i}` };
      },
      { ...batch, made: (commit: string) => counters.set(commit, next), ...opts },
    );
  }

  test('10 started at once land as 10 consecutive commits, each its own, under one ref update', async () => {
    const { r, loc, base } = seeded();
    const reflog = r.git('reflog', 'HEAD').trim().split('\n').length;
    const bases: (string | undefined)[] = [];
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => counting(r, loc, i, bases)));
    expect(results).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.git('rev-parse', 'HEAD~10').trim()).toBe(base);
    const log = r.git('log', '--format=%H %P %s', `${base}..HEAD`).trim().split('\n').reverse();
    log.forEach((line, i) => {
      const [commit, parent, ...subject] = line.split(' ');
      expect(subject.join(' ')).toBe(`count ${i}`);
      expect(parent).toBe(i === 0 ? base : log[i - 1]!.split(' ')[0]);
      expect(bases[i]).toBe(parent); // each plan was told the commit it builds on
      expect(r.git('show', `${commit}:vault/counter.txt`)).toBe(String(i + 1));
      expect(changedPaths(r, commit!)).toEqual(i === 0 ? ['A\tvault/c0.txt', 'A\tvault/counter.txt'] : [`A\tvault/c${i}.txt`, 'M\tvault/counter.txt']);
    });
    expect(r.git('reflog', 'HEAD').trim().split('\n').length).toBe(reflog + 1);
    expect(r.git('reflog', '-1', '--format=%gs').trim()).toBe('secretstore: count');
    expect(r.status()).toBe('');
    expect(leftovers(r)).toEqual([]);
  });

  test("a user's commit landing while a batch is made: the compare-and-swap refuses the whole batch, and the user's commit and files stay", async () => {
    const { r, loc, base } = seeded();
    // The plans' paths are checked against the commit the batch began at, not HEAD read again: HEAD moving
    // meanwhile is caught by the compare-and-swap that ends the batch.
    const jobs = [
      transact(loc, plan([{ path: 'a.txt', content: 'a\n' }]), batch),
      transact(
        loc,
        async () => {
          r.write('README.md', 'committed by hand\n');
          r.git('commit', '-q', '-m', 'by hand', '--', 'README.md');
          return { result: undefined, changes: [{ path: 'b.txt', content: 'b\n' }], message: MESSAGE };
        },
        batch,
      ),
    ];
    const outcomes = await Promise.allSettled(jobs);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      expect(((o as PromiseRejectedResult).reason as Error).message).toMatch(/^HEAD moved while secretstore was committing; nothing was committed/);
    }
    expect(r.git('log', '--format=%s', '-2').trim().split('\n')).toEqual(['by hand', 'setup']);
    expect(parentOf(r, 'HEAD')).toBe(base);
    expect(storeFiles(r, ['a.txt', 'b.txt'])).toEqual({ 'a.txt': undefined, 'b.txt': undefined });
    expect(r.read('README.md')).toBe('committed by hand\n');
    expect(r.status()).toBe('');
    expect(leftovers(r)).toEqual([]);
  });

  test('each commit is signed with its own parent, and reported once HEAD has reached it', async () => {
    const { r, loc } = seeded();
    const drafts: { tree: string; parents: readonly string[] }[] = [];
    const reported: { commit: string; reachable: boolean }[] = [];
    const opts = {
      sign: async (draft: { tree: string; parents: readonly string[]; message: string }) => {
        drafts.push({ tree: draft.tree, parents: draft.parents });
        return `${draft.message}\n\nSigned-over: ${draft.tree} ${draft.parents.join(',')}\n`;
      },
      committed: (commit: string) => {
        reported.push({ commit, reachable: r.git('merge-base', '--is-ancestor', commit, 'HEAD') === '' });
      },
    };
    await Promise.all([0, 1, 2].map((i) => counting(r, loc, i, [], opts)));
    const commits = r.git('rev-list', '--reverse', '-3', 'HEAD').trim().split('\n');
    expect(reported).toEqual(commits.map((commit) => ({ commit, reachable: true })));
    commits.forEach((commit, i) => {
      const tree = r.git('rev-parse', `${commit}^{tree}`).trim();
      const parent = r.git('rev-parse', `${commit}^`).trim();
      expect(drafts[i]).toEqual({ tree, parents: [parent] });
      expect(r.git('log', '-1', '--format=%B', commit)).toBe(`count ${i}\n\nSigned-over: ${tree} ${parent}\n\n`);
    });
  });

  test('a plan that fails, or would touch a user change, is refused alone: the others commit', async () => {
    const { r, loc, base } = seeded();
    r.write('README.md', 'user edit\n');
    const jobs = [
      transact(loc, plan([{ path: 'a.txt', content: 'a\n' }]), batch),
      transact(loc, async () => Promise.reject(new Error('boom')), batch),
      transact(loc, async () => ({ result: 0, changes: [{ path: '../README.md', content: 'x' }], message: 'escape' }), batch),
      transact(loc, plan([{ path: 'b.txt', content: 'b\n' }]), batch),
    ];
    const outcomes = await Promise.allSettled(jobs);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('boom');
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidParameterException);
    expect(r.git('rev-parse', 'HEAD~2').trim()).toBe(base);
    expect(r.read('README.md')).toBe('user edit\n');
    expect(r.status()).toBe(' M README.md\n');
  });

  test('a write failing midway ends the batch: the commits before it land, its files are rolled back, the later ones commit after', async () => {
    const { r, loc, base } = seeded();
    const jobs = [
      transact(loc, plan([{ path: 'a.txt', content: 'a\n' }]), batch),
      transact(loc, plan([{ path: 'mod.txt', content: 'changed\n' }, { path: 'keep.txt/under-a-file', content: 'x' }]), batch),
      transact(loc, plan([{ path: 'b.txt', content: 'b\n' }]), batch),
    ];
    const outcomes = await Promise.allSettled(jobs);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(r.git('rev-parse', 'HEAD~2').trim()).toBe(base);
    expect(r.git('log', '--format=', '--name-only', `${base}..HEAD`).trim().split('\n').sort()).toEqual(['vault/a.txt', 'vault/b.txt']);
    expect(r.read(`${STORE}/mod.txt`)).toBe(OLD['mod.txt']);
    expect(r.status()).toBe('');
    expect(leftovers(r)).toEqual([]);
  });

  test('in the pack lane (a client\'s third commit on, files written as the batch lands), a write failing midway: the commits before it land with their files, its paths back to HEAD, the later ones commit after', async () => {
    const { r, loc, base } = seeded();
    // The first two commits of a client are written the way a CLI command writes its one commit.
    await transact(loc, plan([{ path: 'w1.txt', content: '1\n' }]));
    await transact(loc, plan([{ path: 'w2.txt', content: '2\n' }]));
    const jobs = [
      transact(loc, plan([{ path: 'a.txt', content: 'a\n' }, { path: 'mod.txt', content: 'by a\n' }]), batch),
      transact(loc, plan([{ path: 'mod.txt', content: 'changed\n' }, { path: 'keep.txt/under-a-file', content: 'x' }]), batch),
      transact(loc, plan([{ path: 'b.txt', content: 'b\n' }]), batch),
    ];
    const outcomes = await Promise.allSettled(jobs);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // Written by fast-import: no loose object for the batch's commits.
    for (const rev of ['HEAD', 'HEAD~1']) {
      const oid = r.git('rev-parse', rev).trim();
      expect(existsSync(join(r.gitDir, 'objects', oid.slice(0, 2), oid.slice(2)))).toBe(false);
    }
    expect(r.git('rev-parse', 'HEAD~4').trim()).toBe(base);
    expect(r.git('log', '--format=', '--name-only', 'HEAD~2..HEAD').trim().split('\n').sort()).toEqual(['vault/a.txt', 'vault/b.txt', 'vault/mod.txt']);
    expect(storeFiles(r, ['a.txt', 'b.txt', 'mod.txt', 'keep.txt'])).toEqual({ 'a.txt': 'a\n', 'b.txt': 'b\n', 'mod.txt': 'by a\n', 'keep.txt': 'keep\n' });
    expect(r.status()).toBe('');
    expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('');
    expect(leftovers(r)).toEqual([]);
  });

  test('a transaction that joins while the first one commits lands with it under one ref update, both operations in the reflog', async () => {
    const { r, loc, base } = seeded();
    const reflog = r.git('reflog', 'HEAD').trim().split('\n').length;
    let second: Promise<unknown> | undefined;
    const first = transact(loc, plan([{ path: 'one.txt', content: '1\n' }], 1), {
      ...batch,
      // Called while the commit is written: the second joins the batch now.
      sign: async (draft) => {
        second ??= transact(loc, async () => ({ result: 2, changes: [{ path: 'two.txt', content: '2\n' }], message: 'two' }), batch);
        return draft.message;
      },
    });
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(r.git('rev-parse', 'HEAD~2').trim()).toBe(base);
    expect(r.git('reflog', 'HEAD').trim().split('\n').length).toBe(reflog + 1);
    expect(r.git('reflog', '-1', '--format=%gs').trim()).toBe('secretstore: put-secret-value, two');
    expect(r.status()).toBe('');
    expect(leftovers(r)).toEqual([]);
  });

  test('transactions that do not ask for batching each hold the lock alone', async () => {
    const { r, loc } = seeded();
    const reflog = r.git('reflog', 'HEAD').trim().split('\n').length;
    await Promise.all([0, 1, 2].map((i) => transact(loc, plan([{ path: `s${i}.txt`, content: `${i}\n` }]))));
    expect(r.git('reflog', 'HEAD').trim().split('\n').length).toBe(reflog + 3);
    expect(r.status()).toBe('');
  });
});

describe('concurrency', () => {
  test('10 writers started at once land as 10 commits in a linear history holding all 10 files', async () => {
    const { r, base } = seeded();
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        runDriver(driver(), { cwd: r.dir, store: STORE, changes: [{ path: `c${i}.txt`, content: `${i}\n` }], message: `c${i}` }),
      ),
    );
    expect(runs.map((run) => [run.code, run.stderr])).toEqual(runs.map(() => [0, '']));
    expect(r.commitCount()).toBe(11);
    expect(r.git('rev-parse', 'HEAD~10').trim()).toBe(base);
    const history = r.git('log', '--format=%P', `${base}..HEAD`).trim().split('\n');
    expect(history.every((parents) => parents.split(' ').length === 1)).toBe(true);
    const touched = r.git('log', '--format=', '--name-only', `${base}..HEAD`).trim().split('\n').sort();
    expect(touched).toEqual(Array.from({ length: 10 }, (_, i) => `vault/c${i}.txt`).sort());
    expect(r.status()).toBe('');
  });
});
