import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TreeWriter } from '../src/git/tree-writer.js';
import { isolateGitConfig, makeRepo, type TestRepo } from './helpers/repo.js';

const repos: TestRepo[] = [];
const writers: TreeWriter[] = [];
beforeAll(() => isolateGitConfig());
afterAll(() => {
  writers.forEach((w) => w.close());
  repos.forEach((r) => r.cleanup());
});

function setup(): { r: TestRepo; writer: TreeWriter } {
  const r = makeRepo();
  repos.push(r);
  const writer = new TreeWriter(r.dir, r.gitDir);
  writers.push(writer);
  return { r, writer };
}

test('entries off the changed paths are reused as they are, a file name that is not UTF-8 included', async () => {
  const { r, writer } = setup();
  r.write('vault/a.txt', 'a\n');
  r.write('other/b.txt', 'b\n');
  // A name git stores as raw bytes (latin-1 "café.txt"), which a UTF-8 round trip would change.
  const raw = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]);
  writeFileSync(Buffer.concat([Buffer.from(`${r.dir}/`), raw]), 'c\n');
  r.git('add', '-A');
  writeFileSync(join(r.dir, 'x'), 'new\n');
  const latin = execFileSync('git', ['ls-files', '-z'], { cwd: r.dir }).toString('latin1').split('\0').filter(Boolean);
  expect(latin).toContain(raw.toString('latin1'));
  r.git('commit', '-q', '-m', 'setup');
  const [blob] = await writer.writeBlobs([{ path: 'x', content: Buffer.from('new\n') }]);
  const tree = await writer.apply(r.head(), [{ path: 'vault/new.txt', blob: blob!, mode: '100644' }, { path: 'vault/a.txt', delete: true }]);
  await writer.settle(); // the trees reach git after apply answers with their ids
  const listing = (t: string) => execFileSync('git', ['ls-tree', '-r', '-z', t], { cwd: r.dir }).toString('latin1').split('\0').filter(Boolean);
  const before = listing('HEAD');
  const after = listing(tree);
  expect(after.filter((e) => !e.endsWith('\tvault/new.txt'))).toEqual(before.filter((e) => !e.endsWith('\tvault/a.txt')));
  expect(after.some((e) => e.endsWith(`\t${raw.toString('latin1')}`))).toBe(true);
  expect(after).toContain(`100644 blob ${blob}\tvault/new.txt`);
});

test('a folder emptied by deletions disappears, and an unborn branch starts from the empty tree', async () => {
  const { r, writer } = setup();
  r.write('only/one.txt', '1\n');
  r.commitAll();
  const empty = await writer.apply(r.head(), [{ path: 'only/one.txt', delete: true }]);
  await writer.settle(); // the trees reach git after apply answers with their ids
  expect(empty).toBe(r.git('hash-object', '-t', 'tree', '/dev/null').trim());
  const [blob] = await writer.writeBlobs([{ path: 'only/one.txt', content: Buffer.from('1\n') }]);
  const fresh = await writer.apply(undefined, [{ path: 'a/b/c.txt', blob: blob!, mode: '100755' }]);
  await writer.settle(); // the trees reach git after apply answers with their ids
  expect(r.git('ls-tree', '-r', fresh).trim()).toBe(`100755 blob ${blob}\ta/b/c.txt`);
});

test("a blob's id is computed from its content only once git has agreed, and a filter that changes the bytes is caught before anything lands", async () => {
  const { r, writer } = setup();
  // A clean filter that rewrites the bytes of *.up files.
  r.write('.gitattributes', '*.up filter=upper\n');
  r.git('config', 'filter.upper.clean', 'tr a-z A-Z');
  r.commitAll();
  const idLength = r.head().length;
  const hashed = (path: string) => r.git('hash-object', path).trim(); // through the attributes and filters, as git add
  // The first time git is waited for; it agrees with the hash of the content.
  r.write('a.txt', 'a\n');
  expect(await writer.writeBlobs([{ path: 'a.txt', content: Buffer.from('a\n') }], idLength)).toEqual([hashed('a.txt')]);
  // A filtered file: the computed id is returned at once, and settle refuses it.
  r.write('b.up', 'b\n');
  const [computed] = await writer.writeBlobs([{ path: 'b.up', content: Buffer.from('b\n') }], idLength);
  expect(computed).not.toBe(hashed('b.up'));
  await expect(writer.settle()).rejects.toThrow(/git wrote object .* where .* was computed; nothing was committed, try again/);
  await writer.forget();
  // From then on git's answer is waited for: the id is what git wrote.
  expect(await writer.writeBlobs([{ path: 'b.up', content: Buffer.from('b\n') }], idLength)).toEqual([hashed('b.up')]);
  await writer.settle();
});

test('a file in HEAD where a folder is needed is refused, not overwritten', async () => {
  const { r, writer } = setup();
  r.write('vault', 'a file\n');
  r.commitAll();
  const [blob] = await writer.writeBlobs([{ path: 'vault', content: Buffer.from('a file\n') }]);
  await expect(writer.apply(r.head(), [{ path: 'vault/x.txt', blob: blob!, mode: '100644' }])).rejects.toThrow(/is a file in HEAD/);
});

test('a request sent right after the idle processes were closed is answered by their successors', async () => {
  const { r, writer } = setup();
  r.write('a.txt', 'a\n');
  const head = r.commitAll();
  for (let i = 0; i < 5; i++) {
    expect(await writer.head()).toBe(head);
    writer.close(); // as the idle timer does; the old process's exit must not fail the next request
    expect(await writer.head()).toBe(head);
  }
});
