// The cat-file readers (git/objects.ts, git/object-stream.ts) against a real git: every answer keeps its
// frame, whatever the names asked for hold.
import { afterEach, beforeAll, expect, test } from 'vitest';
import { ObjectReader } from '../src/git/objects.js';
import { streamObjects } from '../src/git/object-stream.js';
import { isolateGitConfig, makeRepo, type TestRepo } from './helpers/repo.js';

beforeAll(isolateGitConfig);

const readers: ObjectReader[] = [];
afterEach(() => readers.splice(0).forEach((r) => r.close()));

/** A reader of `r`'s objects, closed after the test. */
function openReader(r: TestRepo): ObjectReader {
  const reader = new ObjectReader(r.dir);
  readers.push(reader);
  return reader;
}

test('a missing name with one space ("HEAD:a b", answered "HEAD:a b missing") is missing, and the next answer is intact', async () => {
  const r = makeRepo();
  r.write('x.txt', 'content\n');
  r.commitAll();
  const reader = openReader(r);
  const [missing, found] = await reader.readMany(['HEAD:with space', 'HEAD:x.txt']);
  expect(missing).toBeUndefined();
  expect(found?.type).toBe('blob');
  expect(found?.content.toString()).toBe('content\n');
});

test('a file whose path holds spaces is read by name like any other', async () => {
  const r = makeRepo();
  r.write('with space/x y.txt', 'spaced\n');
  r.commitAll();
  const reader = openReader(r);
  expect((await reader.read('HEAD:with space/x y.txt'))?.content.toString()).toBe('spaced\n');
});

test('streamObjects: a missing object among found ones is undefined, the others arrive whole and in order', async () => {
  const r = makeRepo();
  r.write('a.txt', 'a\n');
  r.write('b.txt', 'b\n');
  r.commitAll();
  const oid = (path: string) => r.git('rev-parse', `HEAD:${path}`).trim();
  const got: (string | undefined)[] = [];
  await streamObjects(r.dir, process.env, [oid('a.txt'), 'HEAD:no such', oid('b.txt')], (i, content) => (got[i] = content?.toString()));
  expect(got).toEqual(['a\n', undefined, 'b\n']);
});

test('a commit git is still writing (expect) is read through its primed trees, without waiting for git, and what they cannot answer hurries git, then waits', async () => {
  const r = makeRepo();
  r.write('a/x.txt', 'old x\n');
  r.write('b/y.txt', 'y\n');
  r.commitAll();
  const reader = openReader(r);
  // A commit id git does not have, whose root is HEAD's and whose folder `a` is a new tree holding a new blob.
  const commit = 'c0ffee'.padEnd(40, '0');
  const root = (await reader.read('HEAD:'))!;
  const newBlob = { oid: 'b10b'.padEnd(40, '1'), type: 'blob' as const, content: Buffer.from('new x\n') };
  const folder = { oid: 'f01d'.padEnd(40, '2'), type: 'tree' as const, content: Buffer.concat([Buffer.from('100644 x.txt\0'), Buffer.from(newBlob.oid, 'hex')]) };
  let written!: () => void;
  const gitHasIt = new Promise<void>((resolve) => (written = resolve));
  let hurried = 0;
  reader.expect(commit, { written: gitHasIt, hurry: () => hurried++ });
  reader.prime(`${commit}:`, root);
  reader.prime(`${commit}:a`, folder);
  reader.prime(newBlob.oid, newBlob);
  // Answered while git still "writes" the commit: an old object by id below the primed root, a new one primed.
  expect((await reader.read(`${commit}:b/y.txt`))?.content.toString()).toBe('y\n');
  expect((await reader.read(`${commit}:a/x.txt`))?.content.toString()).toBe('new x\n');
  expect(await reader.read(`${commit}:absent.txt`)).toBeUndefined();
  expect(hurried).toBe(0);
  // The commit object itself is no primed tree's entry: the read asks git to hurry (fast-import's checkpoint), and waits.
  let settled = false;
  const commitRead = reader.read(commit).then((obj) => ((settled = true), obj));
  await new Promise((resolve) => setImmediate(resolve));
  expect(settled).toBe(false);
  expect(hurried).toBe(1);
  written();
  expect(await commitRead).toBeUndefined(); // git never got it here
});

test('an object id git does not have yet is not remembered as missing', async () => {
  const r = makeRepo();
  r.write('a.txt', 'a\n');
  r.commitAll();
  const reader = openReader(r);
  r.write('later.txt', 'written later\n');
  const oid = r.git('hash-object', 'later.txt').trim();
  expect(await reader.read(oid)).toBeUndefined();
  r.git('hash-object', '-w', 'later.txt');
  expect((await reader.read(oid))?.content.toString()).toBe('written later\n');
});

test('a path of a commit below a cached tree is answered from the objects at hand (found by the ids their trees name), without asking git', async () => {
  const r = makeRepo();
  r.write('a/b/x.txt', 'x\n');
  r.write('c.txt', 'c\n');
  r.commitAll();
  const reader = openReader(r);
  // Read once by name: each object is then kept under its id too.
  const head = r.head();
  const root = (await reader.read(`${head}:`))!;
  expect((await reader.read(`${head}:a/b/x.txt`))?.content.toString()).toBe('x\n');
  await reader.read(`${head}:a`);
  await reader.read(`${head}:a/b`);
  // A commit id git does not have, whose top tree (primed) is HEAD's: git would answer "missing" for any
  // path of it, so an answer proves it came from the cache, through a and a/b by the ids the trees name.
  const commit = 'c0ffee'.padEnd(40, '0');
  reader.prime(`${commit}:`, root);
  expect((await reader.read(`${commit}:a/b/x.txt`))?.content.toString()).toBe('x\n');
  expect(await reader.read(`${commit}:a/absent.txt`)).toBeUndefined();
  // c.txt was never read: the walk stops there and git is asked (and has no such commit).
  expect(await reader.read(`${commit}:c.txt`)).toBeUndefined();
  expect((await reader.read('HEAD:c.txt'))?.content.toString()).toBe('c\n');
});
