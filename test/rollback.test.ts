/**
 * Issue 14.3: `secretstore rollback` (a convenience beyond the AWS API, built on UpdateSecretVersionStage):
 * AWSCURRENT moves to the version holding AWSPREVIOUS in one commit, AWSPREVIOUS follows (so a second
 * rollback undoes the first, as in AWS); `--to VERSION_ID` for any other version; refused with
 * InvalidRequestException, one line, when there is nowhere to go, leaving the store as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, rejectsUnchanged, type TestStore } from './helpers/store.js';
import type { Store } from '../src/index.js';

const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
let t: TestStore;
let store: Store;
let seq = 0;
const commits = () => Number(t.git(['rev-list', '--count', 'HEAD']).trim());

/** A secret with versions T(1)..T(n), T(n) current. */
async function secret(n: number): Promise<string> {
  const name = `rb/secret-${++seq}`;
  await store.createSecret({ Name: name, SecretString: 'v1', ClientRequestToken: T(1) });
  for (let i = 2; i <= n; i++) await store.putSecretValue({ SecretId: name, SecretString: `v${i}`, ClientRequestToken: T(i) });
  return name;
}
async function stages(name: string): Promise<Record<string, string[]>> {
  return (await store.describeSecret({ SecretId: name })).VersionIdsToStages ?? {};
}
beforeAll(async () => {
  t = makeStore();
  store = await t.open();
});
afterAll(() => t?.cleanup());

describe('issue 14.3: rollback', () => {
  it('issue 14.3: rollback moves AWSCURRENT to the AWSPREVIOUS version in one commit; a second rollback undoes the first', async () => {
    const name = await secret(3);
    const before = commits();
    const result = await store.rollback({ SecretId: name });
    expect(result).toMatchObject({ Name: name, VersionId: T(2), PreviousVersionId: T(3) });
    expect(commits()).toBe(before + 1);
    expect(await stages(name)).toEqual({ [T(2)]: ['AWSCURRENT'], [T(3)]: ['AWSPREVIOUS'] });
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('v2');
    const message = t.git(['log', '-1', '--format=%B']);
    expect(message).toContain(`rollback ${name}: AWSCURRENT back to version ${T(2)}`);
    expect(message).toContain(`AWSCURRENT: ${T(3)} -> ${T(2)}`);
    await store.rollback({ SecretId: name });
    expect(await stages(name)).toEqual({ [T(3)]: ['AWSCURRENT'], [T(2)]: ['AWSPREVIOUS'] });
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('v3');
  });

  it('issue 14.3: rollback --to VERSION_ID makes any older version current, AWSPREVIOUS on the version it left', async () => {
    const name = await secret(3);
    const result = await store.rollback({ SecretId: name, ToVersionId: T(1) });
    expect(result).toMatchObject({ VersionId: T(1), PreviousVersionId: T(3) });
    expect(await stages(name)).toEqual({ [T(1)]: ['AWSCURRENT'], [T(3)]: ['AWSPREVIOUS'] });
  });

  it('issue 14.3: rollback is refused (InvalidRequestException, one line) when there is nowhere to go; nothing written', async () => {
    const one = await secret(1);
    await rejectsUnchanged(t, () => store.rollback({ SecretId: one }), {
      name: 'InvalidRequestException',
      message: `Secret ${one} has no AWSPREVIOUS version to roll back to; name one with --to VERSION_ID.`,
    });
    const two = await secret(2);
    await rejectsUnchanged(t, () => store.rollback({ SecretId: two, ToVersionId: T(2) }), {
      name: 'InvalidRequestException',
      message: `Version ${T(2)} of secret ${two} already holds AWSCURRENT: nothing to roll back.`,
    });
    const empty = `rb/empty-${++seq}`;
    await store.createSecret({ Name: empty });
    await rejectsUnchanged(t, () => store.rollback({ SecretId: empty }), { name: 'InvalidRequestException' });
    await rejectsUnchanged(t, () => store.rollback({ SecretId: two, ToVersionId: T(9) }), { name: 'InvalidParameterException', message: `Not a valid version: ${T(9)}` });
    await rejectsUnchanged(t, () => store.rollback({ SecretId: 'rb/none' }), { name: 'ResourceNotFoundException' });
  });

  it('issue 14.3: through the CLI: rollback prints the move; refused with exit 254 and one line', () => {
    const name = `rb/cli-${++seq}`;
    expect(t.cli(['create-secret', '--name', name, '--secret-string', 'a', '--client-request-token', T(1)]).status).toBe(0);
    expect(t.cli(['put-secret-value', '--secret-id', name, '--secret-string', 'b', '--client-request-token', T(2)]).status).toBe(0);
    const r = t.cli(['rollback', '--secret-id', name]);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ Name: name, VersionId: T(1), PreviousVersionId: T(2) });
    expect(t.cli(['get-secret-value', '--secret-id', name, '--query', 'SecretString', '--output', 'text']).stdout).toBe('a\n');
    const to = t.cli(['rollback', '--secret-id', name, '--to', T(2)]);
    expect(to.status).toBe(0);
    const refused = t.cli(['rollback', '--secret-id', name, '--to', T(2)]);
    expect(refused.status).toBe(254);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('InvalidRequestException');
  });
});
