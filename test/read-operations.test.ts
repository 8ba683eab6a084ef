import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { resign } from './helpers/sign.js';
import type { Store } from '../src/index.js';
import { indexPath } from '../src/core/layout.js';

const T = (n: number) => `11111111-0000-4000-8000-${String(n).padStart(12, '0')}`;
let t: TestStore;
let store: Store;

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
  await store.createSecret({ Name: 'reads', SecretString: 'v0', ClientRequestToken: T(0) });
});
afterAll(() => t.cleanup());

describe('CreateSecret (spec 3.1, 8.1)', () => {
  it('returns an ARN with a six-character alphanumeric suffix and the VersionId (#1, #10)', async () => {
    const r = await store.createSecret({ Name: 'prod/db/creds', SecretString: 'x', ClientRequestToken: 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1' });
    expect(r.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:prod\/db\/creds-[A-Za-z0-9]{6}$/);
    expect(r.VersionId).toBe('EXAMPLE1-90ab-cdef-fedc-ba987SECRET1');
  });
  it('without a value there is no version and no VersionId; get finds no AWSCURRENT (#2)', async () => {
    const r = await store.createSecret({ Name: 'no-value' });
    expect(Object.keys(r).sort()).toEqual(['ARN', 'Name']);
    expect((await store.describeSecret({ SecretId: 'no-value' })).VersionIdsToStages).toBeUndefined();
    await expect(store.getSecretValue({ SecretId: 'no-value' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    });
  });
  it('a name with a space is ValidationException (#3)', async () => {
    await expect(store.createSecret({ Name: 'Inv Name', SecretString: 'x' })).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Invalid name. Must be a valid name containing alphanumeric characters'),
    });
  });
  it('the same name twice is ResourceExistsException (#4)', async () => {
    await expect(store.createSecret({ Name: 'reads', SecretString: 'x' })).rejects.toMatchObject({
      name: 'ResourceExistsException',
      message: 'The operation failed because the secret reads already exists.',
    });
  });
  it('the same name, token and value again returns the same answer and keeps one version (#5)', async () => {
    const first = await store.createSecret({ Name: 'idem', SecretString: 'Hello', ClientRequestToken: T(5) });
    const again = await store.createSecret({ Name: 'idem', SecretString: 'Hello', ClientRequestToken: T(5) });
    expect(again).toEqual(first);
    expect((await store.listSecretVersionIds({ SecretId: 'idem', IncludeDeprecated: true })).Versions).toHaveLength(1);
  });
  it('the same name and token with another value is ResourceExistsException naming the token (#6)', async () => {
    await expect(store.createSecret({ Name: 'idem', SecretString: 'Other', ClientRequestToken: T(5) })).rejects.toMatchObject({
      name: 'ResourceExistsException',
      message: expect.stringContaining(`You can't use ClientRequestToken ${T(5)}`),
    });
  });
  it('both SecretString and SecretBinary is InvalidParameterException (#7)', async () => {
    await expect(store.createSecret({ Name: 'both', SecretString: 'a', SecretBinary: new Uint8Array([1]) })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
  it('an empty Description is not reported back (#12)', async () => {
    await store.createSecret({ Name: 'empty-desc', Description: '' });
    expect('Description' in (await store.describeSecret({ SecretId: 'empty-desc' }))).toBe(false);
  });
  it('names with ../ and 513 characters are ValidationException', async () => {
    await expect(store.createSecret({ Name: '../escape' })).resolves.toMatchObject({ Name: '../escape' });
    expect(t.git(['ls-files']).split('\n').every((f) => f === '' || f === '.secretstore.yaml' || f === '.gitattributes' || f.startsWith('secrets/'))).toBe(true);
    await expect(store.createSecret({ Name: 'x'.repeat(513) })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(store.createSecret({ Name: 'a\\b' })).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('SecretId resolution (spec 2.5, 8.2)', () => {
  async function arnOf(name: string) {
    await store.createSecret({ Name: name, SecretString: name });
    return (await store.describeSecret({ SecretId: name })).ARN;
  }
  it('a partial ARN finds the secret (#14, #15)', async () => {
    for (const name of ['Valid/_+=.@-Name', 'Valid/_+=.@-Name-a1b2c3-', 'Valid/_+=.@-Name-a1b2']) {
      const arn = await arnOf(name);
      expect((await store.getSecretValue({ SecretId: arn.slice(0, -7) })).SecretString).toBe(name);
      expect((await store.getSecretValue({ SecretId: arn })).SecretString).toBe(name);
    }
  });
  it('a partial ARN whose name ends in -XXXXXX is taken as a full ARN only (#16)', async () => {
    const arn = await arnOf('Invalid/_+=.@-Name-a1b2c3');
    await expect(store.getSecretValue({ SecretId: arn.slice(0, -7) })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await store.getSecretValue({ SecretId: arn })).SecretString).toBe('Invalid/_+=.@-Name-a1b2c3');
  });
  it('an unknown name is ResourceNotFoundException (#17)', async () => {
    await expect(store.getSecretValue({ SecretId: 'does-not-exist' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });
  it('an ARN with another account or region is not found (#18)', async () => {
    const arn = (await store.describeSecret({ SecretId: 'reads' })).ARN;
    await expect(store.describeSecret({ SecretId: arn.replace('000000000000', '111111111111') })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(store.describeSecret({ SecretId: arn.replace('us-east-1', 'eu-west-1') })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
  it('names differing only in case are different secrets', async () => {
    await store.createSecret({ Name: 'CaseTest', SecretString: 'upper' });
    await store.createSecret({ Name: 'casetest', SecretString: 'lower' });
    expect((await store.getSecretValue({ SecretId: 'CaseTest' })).SecretString).toBe('upper');
    expect((await store.getSecretValue({ SecretId: 'casetest' })).SecretString).toBe('lower');
    await expect(store.getSecretValue({ SecretId: 'CASETEST' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('GetSecretValue (spec 3.3, 8.4)', () => {
  it('AWSPREVIOUS when none exists is ResourceNotFoundException naming the label (#41)', async () => {
    await store.createSecret({ Name: 'get-1', SecretString: 'x' });
    await expect(store.getSecretValue({ SecretId: 'get-1', VersionStage: 'AWSPREVIOUS' })).rejects.toMatchObject({
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    });
  });
  it('a VersionId with a VersionStage it does not carry is InvalidRequestException (#42)', async () => {
    await expect(store.getSecretValue({ SecretId: 'reads', VersionId: T(0), VersionStage: 'AWSPREVIOUS' })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'You provided a VersionStage that is not associated to the provided VersionId.',
    });
  });
  it('an unknown VersionId is ResourceNotFoundException naming it (#43)', async () => {
    const id = 'aaaaaaaa-0000-4000-8000-000000000000';
    await expect(store.getSecretValue({ SecretId: 'reads', VersionId: id })).rejects.toMatchObject({
      message: `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
    });
  });
  it('returns the AWS fields, CreatedDate as a Date; #45 deviates: no LastAccessedDate, reads never write', async () => {
    const head = t.git(['rev-parse', 'HEAD']);
    const r = await store.getSecretValue({ SecretId: 'reads' });
    expect(Object.keys(r)).toEqual(['ARN', 'Name', 'VersionId', 'SecretString', 'VersionStages', 'CreatedDate']);
    expect(r.CreatedDate).toBeInstanceOf(Date);
    expect('LastAccessedDate' in (await store.describeSecret({ SecretId: 'reads' }))).toBe(false);
    expect(t.git(['rev-parse', 'HEAD'])).toBe(head);
  });
  it('a secret scheduled for deletion is InvalidRequestException for get and put (#35, #44)', async () => {
    await store.createSecret({ Name: 'scheduled', SecretString: 'x' });
    const file = join(t.dir, indexPath('scheduled'));
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^(lastChangedDate: .*)$/m, '$1\ndeletedDate: 2099-01-01T00:00:00.000Z'));
    await resign(t, [indexPath('scheduled')]); // a writer's hand edit, signed
    t.git(['commit', '-qam', 'schedule deletion by hand']);
    const message = "You can't perform this operation on the secret because it was marked for deletion.";
    await expect(store.getSecretValue({ SecretId: 'scheduled' })).rejects.toMatchObject({ name: 'InvalidRequestException', message });
    await expect(store.putSecretValue({ SecretId: 'scheduled', SecretString: 'y' })).rejects.toMatchObject({ name: 'InvalidRequestException', message });
    expect((await store.describeSecret({ SecretId: 'scheduled' })).DeletedDate).toEqual(new Date('2099-01-01T00:00:00.000Z'));
    await expect(store.createSecret({ Name: 'scheduled', SecretString: 'x' })).rejects.toMatchObject({
      message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
    });
  });
});

describe('ListSecretVersionIds (spec 3.7)', () => {
  it('pagination walks every version once, newest first, and a forged token is InvalidNextTokenException', async () => {
    await store.createSecret({ Name: 'paged', SecretString: 'x', ClientRequestToken: T(100) });
    for (let i = 101; i < 106; i++) await store.putSecretValue({ SecretId: 'paged', SecretString: `x${i}`, ClientRequestToken: T(i) });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await store.listSecretVersionIds({ SecretId: 'paged', IncludeDeprecated: true, MaxResults: 2, ...(token ? { NextToken: token } : {}) });
      expect(page.Versions.length).toBeLessThanOrEqual(2);
      seen.push(...page.Versions.map((v) => v.VersionId));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual([105, 104, 103, 102, 101, 100].map(T));
    await expect(store.listSecretVersionIds({ SecretId: 'paged', NextToken: 'garbage' })).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    await expect(store.listSecretVersionIds({ SecretId: 'paged', MaxResults: 101 })).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
