/**
 * Properties of the label index codec (`secret.yaml`, src/core/codec.ts): what is written reads back the
 * same through UTF-8 bytes, and any text reads as a valid index or an InternalServiceError naming the
 * file, never a crash, a hang or an index that breaks the label invariants.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { parseSecretIndex, serializeSecretIndex } from '../../src/core/codec.js';
import type { SecretIndex } from '../../src/model/store.js';
import { anyText, property, resultOrNamedError } from './fuzz.js';
import { secretName, versionId } from './arbitraries.js';

const FILE = 'secrets/fuzz/secret.yaml';
/** Text as a user may type it: any well-formed Unicode, with the strings YAML would read as something else. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.constantFrom('true', 'null', '~', '123', '0x1F', '1e3', '.inf', '-', '? x', '# not a comment', 'a: b', '- a', '2026-12-06', "'quoted'", '"', '\n', ' lead', 'trail ', '__proto__'),
);
const iso = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
/** VersionIds as YAML keys: also ones YAML would read as numbers. */
const id = fc.oneof(versionId, fc.string({ unit: fc.constantFrom(...'0123456789.e+-x'), minLength: 32, maxLength: 64 }));
const label = fc.oneof(fc.constantFrom('AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', '__proto__', 'constructor'), text);

export const secretIndex: fc.Arbitrary<SecretIndex> = fc
  .record({
    name: secretName,
    suffix: fc.string({ unit: fc.constantFrom(...'abcXYZ019'), minLength: 6, maxLength: 6 }),
    description: fc.option(text, { nil: undefined }),
    kmsKeyId: fc.option(text, { nil: undefined }),
    tags: fc.option(fc.array(fc.record({ Key: text, Value: fc.oneof(text, fc.constant('')) }), { maxLength: 4 }), { nil: undefined }),
    createdDate: iso,
    lastChangedDate: iso,
    deletedDate: fc.option(iso, { nil: undefined }),
    rotation: fc.option(
      fc.record(
        {
          enabled: fc.boolean(),
          lambdaArn: text,
          rules: fc.record({ AutomaticallyAfterDays: fc.integer({ min: 1, max: 1000 }), Duration: fc.constantFrom('2h', '24h'), ScheduleExpression: text }, { requiredKeys: [] }),
          lastRotatedDate: iso,
          nextRotationDate: iso,
        },
        { requiredKeys: ['enabled'] },
      ),
      { nil: undefined },
    ),
    versions: fc.uniqueArray(fc.tuple(id, iso), { selector: ([v]) => v, maxLength: 5 }),
    placeholders: fc.uniqueArray(fc.tuple(id, iso), { selector: ([v]) => v, maxLength: 2 }),
    labels: fc.uniqueArray(fc.tuple(label, fc.nat()), { selector: ([l]) => l, maxLength: 6 }),
    previousToo: fc.boolean(),
  })
  .map((r) => {
    const versions = Object.fromEntries(r.versions);
    const placeholders = Object.fromEntries(r.placeholders.filter(([p]) => !(p in versions)));
    const targets = [...Object.keys(versions), ...Object.keys(placeholders)];
    const labels: Record<string, string> = {};
    const put = (l: string, v: string) => Object.defineProperty(labels, l, { value: v, enumerable: true, writable: true, configurable: true });
    if (targets.length > 0) for (const [l, n] of r.labels) put(l, targets[n % targets.length]!);
    const ids = Object.keys(versions);
    // the invariants the index keeps: AWSCURRENT on a version once there is one, never with AWSPREVIOUS
    delete labels.AWSCURRENT;
    delete labels.AWSPREVIOUS;
    if (ids.length > 0) put('AWSCURRENT', ids[0]!);
    if (ids.length > 1 && r.previousToo) put('AWSPREVIOUS', ids[1]!);
    const index: SecretIndex = {
      name: r.name,
      arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${r.name}-${r.suffix}`,
      ...(r.description === undefined ? {} : { description: r.description }),
      ...(r.kmsKeyId === undefined ? {} : { kmsKeyId: r.kmsKeyId }),
      ...(r.tags === undefined ? {} : { tags: r.tags }),
      createdDate: r.createdDate,
      lastChangedDate: r.lastChangedDate,
      ...(r.deletedDate === undefined ? {} : { deletedDate: r.deletedDate }),
      ...(r.rotation === undefined ? {} : { rotation: r.rotation }),
      labels,
      versions,
      ...(Object.keys(placeholders).length > 0 ? { placeholders } : {}),
    };
    return index;
  });

/** Written to disk and read back: through UTF-8 bytes, as git stores it. */
const throughBytes = (t: string) => Buffer.from(t, 'utf8').toString('utf8');

describe('index codec: secret.yaml', () => {
  property(
    'index codec: an index reads back exactly as written (round trip through UTF-8)',
    fc.property(secretIndex, (index) => {
      const parsed = parseSecretIndex(throughBytes(serializeSecretIndex(index)), FILE);
      expect(parsed).toEqual(index);
      expect(Object.keys(parsed.labels).sort()).toEqual(Object.keys(index.labels).sort());
    }),
    60,
    2,
  );

  property(
    'index codec: any text reads as an index that keeps the label invariants, or InternalServiceError naming the file',
    fc.property(anyText(secretIndex.map(serializeSecretIndex)), (t) => {
      const outcome = resultOrNamedError(() => parseSecretIndex(t, FILE));
      if ('error' in outcome) {
        expect(outcome.error.name).toBe('InternalServiceError');
        expect(outcome.error.message).toContain(FILE);
        return;
      }
      const index = outcome.value;
      const known = { ...index.versions, ...index.placeholders };
      for (const target of Object.values(index.labels)) expect(Object.hasOwn(known, target)).toBe(true);
      if (Object.keys(index.versions).length > 0) expect(index.labels.AWSCURRENT).toBeDefined();
      if (index.labels.AWSCURRENT !== undefined) expect(index.labels.AWSPREVIOUS).not.toBe(index.labels.AWSCURRENT);
      // what was read is written in the canonical form, which reads back the same
      expect(parseSecretIndex(serializeSecretIndex(index), FILE)).toEqual(index);
    }),
    200,
    2,
  );
});
