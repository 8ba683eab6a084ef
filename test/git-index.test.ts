/**
 * readIndexEntries (src/git/index-file.ts) against git's own reading of the same index file
 * (`git ls-files --stage`), on real repositories: what it finds must be exactly what git has, and a form
 * it does not read must answer undefined (the write path then asks git status).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readIndexEntries } from '../src/git/index-file.js';
import { isolateGitConfig, makeRepo, type TestRepo } from './helpers/repo.js';

const repos: TestRepo[] = [];
beforeAll(() => isolateGitConfig());
afterAll(() => repos.forEach((r) => r.cleanup()));

/** A repository with plain, nested, executable and long-named files, committed. */
function repo(): { r: TestRepo; paths: string[] } {
  const r = makeRepo();
  repos.push(r);
  const long = Array.from({ length: 10 }, (_, i) => `${i}${'n'.repeat(199)}`).join('/'); // a 2,009-byte name
  const paths = ['a.txt', 'dir/b.txt', 'dir/sub/c.yaml', 'dir/sub/run.sh', 'z', 'space name.txt', 'ünïcode/é.txt', long];
  for (const p of paths) r.write(p, `content of ${p.slice(0, 20)}\n`);
  r.git('update-index', '--add', '--', ...paths);
  r.git('update-index', '--chmod=+x', 'dir/sub/run.sh');
  r.git('commit', '-q', '-m', 'setup');
  return { r, paths };
}

/** What git says the index holds at `paths`: mode, id, stage. */
function gitEntries(r: TestRepo, paths: readonly string[]): Map<string, { mode: string; oid: string; stage: number }[]> {
  const out = new Map<string, { mode: string; oid: string; stage: number }[]>();
  for (const line of r.git('-c', 'core.quotePath=false', 'ls-files', '--stage', '-z', '--', ...paths).split('\0').filter(Boolean)) {
    const [meta, path] = line.split('\t') as [string, string];
    const [mode, oid, stage] = meta.split(' ') as [string, string, string];
    out.set(path, [...(out.get(path) ?? []), { mode, oid, stage: Number(stage) }]);
  }
  return out;
}

/** The version field of the index file's header. */
function indexVersion(r: TestRepo): number {
  return readFileSync(join(r.gitDir, 'index')).readUInt32BE(4);
}

function expectSameAsGit(r: TestRepo, paths: readonly string[]): void {
  const mine = readIndexEntries(join(r.gitDir, 'index'), paths, 20);
  expect(mine).toBeDefined();
  const git = gitEntries(r, paths);
  expect([...mine!.keys()].sort()).toEqual([...git.keys()].sort());
  for (const [path, entries] of git) {
    const entry = mine!.get(path)!;
    expect(entry.mode).toBe(entries[entries.length - 1]!.mode);
    expect(entry.oid).toBe(entries[entries.length - 1]!.oid);
    expect(entry.unusual).toBe(entries.length > 1 || entries[0]!.stage !== 0);
  }
}

describe('readIndexEntries reads what git ls-files --stage reads', () => {
  test('version 2: modes, ids and long and non-ASCII names of the paths asked for, nothing for the others or absent ones', () => {
    const { r, paths } = repo();
    expect(indexVersion(r)).toBe(2);
    expectSameAsGit(r, [...paths, 'absent.txt', 'dir']);
    expect(readIndexEntries(join(r.gitDir, 'index'), ['dir/sub/run.sh'], 20)!.get('dir/sub/run.sh')!.mode).toBe('100755');
  });

  test('version 3 with an intent-to-add entry: found and marked unusual, the others as git has them', () => {
    const { r, paths } = repo();
    r.write('later.txt', 'intended\n');
    r.git('add', '-N', 'later.txt');
    expect(indexVersion(r)).toBe(3);
    const mine = readIndexEntries(join(r.gitDir, 'index'), [...paths, 'later.txt'], 20)!;
    expect(mine.get('later.txt')?.unusual).toBe(true);
    expect(mine.get('a.txt')?.unusual).toBe(false);
    expect(mine.get('dir/sub/c.yaml')?.oid).toBe(r.git('rev-parse', ':dir/sub/c.yaml').trim());
  });

  test('a conflict (stages 1 to 3) and a skip-worktree entry are unusual', () => {
    const { r } = repo();
    r.git('checkout', '-q', '-b', 'other');
    r.write('a.txt', 'theirs\n');
    r.git('commit', '-q', '-am', 'theirs');
    r.git('checkout', '-q', 'main');
    r.write('a.txt', 'ours\n');
    r.git('commit', '-q', '-am', 'ours');
    expect(() => r.git('merge', '-q', 'other')).toThrow();
    expectSameAsGit(r, ['a.txt', 'z', 'dir/b.txt']);
    r.git('update-index', '--skip-worktree', 'z');
    const mine = readIndexEntries(join(r.gitDir, 'index'), ['z'], 20)!;
    expect(mine.get('z')?.unusual).toBe(true);
  });

  test('hundreds of entries, names that are prefixes of others: each path found by its name as git orders them, absent ones absent', () => {
    const { r, paths } = repo();
    // '-' and '.' sort before '/', which sorts before letters: 'a-b' < 'a.b' < 'a/b' < 'ab'.
    const more = ['a-b', 'a.b', 'a/b', 'a/c/d', 'ab', 'dir/sub.txt', 'dir/sub-x/y', 'zz', '~'];
    for (let i = 0; i < 300; i++) more.push(`secrets/s${i}/secret.yaml`, `secrets/s${i}/versions/${i}.sealed`);
    for (const p of more) r.write(p, `${p}\n`);
    r.git('add', '--', ...more);
    expectSameAsGit(r, [...paths, ...more, 'a', 'a/c', 'dir/sub', 'secrets/s1', 'secrets/s10/secret.yam', 'secrets/s299/secret.yamlx']);
  });

  test('an index git has replaced since it was read is read again: what was staged in between is found', () => {
    const { r } = repo();
    const index = join(r.gitDir, 'index');
    const before = readIndexEntries(index, ['a.txt', 'new.txt'], 20)!;
    expect(before.has('new.txt')).toBe(false);
    r.write('a.txt', 'staged change\n');
    r.write('new.txt', 'new\n');
    r.git('add', 'a.txt', 'new.txt');
    const after = readIndexEntries(index, ['a.txt', 'new.txt'], 20)!;
    expect(after.get('a.txt')?.oid).toBe(r.git('rev-parse', ':a.txt').trim());
    expect(after.get('a.txt')?.oid).not.toBe(before.get('a.txt')?.oid);
    expect(after.get('new.txt')?.oid).toBe(r.git('rev-parse', ':new.txt').trim());
  });

  test('forms it does not read answer undefined: version 4, a split index, a missing or damaged file', () => {
    const { r } = repo();
    const index = join(r.gitDir, 'index');
    r.git('update-index', '--index-version', '4');
    expect(readIndexEntries(index, ['a.txt'], 20)).toBeUndefined();
    r.git('update-index', '--index-version', '2');
    expectSameAsGit(r, ['a.txt']);
    r.git('update-index', '--split-index');
    expect(readIndexEntries(index, ['a.txt'], 20)).toBeUndefined();
    r.git('update-index', '--no-split-index');
    expectSameAsGit(r, ['a.txt']);
    expect(readIndexEntries(join(r.gitDir, 'no-such-index'), ['a.txt'], 20)).toBeUndefined();
    writeFileSync(join(r.gitDir, 'damaged-index'), 'DIRC\0\0\0\x02\0\0\0\x05 truncated');
    expect(readIndexEntries(join(r.gitDir, 'damaged-index'), ['a.txt'], 20)).toBeUndefined();
  });
});
