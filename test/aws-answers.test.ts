/**
 * Issue 13.10: answers checked against AWS's documentation and the botocore model
 * (secretsmanager/2017-10-17/service-2.json). Where the model documents a constraint, the answer is
 * the service's: a ValidationException in the model-constraint format, through the library and serve
 * alike. Where AWS documents nothing (the order of VersionStages), the answer is kept and listed in the
 * README's deviations table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import type { Store } from '../src/index.js';

const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const constraint = (value: string, member: string, rule: string) =>
  `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`;

let t: TestStore;
let store: Store;
let s: TestServer;

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
  s = await startTestServer(t);
  await store.createSecret({ Name: 'ans/a', SecretString: 'v', ClientRequestToken: T(1) });
});
afterAll(async () => {
  await s?.close();
  t?.cleanup();
});

/** The same request through the library and through serve: the same exception and message. */
async function sameAnswer(op: string, call: () => Promise<unknown>, body: Record<string, unknown>, name: string, message: string): Promise<void> {
  await expect(call()).rejects.toMatchObject({ name, message });
  const raw = await s.signed(op, JSON.stringify(body));
  expect(raw.status).toBe(400);
  expect(raw.json()).toMatchObject({ __type: name, Message: message });
}

describe('issue 13.10: answers follow the botocore model where AWS documents them', () => {
  it('issue 13.10: RotateSecret with a short ClientRequestToken: ValidationException (ClientRequestTokenType, length 32-64)', async () => {
    const input = { SecretId: 'ans/a', ClientRequestToken: 'short', RotationLambdaARN: 'true' };
    await sameAnswer('RotateSecret', () => store.rotateSecret(input), input, 'ValidationException',
      constraint('short', 'clientRequestToken', 'Member must have length greater than or equal to 32'));
  });

  it('issue 13.10: AutomaticallyAfterDays out of range: ValidationException (AutomaticallyRotateAfterDaysType, 1-1000)', async () => {
    for (const [days, rule] of [[0, 'Member must have value greater than or equal to 1'], [1001, 'Member must have value less than or equal to 1000']] as const) {
      const input = { SecretId: 'ans/a', RotationLambdaARN: 'true', RotationRules: { AutomaticallyAfterDays: days } };
      await sameAnswer('RotateSecret', () => store.rotateSecret(input), { ...input, ClientRequestToken: T(2) }, 'ValidationException',
        constraint(String(days), 'rotationRules.automaticallyAfterDays', rule));
    }
  });

  it('issue 13.10: an unknown list filter key: ValidationException naming the enum (FilterNameStringType)', async () => {
    const input = { Filters: [{ Key: 'colour' as never, Values: ['x'] }] };
    await sameAnswer('ListSecrets', () => store.listSecrets(input), input, 'ValidationException',
      constraint('colour', 'filters.1.member.key', 'Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]'));
  });

  it('issue 13.10: get-random-password --password-length 5555: ValidationException (PasswordLengthType, 1-4096), exit 254 from the CLI', async () => {
    const message = constraint('5555', 'passwordLength', 'Member must have value less than or equal to 4096');
    await sameAnswer('GetRandomPassword', () => store.getRandomPassword({ PasswordLength: 5555 }), { PasswordLength: 5555 }, 'ValidationException', message);
    const r = t.cli(['get-random-password', '--password-length', '5555']);
    expect(r.status).toBe(254);
    expect(r.stderr.trim()).toBe(`An error occurred (ValidationException) when calling the GetRandomPassword operation: ${message}`);
  });

  it('issue 13.10: PutSecretValue VersionStages (AWS documents no order): the labels now on the version, sorted', async () => {
    const put = await store.putSecretValue({ SecretId: 'ans/a', SecretString: 'w', ClientRequestToken: T(3), VersionStages: ['ZED', 'AWSCURRENT', 'BETA'] });
    expect(put.VersionStages).toEqual(['AWSCURRENT', 'BETA', 'ZED']);
  });
});
