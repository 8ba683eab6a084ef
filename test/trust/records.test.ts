/**
 * The clone's trust records (src/trust/records.ts) as a long-lived client keeps writing them: it
 * remembers which directories exist and which branches heads.index lists, so a put makes no directory
 * and reads no index; marks are hard links; head records grow by appended lines. These tests hold that
 * to the files on disk, and a cut-short record to "never a commit nobody recorded".
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { headFromFiles, lastCommitLine, TrustRecords } from '../../src/trust/records.js';

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const commit = (n: number) => n.toString(16).padStart(40, '0');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function records(): TrustRecords {
  const gitDir = mkdtempSync(join(tmpdir(), 'secretstore-records-'));
  dirs.push(gitDir);
  return new TrustRecords({ gitDir, prefix: '' });
}

describe('trust records of a long-lived client', () => {
  it('marks and head records land even after their directories were removed under the client (made again)', () => {
    const r = records();
    r.mark([commit(1)]);
    r.replaceHead('main', commit(1));
    rmSync(r.dir, { recursive: true });
    r.mark([commit(2), commit(0x1000002)]);
    r.replaceHead('main', commit(2));
    expect(r.isMarked(commit(2))).toBe(true);
    expect(r.isMarked(commit(0x1000002))).toBe(true);
    expect(r.isMarked(commit(1))).toBe(false);
    expect(r.head('main')).toBe(commit(2));
    expect(r.heads()).toEqual([{ branch: 'main', commit: commit(2) }]);
  });

  it('marks are empty files, hard links to one anchor file (a name each, no inode each), made again after ok/ is removed (a new trust root)', () => {
    const r = records();
    r.mark([commit(1), commit(2), commit(0xff000003)]);
    const file = (c: string) => join(r.dir, 'ok', c.slice(0, 2), c.slice(2));
    for (const c of [commit(1), commit(2), commit(0xff000003)]) {
      expect(r.isMarked(c)).toBe(true);
      expect(statSync(file(c)).size).toBe(0);
    }
    expect(statSync(file(commit(1))).ino).toBe(statSync(join(r.dir, 'ok', 'anchor')).ino);
    expect(statSync(file(commit(1))).nlink).toBe(4);
    rmSync(join(r.dir, 'ok'), { recursive: true });
    r.mark([commit(4), commit(4)]);
    expect(r.isMarked(commit(1))).toBe(false);
    expect(r.isMarked(commit(4))).toBe(true);
    expect(statSync(file(commit(4))).nlink).toBe(2);
  });

  it('heads.index lists each branch once however often its head moves, and a moved head is read back', () => {
    const r = records();
    for (let n = 1; n <= 5; n++) r.replaceHead('main', commit(n));
    r.setHead('feature/x', commit(9));
    r.setHead('main', commit(5));
    expect(readFileSync(join(r.dir, 'heads.index'), 'utf8')).toBe('main\nfeature/x\n');
    expect(r.heads()).toEqual([
      { branch: 'main', commit: commit(5) },
      { branch: 'feature/x', commit: commit(9) },
    ]);
    // another client of the same clone sees what this one wrote
    expect(new TrustRecords({ gitDir: dirs[0]!, prefix: '' }).head('main')).toBe(commit(5));
  });

  it('a head record grows by one line per move, reads as its last line, and is rewritten to one line when full', () => {
    const r = records();
    const file = join(r.dir, 'heads', Buffer.from('main').toString('hex'));
    for (let n = 1; n <= 3; n++) r.replaceHead('main', commit(n));
    expect(readFileSync(file, 'utf8')).toBe(`${commit(1)}\n${commit(2)}\n${commit(3)}\n`);
    expect(r.head('main')).toBe(commit(3));
    for (let n = 4; n <= 250; n++) {
      r.replaceHead('main', commit(n));
      expect(statSync(file).size).toBeLessThanOrEqual(4096 + 41);
    }
    expect(r.head('main')).toBe(commit(250));
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThan(100);
  });

  it('a head record whose last line a crash cut short reads as the line before, and the next move rewrites it whole', () => {
    const r = records();
    const file = join(r.dir, 'heads', Buffer.from('main').toString('hex'));
    mkdirSync(join(r.dir, 'heads'), { recursive: true });
    writeFileSync(file, `${commit(1)}\n${commit(2).slice(0, 17)}`);
    expect(r.head('main')).toBe(commit(1));
    r.replaceHead('main', commit(3));
    expect(r.head('main')).toBe(commit(3));
    expect(readFileSync(file, 'utf8')).toBe(`${commit(3)}\n`);
  });

  it('a one-line record of an older secretstore (SHA-1 or SHA-256 ids) reads as before', () => {
    const sha256 = 'ab'.repeat(32);
    expect(lastCommitLine(`${commit(7)}\n`)).toBe(commit(7));
    expect(lastCommitLine(`${sha256}\n`)).toBe(sha256);
    expect(lastCommitLine('')).toBeUndefined();
    expect(lastCommitLine('not a commit\n')).toBeUndefined();
  });

  it('a head record cut at any byte reads as the last commit whose line is whole, never as one nobody recorded', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hex(40), hex(64)), { minLength: 1, maxLength: 6 }), fc.nat(), (ids, cut) => {
        const text = ids.map((l) => `${l}\n`).join('');
        const at = cut % (text.length + 1);
        const whole = text.slice(0, at).split('\n').slice(0, -1);
        expect(lastCommitLine(text.slice(0, at))).toBe(whole.at(-1));
      }),
      { seed: 20261206, numRuns: 500 },
    );
  });
});

describe('headFromFiles: the commit HEAD names, from git\'s files when they say it plainly', () => {
  const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } }).trim();
  it('a branch with a loose ref and a detached HEAD are read from files; a packed ref is left to git', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretstore-head-'));
    dirs.push(dir);
    git(dir, 'init', '-q', '-b', 'main');
    expect(headFromFiles(join(dir, '.git'))).toBeUndefined(); // unborn: no ref file yet
    git(dir, '-c', 'user.name=T', '-c', 'user.email=t@x', 'commit', '-q', '--allow-empty', '-m', 'one');
    const head = git(dir, 'rev-parse', 'HEAD');
    expect(headFromFiles(join(dir, '.git'))).toBe(head);
    git(dir, 'pack-refs', '--all');
    expect(headFromFiles(join(dir, '.git'))).toBeUndefined();
    git(dir, 'checkout', '-q', '--detach');
    expect(headFromFiles(join(dir, '.git'))).toBe(head);
  });
});
