/**
 * Properties of the name-to-path mapping (src/core/layout.ts): a bijection onto safe paths. Names are
 * generated from the name alphabet with a bias towards the characters that make trouble (case, `.`, `/`,
 * the reserved words), VersionIds from printable ASCII.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { indexPath, secretDir, versionFileName, versionPath } from '../../src/core/layout.js';
import { property } from './fuzz.js';
import { secretName, versionId } from './arbitraries.js';

const folded = (path: string) => path.toLowerCase();

/**
 * The inverse of the mapping, written from layout.ts's description: a left inverse proves the mapping
 * injective, and since every path it makes is lower case, injective case-insensitively too.
 */
function decodeComponent(c: string): string {
  if (c.startsWith('~')) {
    let bits = 0;
    let buffer = 0;
    const bytes: number[] = [];
    for (const ch of c.slice(1)) {
      buffer = (buffer << 5) | '0123456789abcdefghijklmnopqrstuv'.indexOf(ch);
      bits += 5;
      if (bits >= 8) {
        bytes.push((buffer >>> (bits - 8)) & 255);
        bits -= 8;
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
  const tilde = c.indexOf('~');
  if (tilde < 0) return c;
  const chars = [...c.slice(0, tilde)];
  const mask = parseBase32(c.slice(tilde + 1));
  return chars.map((ch, i) => ((mask >> BigInt(chars.length - 1 - i)) & 1n ? ch.toUpperCase() : ch)).join('');
}
function parseBase32(text: string): bigint {
  let n = 0n;
  for (const ch of text) n = n * 32n + BigInt(parseInt(ch, 32));
  return n;
}
/** Pieces of a cut component are 201 characters ending in `~`; the only other component ending in `~` is `~` itself. */
function joinPieces(parts: readonly string[]): string[] {
  const out: string[] = [];
  let carry = '';
  for (const p of parts) {
    if (p.length === 201 && p.endsWith('~')) carry += p.slice(0, -1);
    else {
      out.push(carry + p);
      carry = '';
    }
  }
  return out;
}
const nameOf = (dir: string) => joinPieces(dir.split('/').slice(1)).map(decodeComponent).join('/');
/** Every file a secret owns: its index and its sealed versions. */
const filesOf = (name: string, ids: readonly string[]) => [indexPath(name), ...ids.map((id) => versionPath(name, id))];

describe('layout: names and VersionIds to paths', () => {
  property(
    'layout: distinct names never share a folder (case-insensitive)',
    fc.property(secretName, secretName, (a, b) => {
      fc.pre(a !== b);
      expect(folded(secretDir(a))).not.toBe(folded(secretDir(b)));
    }),
    400,
  );

  property(
    'layout: a folder decodes back to its name (the mapping has an inverse, so it is injective)',
    fc.property(secretName, (name) => {
      expect(nameOf(secretDir(name))).toBe(name);
    }),
    400,
  );

  property(
    'layout: a version file name decodes back to its VersionId',
    fc.property(versionId, (id) => {
      expect(decodeComponent(versionFileName(id).slice(0, -'.sealed'.length))).toBe(id);
    }),
    400,
  );

  property(
    'layout: names differing only in case get different folders',
    fc.property(secretName, fc.func(fc.boolean()), (name, flip) => {
      const other = [...name].map((c, i) => (flip(i) ? (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) : c)).join('');
      fc.pre(other !== name);
      expect(folded(secretDir(other))).not.toBe(folded(secretDir(name)));
    }),
    300,
  );

  property(
    'layout: no file of one secret is a file of another (case-insensitive)',
    fc.property(secretName, secretName, fc.array(versionId, { maxLength: 3 }), fc.array(versionId, { maxLength: 3 }), (a, b, idsA, idsB) => {
      fc.pre(a !== b);
      const mine = new Set(filesOf(a, idsA).map(folded));
      for (const f of filesOf(b, idsB)) expect(mine.has(folded(f))).toBe(false);
    }),
    300,
  );

  property(
    'layout: paths never escape secrets/ and every component is a safe, short file name',
    fc.property(secretName, versionId, (name, id) => {
      const parts = versionPath(name, id).split('/');
      expect(parts[0]).toBe('secrets');
      for (const p of parts.slice(1)) {
        expect(p).toMatch(/^[a-z0-9_+=.@~-]+$/);
        expect(p).not.toMatch(/^\.+$/);
        expect(p.toLowerCase()).not.toBe('.git');
        expect(Buffer.byteLength(p)).toBeLessThanOrEqual(255);
      }
      // versions/ and secret.yaml only ever appear as the secret's own entries, never as a name's part
      const dirParts = secretDir(name).split('/').slice(1);
      for (const p of dirParts) expect(['versions', 'secret.yaml']).not.toContain(p);
    }),
    200,
  );

  property(
    'layout: VersionIds map to distinct single-component file names (case-insensitive)',
    fc.property(versionId, versionId, (a, b) => {
      fc.pre(a !== b);
      for (const id of [a, b]) expect(versionFileName(id)).toMatch(/^[a-z0-9_+=.@~-]+\.sealed$/);
      expect(folded(versionFileName(a))).not.toBe(folded(versionFileName(b)));
    }),
    400,
  );

  property(
    'layout: a VersionId that differs only in case gets a different file',
    fc.property(versionId, (id) => {
      const swapped = [...id].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
      fc.pre(swapped !== id);
      expect(folded(versionFileName(swapped))).not.toBe(folded(versionFileName(id)));
    }),
    300,
  );
});
