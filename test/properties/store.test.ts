/**
 * The rule behind every other property, checked on a real store (git repository, identity file, the
 * library's transaction): a request that fails leaves the repository byte for byte as it was (HEAD,
 * index, work tree), and a request either answers or fails with an AWS-named exception. Each case costs
 * git commands, so it runs few cases; the in-memory properties (protocol.test.ts) run the many.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { operations, type OperationName } from '../../src/ops/table.js';
import type { Store } from '../../src/index.js';
import { makeStore, type TestStore } from '../helpers/store.js';
import { propertyAsync, resultOrNamedErrorAsync } from './fuzz.js';
import { requestFor } from './arbitraries.js';

/** RotateSecret runs a command per step; the in-memory properties cover its first commit. */
const NAMES = (Object.keys(operations) as OperationName[]).filter((n) => n !== 'RotateSecret');
const request = fc.constantFrom(...NAMES).chain((name) => requestFor(operations[name].params).map((input) => ({ name, input })));

describe('store: requests against a real git store', () => {
  let t: TestStore;
  let store: Store;
  beforeAll(async () => {
    t = makeStore();
    store = await t.open();
    await store.createSecret({ Name: 'fuzz/a', SecretString: 'one' });
    await store.putSecretValue({ SecretId: 'fuzz/a', SecretString: 'two' });
    await store.createSecret({ Name: 'fuzz/empty' });
    await store.createSecret({ Name: 'fuzz/deleted', SecretString: 'gone' });
    await store.deleteSecret({ SecretId: 'fuzz/deleted', RecoveryWindowInDays: 7 });
  });
  afterAll(() => t.cleanup());

  propertyAsync(
    'store: any request answers or fails with an AWS-named exception, and a failed one leaves the repository byte for byte as it was',
    fc.asyncProperty(request, async ({ name, input }) => {
      const before = t.snapshot();
      const outcome = await resultOrNamedErrorAsync(() => store.client.run(name, input as never));
      if ('error' in outcome) expect(t.snapshot()).toBe(before);
      else if (!operations[name].mutates) expect(t.snapshot()).toBe(before);
    }),
    12,
    100,
  );
});
