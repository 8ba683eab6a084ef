/**
 * A long-lived client's commits written by one `git fast-import` (src/git/fast-import.ts): from its second
 * commit on, the objects of a batch go into one pack instead of a loose file each. What must hold: the
 * commits are the ones git's own plumbing makes, nothing else becomes visible (no ref, no kept pack once
 * fast-import has ended), a batch's later plans read commits only fast-import has, the packs are merged
 * as they pile up, and a kill anywhere leaves the old state or the new one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { ObjectReader } from '../src/git/objects.js';
import { treeWriter } from '../src/git/tree-writer.js';
import { expandFaultPoints } from '../src/store/fault.js';
import { locateStore } from '../src/store/location.js';
import { transact } from '../src/store/transaction.js';
import type { FileChange, StoreLocation } from '../src/model/repository.js';
import { makeRepo, tempDir, type TestRepo } from './helpers/repo.js';
import { fileDriver, runDriver } from './helpers/spawn-driver.js';

const STORE = 'vault';
const MESSAGE = 'put-secret-value: demo\n';
/** A change, a new file in new folders, a delete that empties its folder, an executable, and names fast-import must be given quoted. */
const CHANGES: FileChange[] = [
  { path: 'mod.txt', content: 'new mod\n' },
  { path: 'new/deep/a.txt', content: 'new a\n' },
  { path: 'olddir/gone.txt', delete: true },
  { path: 'run.sh', content: '#!/bin/sh\n', executable: true },
  { path: `odd/it's "quoted"\ttab grüße.txt`, content: 'odd\n' },
];

const driver = fileDriver();
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((f) => f()));

function seeded(): { r: TestRepo; loc: StoreLocation } {
  const r = makeRepo();
  cleanups.push(() => r.cleanup());
  r.write(`${STORE}/mod.txt`, 'old mod\n');
  r.write(`${STORE}/olddir/gone.txt`, 'gone\n');
  r.commitAll();
  return { r, loc: locateStore({ store: STORE, cwd: r.dir, env: {} }) };
}

const put = (loc: StoreLocation, changes: readonly FileChange[], message = MESSAGE) => transact(loc, async () => ({ result: undefined, changes, message }));
/** The first two commits of a client go the loose way (commit-tree, then the warm commit writer); fast-import takes the rest. */
const warmUp = async (loc: StoreLocation) => {
  await put(loc, [{ path: 'first.txt', content: 'first\n' }]);
  await put(loc, [{ path: 'second.txt', content: 'second\n' }]);
};
const looseObjects = (r: TestRepo) => Number(/^count: (\d+)$/m.exec(r.git('count-objects', '-v'))![1]);
const packFiles = (r: TestRepo, ending: string) => readdirSync(join(r.gitDir, 'objects', 'pack')).filter((f) => f.endsWith(ending));
const refs = (r: TestRepo) => r.git('for-each-ref', '--format=%(refname)').trim().split('\n');

/** HEAD made again by `git commit-tree` from its tree, parents, dates and message: the same id, or fast-import wrote other bytes. */
function commitTreeAgain(r: TestRepo): string {
  const [tree, parents, authorDate, committerDate] = r.git('log', '-1', '--format=%T%n%P%n%ad%n%cd', '--date=raw').trim().split('\n');
  const env = { ...process.env, GIT_AUTHOR_DATE: authorDate!, GIT_COMMITTER_DATE: committerDate! };
  const parentArgs = parents!.split(' ').flatMap((p) => ['-p', p]);
  return execFileSync('git', ['commit-tree', tree!, ...parentArgs], { cwd: r.dir, env, input: r.git('log', '-1', '--format=%B').replace(/\n$/, ''), encoding: 'utf8' }).trim();
}

describe('commits written by fast-import', () => {
  test('from the third commit of a client on: no loose object, no ref but the branch, each commit the one commit-tree makes, fsck clean', async () => {
    const { r, loc } = seeded();
    await warmUp(loc);
    const loose = looseObjects(r);
    const before = packFiles(r, '.pack').length;
    await put(loc, CHANGES);
    expect(r.head()).toBe(commitTreeAgain(r));
    expect(r.git('ls-tree', '-r', '-z', '--name-only', 'HEAD', `${STORE}/`).split('\0').filter(Boolean)).toEqual(
      ['first.txt', 'mod.txt', 'new/deep/a.txt', `odd/it's "quoted"\ttab grüße.txt`, 'run.sh', 'second.txt'].map((p) => `${STORE}/${p}`),
    );
    expect(r.git('ls-tree', 'HEAD', `${STORE}/run.sh`).split(' ')[0]).toBe('100755');
    expect(r.git('show', `HEAD:${STORE}/odd/it's "quoted"\ttab grüße.txt`)).toBe('odd\n');
    await put(loc, [{ path: 'new/deep/a.txt', delete: true }, { path: 'new/deep/b.txt', content: 'b\n' }]);
    expect(r.head()).toBe(commitTreeAgain(r));
    expect(r.status()).toBe('');
    expect(looseObjects(r)).toBe(loose);
    expect(packFiles(r, '.pack').length).toBeGreaterThan(before);
    expect(refs(r)).toEqual(['refs/heads/main']);
    expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('');
    // Once fast-import has ended its packs are ordinary ones: none is left kept.
    treeWriter(r.dir, r.gitDir).close();
    await vi.waitFor(() => expect(packFiles(r, '.keep')).toEqual([]), { timeout: 20_000 });
    expect(refs(r)).toEqual(['refs/heads/main']);
  });

  test('the transactions of one batch build on commits only fast-import holds; a reader that needs one of them has it checkpointed', async () => {
    const { r, loc } = seeded();
    await warmUp(loc);
    const start = r.head();
    // Each plan reads the file the previous one wrote through a reader of its own, told of the commit but
    // given none of its objects: it must ask for a checkpoint, or it would wait for the end of the batch.
    const reader = new ObjectReader(r.dir);
    cleanups.push(() => reader.close());
    const seen: (string | undefined)[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        transact(
          loc,
          async (base) => {
            if (i > 0) seen.push((await reader.read(`${base.commit}:${STORE}/batch-${i - 1}.txt`))?.content.toString());
            return { result: undefined, changes: [{ path: `batch-${i}.txt`, content: `batch ${i}\n` }], message: `batch ${i}` };
          },
          { batch: true, made: (commit, _objects, unwritten) => reader.expect(commit, unwritten) },
        ),
      ),
    );
    expect(seen).toEqual(['batch 0\n', 'batch 1\n', 'batch 2\n', 'batch 3\n', 'batch 4\n']);
    expect(r.git('rev-list', '--count', `${start}..HEAD`).trim()).toBe('6');
    expect(r.git('log', '--format=%s', `${start}..HEAD`).trim().split('\n')).toEqual(['batch 5', 'batch 4', 'batch 3', 'batch 2', 'batch 1', 'batch 0']);
    expect(r.status()).toBe('');
    expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('');
  });

  test('packs do not pile up: every 32 checkpoints fast-import is replaced and a background repack merges the small packs', async () => {
    const { r, loc } = seeded();
    await warmUp(loc);
    for (let i = 0; i < 40; i++) await put(loc, [{ path: `n/${i}.txt`, content: `${i}\n` }]);
    // Without the repack there would be 40 packs; with it, the merged ones and those made since.
    await vi.waitFor(() => expect(packFiles(r, '.pack').length).toBeLessThanOrEqual(12), { timeout: 60_000 });
    expect(r.git('show', `HEAD:${STORE}/n/39.txt`)).toBe('39\n');
    expect(r.git('show', `HEAD~39:${STORE}/n/0.txt`)).toBe('0\n');
    expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('');
    expect(refs(r)).toEqual(['refs/heads/main']);
  });
});

describe('durability: a landing is flushed to disk as a git commit is', () => {
  /**
   * The flushes to disk of the fast-import that wrote a client's third commit, as git itself counts them
   * (trace2's fsync counters, written when the process ends), with the repository's core.fsync set to `fsync`.
   */
  async function landingFlushes(fsync?: string): Promise<number> {
    const { r, loc } = seeded();
    if (fsync !== undefined) r.git('config', 'core.fsync', fsync);
    const traces = tempDir('secretstore-trace2-');
    cleanups.push(() => rmSync(traces, { recursive: true, force: true }));
    mkdirSync(join(traces, 'events'));
    writeFileSync(join(traces, 'config'), `[trace2]\n\teventTarget = ${join(traces, 'events')}\n`);
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = join(traces, 'config');
    try {
      await warmUp(loc);
      await put(loc, CHANGES);
    } finally {
      process.env.GIT_CONFIG_GLOBAL = saved;
    }
    treeWriter(r.dir, r.gitDir).close();
    const events = () => readdirSync(join(traces, 'events')).map((f) => readFileSync(join(traces, 'events', f), 'utf8'));
    const importer = () => events().find((e) => e.includes('"fast-import"') && e.includes('"event":"exit"'));
    await vi.waitFor(() => expect(importer()).toBeDefined(), { timeout: 20_000 });
    expect(r.git('log', '-1', '--format=%s')).toBe(MESSAGE);
    return [...importer()!.matchAll(/"key":"fsync\/hardware-flush","value":"(\d+)"/g)].reduce((n, m) => n + Number(m[1]), 0);
  }

  test('by default the pack of a landing is not flushed (git commit flushes none of its objects either)', async () => {
    expect(await landingFlushes()).toBe(0);
  });

  test("a user's core.fsync is followed: with packs named, the landing's pack and its index are flushed", async () => {
    expect(await landingFlushes('pack')).toBeGreaterThanOrEqual(2);
  });
});

describe('a long-lived client killed while fast-import writes its commit (SIGKILL at every fault point of its third transaction)', () => {
  test("killed once the checkpoint has been asked for and before its answer is read: fast-import, which then cannot answer, still ends cleanly", async () => {
    // Had it died of SIGPIPE writing the answer, its packs would keep their `.keep` (left out of every later
    // repack) beside a temporary pack.
    const { r, loc } = seeded();
    const run = await runDriver(driver(), { cwd: r.dir, store: STORE, changes: CHANGES, message: MESSAGE, warmup: 2 }, { SECRETSTORE_FAULT_AT: 'during-settle#3' });
    expect(run.signal).toBe('SIGKILL');
    expect(r.git('log', '--format=%s', '-1').trim()).toBe('warm-up 2');
    await vi.waitFor(() => expect(readdirSync(join(r.gitDir, 'objects', 'pack')).filter((f) => f.endsWith('.keep') || f.startsWith('tmp_'))).toEqual([]), { timeout: 20_000 });
    expect(readdirSync(r.gitDir).filter((f) => f.startsWith('fast_import_crash'))).toEqual([]);
    await put(loc, [{ path: 'after.txt', content: 'after\n' }]);
    expect(r.read(`${STORE}/mod.txt`)).toBe('old mod\n');
    expect(r.status()).toBe('');
    expect(refs(r)).toEqual(['refs/heads/main']);
    expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('');
  });

  const isFileWrite = (p: string) => p.startsWith('after-temp') || p.startsWith('after-write');
  const points = expandFaultPoints(CHANGES).filter((p) => !isFileWrite(p));
  test.each(points.map((p) => [p, points.indexOf(p) < points.indexOf('after-update-ref') ? 'old' : 'new'] as const))(
    'killed at %s: the %s state, no ref but the branch, no kept or temporary pack once fast-import has ended',
    async (point, state) => {
      const { r, loc } = seeded();
      const run = await runDriver(driver(), { cwd: r.dir, store: STORE, changes: CHANGES, message: MESSAGE, warmup: 2 }, { SECRETSTORE_FAULT_AT: `${point}#3` });
      expect(run.signal).toBe('SIGKILL');
      expect(r.git('log', '--format=%s', '-1').trim()).toBe(state === 'old' ? 'warm-up 2' : 'put-secret-value: demo');
      // The next transaction recovers the killed one's journal.
      await put(loc, [{ path: 'after.txt', content: 'after\n' }]);
      expect(r.read(`${STORE}/mod.txt`)).toBe(state === 'old' ? 'old mod\n' : 'new mod\n');
      expect(r.status()).toBe('');
      expect(refs(r)).toEqual(['refs/heads/main']);
      await vi.waitFor(() => expect(readdirSync(join(r.gitDir, 'objects', 'pack')).filter((f) => f.endsWith('.keep') || f.startsWith('tmp_'))).toEqual([]), { timeout: 20_000 });
      expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('');
    },
  );

  // In the pack lane the files reach the work tree only as the batch lands, while git writes the commit
  // and HEAD moves: a kill then leaves the old state or the new one, whole, whichever HEAD names.
  test.each(expandFaultPoints(CHANGES).filter(isFileWrite))('killed at %s, as the files are written at landing: the old state or the new one, whole', async (point) => {
    const { r, loc } = seeded();
    // Each warm-up writes one file: they reach the first file's points too.
    const nth = point.endsWith('-1') ? 3 : 1;
    const run = await runDriver(driver(), { cwd: r.dir, store: STORE, changes: CHANGES, message: MESSAGE, warmup: 2 }, { SECRETSTORE_FAULT_AT: `${point}#${nth}` });
    expect(run.signal).toBe('SIGKILL');
    const subject = r.git('log', '--format=%s', '-1').trim();
    expect(['warm-up 2', 'put-secret-value: demo']).toContain(subject);
    await put(loc, [{ path: 'after.txt', content: 'after\n' }]);
    expect(r.read(`${STORE}/mod.txt`)).toBe(subject === 'warm-up 2' ? 'old mod\n' : 'new mod\n');
    expect(r.status()).toBe('');
    expect(refs(r)).toEqual(['refs/heads/main']);
    expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('');
  });
});
