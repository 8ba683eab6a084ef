/**
 * Properties of the fast writer for the store's own YAML (src/core/store-yaml-write.ts): whatever it
 * writes is byte for byte what the `yaml` package's stringify writes for the same value (the path it
 * replaces), and it writes every label index and sealed file of an ordinary put itself; anything it
 * does not fully know it declines, so the package stays the authority.
 */
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect } from 'vitest';
import { parseSecretIndex, secretIndexDocument, serializeSecretIndex, takeWrittenIndexes } from '../../src/core/codec.js';
import { writeStoreYaml } from '../../src/core/store-yaml-write.js';
import { sealValue } from '../../src/crypto/envelope.js';
import type { SecretIndex } from '../../src/model/store.js';
import { property } from './fuzz.js';
import { binding, isoInstant, putIndex, secretIndex, secretValue, versionId } from './arbitraries.js';
import { makeKeys, type Keys } from './memory-store.js';

/** The options of the yaml path: the label index's, and the sealed file's (the package's default schema is core). */
const INDEX_OPTIONS = { lineWidth: 0, schema: 'core' } as const;
const SEALED_OPTIONS = { lineWidth: 0 } as const;

/** The fast writer wrote the package's text, or declined; says which. */
function agrees(value: Record<string, unknown>): 'written' | 'declined' {
  const fast = writeStoreYaml(value);
  if (fast === undefined) return 'declined';
  expect(fast).toBe(stringify(value, INDEX_OPTIONS));
  expect(fast).toBe(stringify(value, SEALED_OPTIONS));
  return 'written';
}

/** Characters that change how YAML writes a string: indicators, quotes, spaces, breaks, digits, letters of true/null/.inf/0x, controls. */
const hard = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', '1', '9', '-', '+', '.', ':', ' ', '#', 'e', 'E', 'x', 'o', 'n', 'u', 'l', 't', 'r', 'f', 'N', 'T', 'F', '~', '?', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '=', '/', '\n', '\t', '\r', '\u0085', '\u2028', '\ufeff', '\u00e9', '\u00a0', '\u007f', '\ud83d\ude00', '\ud800', '\\'),
  maxLength: 12,
});
const known = fc.constantFrom(
  '', ' ', 'true', 'True', 'FALSE', 'null', 'Null', '~', '123', '-1', '+1', '007', '0o17', '0x1F', '1e3', '1.5', '.5', '.inf', '-.Inf', '.nan', '-', '- a', '? x', ':x', 'x:', 'a: b',
  'a #b', 'a#b', '---', '---x', '...', '...x', '%x', '@x', '`x', '{}', '[]', '__proto__', 'a'.repeat(1001), 'a'.repeat(1024), 'a'.repeat(1025), '2026-12-06T16:49:51.164Z',
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:a/b-AbC123', '12345678-1234-1234-1234-123456789012', '1e345678-0000-4000-8000-000000000001', '0000-01-01T00:00:00.000Z', 'rate(10 days)', 'cron(0 0 * * ? *)', 'secretstore.sealed/2', 'AbC+/def==',
);
const str = fc.oneof(hard, known, fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 10 }));
const leaf = fc.oneof(
  { weight: 6, arbitrary: str },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constantFrom(0, -0, 1.5, 2 ** 53, -(2 ** 53), Number.NaN, Infinity, 1e21)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, new Date(0), 10n) },
);
/** Nested maps and lists of those strings and scalars, with some objects shared (the package aliases those). */
const { tree } = fc.letrec<{ tree: Record<string, unknown>; node: unknown }>((tie) => ({
  tree: fc.dictionary(str, tie('node'), { maxKeys: 5 }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('tree'), fc.array(tie('node'), { maxLength: 4 })),
}));
const shared = fc.tuple(tree, fc.dictionary(str, fc.constant(0), { minKeys: 1, maxKeys: 2 }), fc.nat()).map(([t, child, n]) => {
  const keys = ['first', 'second', 'third'];
  const out: Record<string, unknown> = { ...t };
  for (const k of keys.slice(0, 2 + (n % 2))) out[k] = n % 3 === 0 ? [child] : child;
  return out;
});

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});

describe('store YAML fast writer', () => {
  property(
    'store yaml write: any nested value is written as the yaml package writes it, byte for byte, or declined',
    fc.property(fc.oneof(tree, shared), (value) => {
      agrees(value);
    }),
    2000,
  );

  property(
    'store yaml write: every label index is written as the yaml package writes it, byte for byte, or declined',
    fc.property(secretIndex, (index) => {
      agrees(secretIndexDocument(index));
    }),
    500,
  );

  property(
    'store yaml write: the label index a put writes is always written fast, and serializeSecretIndex writes the yaml package text',
    fc.property(putIndex, (index) => {
      const document = secretIndexDocument(index);
      expect(agrees(document)).toBe('written');
      expect(serializeSecretIndex(index)).toBe(
        '# secretstore label index: plaintext on purpose, so label moves are reviewable\n' + stringify(document, INDEX_OPTIONS),
      );
    }),
    100,
  );

  property(
    'store yaml write: every sealed file is the yaml package text of its own fields, and those of a put (UUID version, ASCII ids) are written fast',
    fc.property(secretValue, binding, fc.boolean(), fc.option(fc.uuid(), { nil: undefined }), (value, bound, committed, uuid) => {
      const b = uuid === undefined ? bound : { storeId: 'store-0001', secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:a/b-AbCdEf', versionId: uuid };
      const text = sealValue(value, b, [keys.recipient], committed ? keys.signer : undefined);
      const [header, ...rest] = text.split('\n');
      expect(header!.startsWith('# ')).toBe(true);
      const body = rest.join('\n');
      const fields = parse(body) as Record<string, unknown>;
      expect(body).toBe(stringify(fields, SEALED_OPTIONS));
      if (uuid !== undefined) expect(writeStoreYaml(fields)).toBe(body);
    }),
    100,
    2,
  );

  property(
    'store yaml write: an index this process wrote is remembered with its text exactly as a read of the text parses it (or not at all)',
    fc.property(fc.oneof(secretIndex, putIndex), (index) => {
      takeWrittenIndexes();
      const text = serializeSecretIndex(index);
      const remembered = new Map(takeWrittenIndexes()).get(text);
      let parsed: SecretIndex | undefined;
      try {
        parsed = parseSecretIndex(text, 'index');
      } catch {
        expect(remembered).toBeUndefined();
        return;
      }
      if (remembered === undefined) return;
      expect(remembered).toStrictEqual(parsed);
      expect(JSON.stringify(remembered)).toBe(JSON.stringify(parsed));
    }),
    500,
  );

  property(
    'store yaml write: VersionIds of the whole spec alphabet as keys are written as the yaml package writes them, or declined',
    fc.property(fc.uniqueArray(versionId, { maxLength: 8 }), isoInstant, (ids, when) => {
      agrees({ versions: Object.fromEntries(ids.map((id) => [id, when])) });
    }),
    500,
  );
});
