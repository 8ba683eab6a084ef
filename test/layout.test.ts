import { describe, expect, it } from 'vitest';
import { secretDir, versionFileName } from '../src/core/layout.js';

describe('names to paths', () => {
  it('a lower-case name reads as itself', () => {
    expect(secretDir('prod/db/password')).toBe('secrets/prod/db/password');
  });
  it('names differing only in case get different folders even on a case-insensitive file system', () => {
    const names = ['MyDb', 'mydb', 'MYDB', 'myDB', 'Mydb'];
    const folded = names.map((n) => secretDir(n).toLowerCase());
    expect(new Set(folded).size).toBe(names.length);
  });
  it('every component is lower case', () => {
    for (const n of ['MyTestDatabaseSecret', 'A/B/C', '.Hidden', 'EXAMPLE']) expect(secretDir(n)).toBe(secretDir(n).toLowerCase());
  });
  it('dot segments, empty segments and reserved names cannot escape or collide with the store layout', () => {
    for (const name of ['..', '../x', 'a/../b', 'a/./b', '/a', 'a//b', 'a/', '.git', 'a/versions', 'a/secret.yaml', 'CON']) {
      const parts = secretDir(name).split('/').slice(1);
      for (const p of parts) {
        expect(p).not.toMatch(/^\.{1,2}$/);
        expect(p).not.toBe('');
        expect(p).not.toMatch(/^\.git$/i);
        expect(p).not.toBe('versions');
        expect(p).not.toBe('secret.yaml');
      }
    }
  });
  it('the mapping is injective over tricky names', () => {
    const names = ['a', 'a/b', 'a-b', 'a_b', 'A', 'a/B', 'A/b', '', '.', '..', '/a', 'a/', 'a//b', 'versions', 'Versions',
      'a/versions', 'x'.repeat(512), 'x'.repeat(200) + '/' + 'x'.repeat(311), 'x'.repeat(511) + 'X'];
    const dirs = names.map((n) => secretDir(n).toLowerCase());
    expect(new Set(dirs).size).toBe(names.length);
  });
  it('a 512-character name stays within 255-byte file name limits', () => {
    for (const name of ['x'.repeat(512), 'X'.repeat(512), '.'.repeat(512)]) {
      for (const part of secretDir(name).split('/')) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(255);
    }
  });
  it('VersionIds map to distinct, case-insensitive-safe file names', () => {
    const ids = ['EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE', 'example2-90ab-cdef-fedc-ba987example', 'a'.repeat(32), 'a b/c:d'.padEnd(40, 'x')];
    const files = ids.map((id) => versionFileName(id).toLowerCase());
    expect(new Set(files).size).toBe(ids.length);
    for (const f of files) expect(f).toMatch(/^[a-z0-9_+=.@~-]+\.sealed$/);
    expect(versionFileName('0d9b6c8e-0b1a-4c1e-9d5e-1234567890ab')).toBe('0d9b6c8e-0b1a-4c1e-9d5e-1234567890ab.sealed');
  });
});
