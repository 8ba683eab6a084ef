/**
 * Properties of the configuration codec (`.secretstore.yaml`, src/core/codec.ts): a configuration reads
 * back as written, and any text reads as a configuration or an InternalServiceError naming the file.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { parseConfig, serializeConfig } from '../../src/core/codec.js';
import type { StoreConfig } from '../../src/model/store.js';
import { anyText, property, resultOrNamedError } from './fuzz.js';

const FILE = '.secretstore.yaml';
const text = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.constantFrom('true', 'null', '~', '007', '1e3', 'a: b', '- x', '#', '__proto__', ' '),
);
const scope = fc.option(fc.array(text, { minLength: 1, maxLength: 3 }), { nil: undefined });
const entries = <K extends string>(keyField: K) =>
  fc.array(fc.record({ name: text, [keyField]: text, scope } as Record<string, fc.Arbitrary<unknown>>), { maxLength: 3 }).map((list) =>
    list.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined))),
  );
const count = fc.nat({ max: 1_000_000 });

export const storeConfig: fc.Arbitrary<StoreConfig> = fc
  .record({
    storeId: text,
    region: text,
    account: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 12, maxLength: 12 }),
    recipients: entries('publicKey'),
    writers: entries('writerKey'),
    policy: fc.record({ pruneAbove: count, minVersionAgeHours: count, versionQuota: count, defaultRecoveryWindowInDays: count }),
  })
  .map((r) => ({ format: 1, ...r }) as unknown as StoreConfig);

const throughBytes = (t: string) => Buffer.from(t, 'utf8').toString('utf8');

describe('config codec: .secretstore.yaml', () => {
  property(
    'config codec: a configuration reads back exactly as written (round trip through UTF-8)',
    fc.property(storeConfig, (config) => {
      expect(parseConfig(throughBytes(serializeConfig(config)), FILE)).toEqual(config);
    }),
    60,
    2,
  );

  property(
    'config codec: any text reads as a configuration or InternalServiceError naming the file',
    fc.property(anyText(storeConfig.map(serializeConfig)), (t) => {
      const outcome = resultOrNamedError(() => parseConfig(t, FILE));
      if ('error' in outcome) {
        expect(outcome.error.name).toBe('InternalServiceError');
        expect(outcome.error.message).toContain(FILE);
        return;
      }
      const config = outcome.value;
      expect(config.account).toMatch(/^[0-9]{12}$/);
      for (const n of Object.values(config.policy)) expect(Number.isInteger(n) && n >= 0).toBe(true);
      expect(parseConfig(serializeConfig(config), FILE)).toEqual(config);
    }),
    200,
    2,
  );
});
