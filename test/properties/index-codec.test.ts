/**
 * Properties of the label index codec (`secret.yaml`, src/core/codec.ts): what is written reads back the
 * same through UTF-8 bytes, and any text reads as a valid index or an InternalServiceError naming the
 * file, never a crash, a hang or an index that breaks the label invariants.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { parseSecretIndex, serializeSecretIndex } from '../../src/core/codec.js';
import { anyText, property, resultOrNamedError } from './fuzz.js';
import { secretIndex } from './arbitraries.js';

const FILE = 'secrets/fuzz/secret.yaml';
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
