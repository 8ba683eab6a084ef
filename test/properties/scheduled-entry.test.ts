/**
 * Properties of the scheduled-deletion entries (`.secretstore/scheduled-deletions/.../secret.yaml`,
 * src/ops/delete-secret.ts): an entry reads back as written, and any text reads as an entry or an
 * InternalServiceError naming the file.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { parseScheduled, scheduledChange, scheduledPath } from '../../src/ops/delete-secret.js';
import { anyText, property, resultOrNamedError } from './fuzz.js';
import { secretName } from './arbitraries.js';

const iso = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
const entry = fc.record({ name: secretName, deletedDate: iso });
const textOf = (e: { name: string; deletedDate: string }) => String((scheduledChange(e) as { content: string }).content);

describe('scheduled-deletion entries', () => {
  property(
    'scheduled entry: an entry reads back exactly as written',
    fc.property(entry, (e) => {
      expect(parseScheduled(textOf(e), scheduledPath(e.name))).toEqual(e);
    }),
    100,
  );

  property(
    'scheduled entry: any text reads as an entry for its own path or InternalServiceError naming the file',
    fc.property(anyText(entry.map(textOf)), entry, (t, e) => {
      const file = scheduledPath(e.name);
      const outcome = resultOrNamedError(() => parseScheduled(t, file));
      if ('error' in outcome) {
        expect(outcome.error.name).toBe('InternalServiceError');
        expect(outcome.error.message).toContain(file);
      } else expect(scheduledPath(outcome.value.name)).toBe(file);
    }),
    100,
  );
});
