/**
 * treeEntry (src/git/tree-entries.ts) finds one entry of a raw git tree object without decoding the
 * others (a get reads one entry of a versions folder of any size): it answers what decoding every entry
 * (treeEntries) and picking the one named would.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { treeEntries, treeEntry } from '../../src/git/tree-entries.js';
import { property } from './fuzz.js';

const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((n) => !n.includes('\0') && !n.includes('/'));
const entry = fc.record({ mode: fc.constantFrom('100644', '100755', '120000', '40000', '160000'), name, oid: fc.uint8Array({ minLength: 20, maxLength: 20 }) });

function rawTree(entries: readonly { mode: string; name: string; oid: Uint8Array }[]): Buffer {
  return Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'), Buffer.from(e.oid)]));
}

describe('tree entries', () => {
  property(
    'tree entries: one entry found by name is the entry decoding the whole tree finds (names that share prefixes, any Unicode, a cut tree)',
    fc.property(fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 20 }), fc.oneof(name, fc.constantFrom('a', 'ab', 'secret.yaml')), fc.nat(), (entries, wanted, cut) => {
      const raw = rawTree(entries);
      const content = cut % 4 === 0 ? raw.subarray(0, cut % (raw.length + 1)) : raw;
      expect(treeEntry(content, wanted, 20)).toEqual(treeEntries(content, 20).find((e) => e.name === wanted));
      for (const e of entries.slice(0, 3)) expect(treeEntry(content, e.name, 20)).toEqual(treeEntries(content, 20).find((d) => d.name === e.name));
    }),
    500,
  );
});
