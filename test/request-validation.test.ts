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
    await expect(store.run('CreateSecret', decodeRequest('CreateSecret', Buffer.from('{}')) as never)).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must not be null",
    });
    expect(store.files).toEqual(before);
  });
});

describe('request validation: the label quota (spec Decisions: at most 20 labels per secret)', () => {
  // Found by test/properties/labels.test.ts: RotateSecret attached AWSPENDING as a 21st label, after which
  // every put failed the quota, the rotation's own createSecret step included.
  it('RotateSecret that would attach AWSPENDING as a 21st label is a LimitExceededException and changes nothing', async () => {
    const store = await seededStore(await makeKeys());
    const token = (n: number) => `quota-token-${n}`.padEnd(36, '0');
    const custom = Array.from({ length: 18 }, (_, i) => `L${i}`);
    await store.run('PutSecretValue', { SecretId: 'fuzz/a', SecretString: 'x', ClientRequestToken: token(1), VersionStages: custom });
    const before = new Map(store.files);
    await expect(store.run('RotateSecret', { SecretId: 'fuzz/a', ClientRequestToken: token(2), RotationLambdaARN: 'true' })).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
    expect(store.files).toEqual(before);
    await expect(store.run('PutSecretValue', { SecretId: 'fuzz/a', SecretString: 'y', ClientRequestToken: token(3) })).resolves.toMatchObject({ VersionStages: ['AWSCURRENT'] });
  });
});
