/**
 * Requests that reach an operation without the CLI's checks (serve's raw JSON, the library): counterexamples
 * the property tests (test/properties/protocol.test.ts) found, run through the real operations on an
 * in-memory store.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRequest } from '../src/server/protocol.js';
import { makeKeys, seededStore, type MemoryStore } from './properties/memory-store.js';

describe('request validation: members a raw request may leave out', () => {
  let store: MemoryStore;
  beforeAll(async () => {
    store = await seededStore(await makeKeys());
  });

  it('CreateSecret without Name is a ValidationException (was a TypeError, answered by serve as a 500)', async () => {
    const before = new Map(store.files);
    await expect(store.run('CreateSecret', decodeRequest('CreateSecret', '{}') as never)).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must not be null",
    });
    expect(store.files).toEqual(before);
  });
});
