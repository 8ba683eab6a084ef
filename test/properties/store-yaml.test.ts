/**
 * Properties of the fast reader for the store's own YAML (src/core/store-yaml.ts): on every file our
 * encoders write it returns exactly what the `yaml` package reads (core schema, `toJS()`), and on any
 * other text (hand edits, damage, random documents) it returns exactly that too, or declines, so the
 * `yaml` package stays the authority.
 */
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { beforeAll, describe, expect } from 'vitest';
import { isoTimestamp, serializeConfig, serializeSecretIndex, unsignedText } from '../../src/core/codec.js';
import { readStoreYaml } from '../../src/core/store-yaml.js';
import { sealValue } from '../../src/crypto/envelope.js';
import { anyText, property } from './fuzz.js';
import { binding, ordinaryIndex, secretIndex, secretValue, storeConfig } from './arbitraries.js';
import { makeKeys, type Keys } from './memory-store.js';

/** What the `yaml` package reads, or undefined when it reports an error (the fast reader must then decline). */
function authority(text: string): { value: unknown } | undefined {
  const doc = parseDocument(text, { schema: 'core' });
  if (doc.errors.length > 0) return undefined;
  try {
    return { value: doc.toJS() };
  } catch {
    return undefined;
  }
}

/** The fast reader agrees with the `yaml` package, or declines; says which. */
function agrees(text: string): 'read' | 'declined' {
  const fast = readStoreYaml(text);
  if (fast === undefined) return 'declined';
  const reference = authority(text);
  expect(reference, 'the fast reader read a text the yaml package refuses').toBeDefined();
  expect(fast).toStrictEqual(reference!.value);
  return 'read';
}

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});

describe('store YAML fast reader', () => {
  property(
    'store yaml: every label index the encoder writes reads as the yaml package reads it, or is declined',
    fc.property(secretIndex, (index) => {
      agrees(serializeSecretIndex(index));
    }),
    200,
  );

  property(
    'store yaml: an index of names, ids and labels secretstore makes is always read fast, as the yaml package reads it',
    fc.property(ordinaryIndex, (index) => {
      expect(agrees(serializeSecretIndex(index))).toBe('read');
    }),
    200,
  );

  property(
    'store yaml: every configuration the encoder writes reads as the yaml package reads it, or is declined',
    fc.property(storeConfig, (config) => {
      agrees(unsignedText(serializeConfig(config)));
    }),
    200,
  );

  property(
    'store yaml: every sealed file is read fast, as the yaml package reads it (with and without a commitment)',
    fc.property(secretValue, binding, fc.boolean(), (value, bound, committed) => {
      expect(agrees(sealValue(value, bound, [keys.recipient], committed ? keys.signer : undefined))).toBe('read');
    }),
    60,
    2,
  );

  property(
    'store yaml: any text (hand edits, damage, other documents) reads as the yaml package reads it, or is declined',
    fc.property(anyText(fc.oneof(secretIndex.map(serializeSecretIndex), ordinaryIndex.map(serializeSecretIndex), storeConfig.map(serializeConfig))), (text) => {
      agrees(text);
    }),
    1000,
  );

  property(
    'store yaml: hand-written YAML in forms the encoder never uses reads as the yaml package reads it, or is declined',
    fc.property(
      fc.array(
        fc.tuple(
          fc.constantFrom('', '  ', '    ', '- ', '  - '),
          fc.constantFrom('key', '"key"', "'k''ey'", 'a b', '123', 'true', '~', '__proto__', '? x', '-', 'a:b', 'x #y', '&a k', '*a', '!!str k', '"a\\"b"', '"\\x41"'),
          fc.constantFrom(':', ': ', ':  ', ' :'),
          fc.constantFrom('', 'v', '"v"', "'v'", "'it''s'", '{}', '[]', '{a: 1}', '[1, 2]', '|', '>-', '1', '-1', '+1', '007', '0x1F', '1e3', '.5', '.inf', '-0', '12345678901234567890', 'null', 'Null', 'TRUE', 'False', 'yes', '~', 'a: b', 'a #c', 'a#c', 'x:', 'x: ', '"\\u00e9\\/"', '"\\ud83d\\ude00"', '"\\e"', '&x v', '*x', '!!int 3', '2020-01-01', '"unterminated'),
        ),
        { minLength: 1, maxLength: 8 },
      ).map((lines) => lines.map(([indent, key, colon, value]) => `${indent}${key}${colon}${value}`).join('\n') + '\n'),
      (text) => {
        agrees(text);
      },
    ),
    1000,
  );

  property(
    'codec timestamps: a timestamp reads as a Date round trip reads it (the canonical form without one)',
    fc.property(
      fc.oneof(
        fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString()),
        fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 999 })).map(
          ([y, mo, d, h, mi, sec, ms]) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(sec).padStart(2, '0')}.${String(ms).padStart(3, '0')}Z`,
        ),
        fc.string({ maxLength: 30 }),
      ),
      (v) => {
        const when = Date.parse(v);
        expect(isoTimestamp(v)).toBe(Number.isNaN(when) ? undefined : new Date(when).toISOString());
      },
    ),
    1000,
  );
});
