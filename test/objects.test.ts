// The cat-file readers (git/objects.ts, git/object-stream.ts) against a real git: every answer keeps its
// frame, whatever the names asked for hold.
import { afterEach, beforeAll, expect, test } from 'vitest';
import { ObjectReader } from '../src/git/objects.js';
import { streamObjects } from '../src/git/object-stream.js';
import { isolateGitConfig, makeRepo } from './helpers/repo.js';

beforeAll(isolateGitConfig);

const readers: ObjectReader[] = [];
afterEach(() => readers.splice(0).forEach((r) => r.close()));

test('a missing name with one space ("HEAD:a b", answered "HEAD:a b missing") is missing, and the next answer is intact', async () => {
  const r = makeRepo();
  r.write('x.txt', 'content\n');
  r.commitAll();
  const reader = new ObjectReader(r.dir);
  readers.push(reader);
  const [missing, found] = await reader.readMany(['HEAD:with space', 'HEAD:x.txt']);
  expect(missing).toBeUndefined();
  expect(found?.type).toBe('blob');
  expect(found?.content.toString()).toBe('content\n');
});

test('a file whose path holds spaces is read by name like any other', async () => {
  const r = makeRepo();
  r.write('with space/x y.txt', 'spaced\n');
  r.commitAll();
  const reader = new ObjectReader(r.dir);
  readers.push(reader);
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
