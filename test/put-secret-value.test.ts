import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import type { Store } from '../src/index.js';

const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

let t: TestStore;
let store: Store;
let seq = 0;
/** A fresh secret with one version `v0` (token T(0)) per test. */
async function secret(value = 'v0'): Promise<string> {
  const name = `put-test-${++seq}`;
  await store.createSecret({ Name: name, SecretString: value, ClientRequestToken: T(0) });
  return name;
}
async function stages(name: string): Promise<Record<string, string[]>> {
  return (await store.describeSecret({ SecretId: name })).VersionIdsToStages ?? {};
}
function head(): string {
  return t.git(['rev-parse', 'HEAD']).trim();
}

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
});
afterAll(() => t.cleanup());

describe('PutSecretValue (spec 3.2, 4.2, 8.3)', () => {
  it('without VersionStages AWSCURRENT moves to the new version and AWSPREVIOUS to the one it left (#19)', async () => {
    const name = await secret();
    const r = await store.putSecretValue({ SecretId: name, SecretString: 'v1b', ClientRequestToken: T(1) });
    expect(r.VersionStages).toEqual(['AWSCURRENT']);
    expect(await stages(name)).toEqual({ [T(0)]: ['AWSPREVIOUS'], [T(1)]: ['AWSCURRENT'] });
  });

  it('a third put deprecates the old AWSPREVIOUS, which stays readable by VersionId (#20, #21)', async () => {
    const name = await secret();
    await store.putSecretValue({ SecretId: name, SecretString: 'v1', ClientRequestToken: T(1) });
    await store.putSecretValue({ SecretId: name, SecretString: 'v2', ClientRequestToken: T(2) });
    expect(await stages(name)).toEqual({ [T(1)]: ['AWSPREVIOUS'], [T(2)]: ['AWSCURRENT'] });
    const listed = await store.listSecretVersionIds({ SecretId: name });
    expect(listed.Versions.map((v) => v.VersionId)).toEqual([T(2), T(1)]);
    const all = await store.listSecretVersionIds({ SecretId: name, IncludeDeprecated: true });
    const deprecated = all.Versions.find((v) => v.VersionId === T(0))!;
    expect(deprecated).toBeDefined();
    expect('VersionStages' in deprecated).toBe(false);
    expect((await store.getSecretValue({ SecretId: name, VersionId: T(0) })).SecretString).toBe('v0');
  });

  it('with VersionStages [AWSPENDING] AWSCURRENT stays where it is (#22)', async () => {
    const name = await secret();
    const r = await store.putSecretValue({ SecretId: name, SecretString: 'p', ClientRequestToken: T(1), VersionStages: ['AWSPENDING'] });
    expect(r.VersionStages).toEqual(['AWSPENDING']);
    const current = await store.getSecretValue({ SecretId: name });
    expect(current.SecretString).toBe('v0');
    expect(current.VersionStages).toEqual(['AWSCURRENT']);
  });

  it('listed labels move from whichever version held them (#23, #24)', async () => {
    const name = await secret();
    await store.putSecretValue({ SecretId: name, SecretString: 'a', ClientRequestToken: T(1), VersionStages: ['one', 'two', 'three'] });
    await store.putSecretValue({ SecretId: name, SecretString: 'b', ClientRequestToken: T(2), VersionStages: ['one', 'two', 'four'] });
    expect(await stages(name)).toEqual({ [T(0)]: ['AWSCURRENT'], [T(1)]: ['three'], [T(2)]: ['four', 'one', 'two'] });
    expect((await store.getSecretValue({ SecretId: name, VersionStage: 'one' })).SecretString).toBe('b');
  });

  it('a version that loses all its labels is deprecated (#25)', async () => {
    const name = await secret();
    await store.putSecretValue({ SecretId: name, SecretString: 'a', ClientRequestToken: T(1), VersionStages: ['one', 'two', 'three'] });
    await store.putSecretValue({ SecretId: name, SecretString: 'b', ClientRequestToken: T(2), VersionStages: ['one', 'two', 'three', 'four'] });
    expect(Object.keys(await stages(name)).sort()).toEqual([T(0), T(2)]);
  });

  it('AWSPREVIOUS follows AWSCURRENT when AWSCURRENT is listed with other labels (#26)', async () => {
    const name = await secret();
    await store.putSecretValue({ SecretId: name, SecretString: 'a', ClientRequestToken: T(1), VersionStages: ['AWSCURRENT', 'PUT0'] });
    expect(await stages(name)).toEqual({ [T(0)]: ['AWSPREVIOUS'], [T(1)]: ['AWSCURRENT', 'PUT0'] });
  });

  it('the first version of a secret created without a value gets AWSCURRENT (#27, #28)', async () => {
    await store.createSecret({ Name: 'empty-1' });
    expect((await store.putSecretValue({ SecretId: 'empty-1', SecretString: 'x', ClientRequestToken: T(1) })).VersionStages).toEqual(['AWSCURRENT']);
    await store.createSecret({ Name: 'empty-2' });
    const r = await store.putSecretValue({ SecretId: 'empty-2', SecretString: 'x', ClientRequestToken: T(1), VersionStages: ['AWSPENDING'] });
    expect(r.VersionStages!.sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });

  it('same token and same value succeeds and changes nothing, not even labels, and makes no commit (#29, #31)', async () => {
    const name = await secret('Hello');
    const before = head();
    const r = await store.putSecretValue({ SecretId: name, SecretString: 'Hello', ClientRequestToken: T(0), VersionStages: ['X'] });
    expect(r).toMatchObject({ Name: name, VersionId: T(0), VersionStages: ['AWSCURRENT'] });
    expect(head()).toBe(before);
    expect(await stages(name)).toEqual({ [T(0)]: ['AWSCURRENT'] });
  });

  it('same token and a different value is ResourceExistsException (#30)', async () => {
    const name = await secret('Hello');
    const before = t.snapshot();
    await expect(store.putSecretValue({ SecretId: name, SecretString: 'Hi', ClientRequestToken: T(0) })).rejects.toMatchObject({
      name: 'ResourceExistsException',
      message: expect.stringContaining(`You can't use ClientRequestToken ${T(0)} because that value is already in use`),
    });
    expect(t.snapshot()).toBe(before);
  });

  it('same token with the other kind of value (binary for a string) is ResourceExistsException', async () => {
    const name = await secret('Hello');
    await expect(
      store.putSecretValue({ SecretId: name, SecretBinary: new TextEncoder().encode('Hello'), ClientRequestToken: T(0) }),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
  });

  it('the same value with different tokens makes two versions (#32)', async () => {
    const name = await secret();
    await store.putSecretValue({ SecretId: name, SecretString: 'same', ClientRequestToken: T(1) });
    await store.putSecretValue({ SecretId: name, SecretString: 'same', ClientRequestToken: T(2) });
    expect((await store.listSecretVersionIds({ SecretId: name, IncludeDeprecated: true })).Versions).toHaveLength(3);
  });

  it('neither SecretString nor SecretBinary is InvalidRequestException (#33)', async () => {
    const name = await secret();
    await expect(store.putSecretValue({ SecretId: name, ClientRequestToken: T(1) })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'You must provide either SecretString or SecretBinary.',
    });
  });

  it('both SecretString and SecretBinary is InvalidParameterException', async () => {
    const name = await secret();
    await expect(
      store.putSecretValue({ SecretId: name, SecretString: 'a', SecretBinary: new Uint8Array([1]), ClientRequestToken: T(1) }),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining("can't specify both") });
  });

  it('a secret that does not exist is ResourceNotFoundException (#34)', async () => {
    await expect(store.putSecretValue({ SecretId: 'no-such-secret', SecretString: 'x' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('a missing token is generated as a UUIDv4 and becomes the VersionId', async () => {
    const name = await secret();
    const r = await store.putSecretValue({ SecretId: name, SecretString: 'x' });
    expect(r.VersionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await store.getSecretValue({ SecretId: name })).VersionId).toBe(r.VersionId);
  });

  it('binary values with any bytes round-trip byte for byte (#36)', async () => {
    const name = await secret();
    const bytes = new Uint8Array([0, 1, 2, 0xff, 0xc3, 0x28, 0, 0x80]);
    await store.putSecretValue({ SecretId: name, SecretBinary: bytes, ClientRequestToken: T(1) });
    const got = await store.getSecretValue({ SecretId: name });
    expect(got.SecretString).toBeUndefined();
    expect(Buffer.from(got.SecretBinary!).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a value of 65,537 bytes is ValidationException and 65,536 is accepted (#37)', async () => {
    const name = await secret();
    await expect(store.putSecretValue({ SecretId: name, SecretString: 'x'.repeat(65_537) })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(store.putSecretValue({ SecretId: name, SecretString: 'é'.repeat(32_769) })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(store.putSecretValue({ SecretId: name, SecretString: 'x'.repeat(65_536) })).resolves.toMatchObject({ Name: name });
  });

  it('21 labels in VersionStages is ValidationException (#38)', async () => {
    const name = await secret();
    const labels = Array.from({ length: 21 }, (_, i) => `L${i}`);
    await expect(store.putSecretValue({ SecretId: name, SecretString: 'x', VersionStages: labels })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('more than 20 distinct labels across a secret is LimitExceededException', async () => {
    const name = await secret();
    await store.putSecretValue({ SecretId: name, SecretString: 'a', ClientRequestToken: T(1), VersionStages: Array.from({ length: 19 }, (_, i) => `A${i}`) });
    const before = t.snapshot();
    await expect(store.putSecretValue({ SecretId: name, SecretString: 'b', ClientRequestToken: T(2), VersionStages: ['B0'] })).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
    expect(t.snapshot()).toBe(before);
  });

  it('put leaves Description and Tags untouched (#39)', async () => {
    await store.createSecret({ Name: 'described', Description: 'd', Tags: [{ Key: 'k', Value: 'v' }], SecretString: 'x' });
    await store.putSecretValue({ SecretId: 'described', SecretString: 'y' });
    expect(await store.describeSecret({ SecretId: 'described' })).toMatchObject({ Description: 'd', Tags: [{ Key: 'k', Value: 'v' }] });
  });

  it('tokens of 31 and 65 characters are ValidationException and change nothing (#40)', async () => {
    const name = await secret();
    const before = t.snapshot();
    for (const token of ['a'.repeat(31), 'a'.repeat(65)]) {
      await expect(store.putSecretValue({ SecretId: name, SecretString: 'x', ClientRequestToken: token })).rejects.toMatchObject({ name: 'ValidationException' });
    }
    expect(t.snapshot()).toBe(before);
  });

  it('the secret can be named by full ARN and by partial ARN (#13, #14)', async () => {
    const name = await secret();
    const { ARN } = await store.describeSecret({ SecretId: name });
    await store.putSecretValue({ SecretId: ARN, SecretString: 'by-arn', ClientRequestToken: T(1) });
    await store.putSecretValue({ SecretId: ARN.slice(0, -7), SecretString: 'by-partial', ClientRequestToken: T(2) });
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('by-partial');
  });
});
