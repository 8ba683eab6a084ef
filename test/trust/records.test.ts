/**
 * The clone's trust records (src/trust/records.ts) as a long-lived client keeps writing them: it
 * remembers which directories exist and which branches heads.index lists, so a put makes no directory
 * and reads no index; these tests hold that memory to the files on disk.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TrustRecords } from '../../src/trust/records.js';

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
});
