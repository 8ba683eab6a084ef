/**
 * Properties of the configuration codec (`.secretstore.yaml`, src/core/codec.ts): a configuration reads
 * back as written, and any text reads as a configuration or an InternalServiceError naming the file.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { parseConfig, serializeConfig } from '../../src/core/codec.js';
import { anyText, property, resultOrNamedError } from './fuzz.js';
import { storeConfig } from './arbitraries.js';

const FILE = '.secretstore.yaml';
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
