/**
 * The lifecycle operations (spec 3.8-3.13, 4.3-4.4, 8.5-8.7): label moves, UpdateSecret, deletion with a
 * recovery window, restore, tags, and the purge of secrets whose window has passed. Real git, real
 * crypto; every error path must leave the repository byte for byte as it was, with no commit.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { commitSigned, resign } from './helpers/sign.js';
import type { Store } from '../src/index.js';
import { pruneStore } from '../src/store/prune.js';

const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const DAY = 86_400_000;
const CUR = 'AWSCURRENT';
const PREV = 'AWSPREVIOUS';
const PENDING = 'AWSPENDING';

let t: TestStore;
let store: Store;
let seq = 0;

/** A fresh secret with one version `v0` (token T(0)) per test. */
async function secret(value = 'v0', prefix = 'lc'): Promise<string> {
  const name = `${prefix}-${++seq}`;
  await store.createSecret({ Name: name, SecretString: value, ClientRequestToken: T(0) });
  return name;
}
async function put(name: string, n: number, stages?: string[]): Promise<void> {
  await store.putSecretValue({ SecretId: name, SecretString: `v${n}`, ClientRequestToken: T(n), ...(stages ? { VersionStages: stages } : {}) });
}
/** VersionIdsToStages with each label list sorted (label order is not part of the contract). */
async function stages(name: string): Promise<Record<string, string[]>> {
  const map = (await store.describeSecret({ SecretId: name })).VersionIdsToStages ?? {};
  return Object.fromEntries(Object.entries(map).map(([id, labels]) => [id, [...labels].sort()]));
}
function head(): string {
  return t.git(['rev-parse', 'HEAD']).trim();
}
function lastMessage(): string {
  return t.git(['log', '-1', '--format=%B']);
}
function commitsSince(rev: string): string[] {
  return t.git(['log', '--format=%s', `${rev}..HEAD`]).split('\n').filter(Boolean).reverse();
}
/** The call fails as expected and leaves HEAD, the index and every file byte for byte as they were. */
async function rejectsUnchanged(call: () => Promise<unknown>, expected: { name: string; message?: unknown }): Promise<void> {
  const before = t.snapshot();
  await expect(call()).rejects.toMatchObject(expected);
  expect(t.snapshot()).toBe(before);
}
function trackedFiles(prefix: string): string[] {
  return t.git(['ls-files', '--', prefix]).split('\n').filter(Boolean);
}
/** A library client whose clock is `now`. */
function at(now: Date): Promise<Store> {
  return t.open({ now: () => now });
}

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
});
afterAll(() => t.cleanup());

describe('UpdateSecretVersionStage (spec 3.9, 4.3, 8.5)', () => {
  it('moving AWSCURRENT from R to M gives R AWSPREVIOUS and keeps M\'s AWSPENDING (#46)', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    const before = head();
    const r = await store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(0), MoveToVersionId: T(1) });
    const { ARN } = await store.describeSecret({ SecretId: name });
    expect(r).toEqual({ ARN, Name: name });
    expect(await stages(name)).toEqual({ [T(0)]: [PREV], [T(1)]: [CUR, PENDING] });
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('v1');
    // One commit, naming the operation, the secret and each label move; never a value.
    expect(commitsSince(before)).toHaveLength(1);
    const message = lastMessage();
    expect(message).toMatch(new RegExp(`^update-secret-version-stage ${name}: `));
    expect(message).toContain(`AWSCURRENT: ${T(0)} -> ${T(1)}`);
    expect(message).toContain(`AWSPREVIOUS: (none) -> ${T(0)}`);
    expect(message).not.toMatch(/\bv[01]\b/);
  });

  it('moving an attached AWSCURRENT without RemoveFromVersionId is InvalidParameterException (#47)', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, MoveToVersionId: T(1) }), {
      name: 'InvalidParameterException',
      message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${T(0)}, so you must explicitly reference that version in RemoveFromVersionId.`,
    });
  });

  it('removing AWSCURRENT without a target is InvalidParameterException (#48)', async () => {
    const name = await secret();
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(0) }), {
      name: 'InvalidParameterException',
      message: "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.",
    });
  });

  it('rolling AWSCURRENT back to the AWSPREVIOUS version swaps the two labels (#49, spec 4.4)', async () => {
    const name = await secret();
    await put(name, 1);
    expect(await stages(name)).toEqual({ [T(0)]: [PREV], [T(1)]: [CUR] });
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(1), MoveToVersionId: T(0) });
    expect(await stages(name)).toEqual({ [T(0)]: [CUR], [T(1)]: [PREV] });
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('v0');
  });

  it('a custom label moves to the target and the version it left is deprecated (#50)', async () => {
    const name = await secret();
    await put(name, 1, ['CUSTOM']);
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: 'CUSTOM', RemoveFromVersionId: T(1), MoveToVersionId: T(0) });
    expect(await stages(name)).toEqual({ [T(0)]: [CUR, 'CUSTOM'] });
    expect((await store.listSecretVersionIds({ SecretId: name })).Versions.map((v) => v.VersionId)).toEqual([T(0)]);
    const all = await store.listSecretVersionIds({ SecretId: name, IncludeDeprecated: true });
    const deprecated = all.Versions.find((v) => v.VersionId === T(1))!;
    expect(deprecated).toBeDefined();
    expect('VersionStages' in deprecated).toBe(false);
  });

  it('moving an attached custom label without RemoveFromVersionId is InvalidParameterException, not a duplicate (#51)', async () => {
    const name = await secret();
    await put(name, 1, ['CUSTOM']);
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: 'CUSTOM', MoveToVersionId: T(0) }), {
      name: 'InvalidParameterException',
      message: `The parameter RemoveFromVersionId can't be empty. Staging label CUSTOM is currently attached to version ${T(1)}, so you must explicitly reference that version in RemoveFromVersionId.`,
    });
  });

  it('a RemoveFromVersionId that does not hold the label is InvalidParameterException (#52)', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    await rejectsUnchanged(
      () => store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(1), MoveToVersionId: T(1) }),
      { name: 'InvalidParameterException', message: `Version stage AWSCURRENT not found in version ${T(1)}` },
    );
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: 'NOWHERE', RemoveFromVersionId: T(0) }), {
      name: 'InvalidParameterException',
      message: `Version stage NOWHERE not found in version ${T(0)}`,
    });
  });

  it('a MoveToVersionId or RemoveFromVersionId that is not a version is InvalidParameterException (#53)', async () => {
    const name = await secret();
    await rejectsUnchanged(
      () => store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(0), MoveToVersionId: T(9) }),
      { name: 'InvalidParameterException', message: `Not a valid version: ${T(9)}` },
    );
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: 'X', RemoveFromVersionId: T(9) }), {
      name: 'InvalidParameterException',
      message: `Not a valid version: ${T(9)}`,
    });
  });

  it('an unknown secret is ResourceNotFoundException (#54)', async () => {
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: 'lc-no-such-secret', VersionStage: CUR, MoveToVersionId: T(1) }), {
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('a 21st distinct label is LimitExceededException; moving one of the 20 is fine (#55)', async () => {
    const name = await secret();
    await put(name, 1, Array.from({ length: 19 }, (_, i) => `L${i}`)); // + AWSCURRENT on v0 = 20 labels
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: 'L19', MoveToVersionId: T(0) }), {
      name: 'LimitExceededException',
    });
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: 'L0', RemoveFromVersionId: T(1), MoveToVersionId: T(0) });
    expect((await stages(name))[T(0)]).toEqual([CUR, 'L0']);
  });

  it('a label not attached anywhere can be attached with MoveToVersionId alone', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: 'blue', MoveToVersionId: T(1) });
    expect(await stages(name)).toEqual({ [T(0)]: [CUR], [T(1)]: [PENDING, 'blue'] });
    expect(lastMessage()).toContain(`blue: (none) -> ${T(1)}`);
  });

  it('a custom label can be removed with RemoveFromVersionId alone, deprecating its version', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: PENDING, RemoveFromVersionId: T(1) });
    expect(await stages(name)).toEqual({ [T(0)]: [CUR] });
    expect(lastMessage()).toContain(`AWSPENDING: ${T(1)} -> (removed)`);
  });

  it('MoveToVersionId that already holds the label is a no-op: success and no commit (spec 3.9 step 11)', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    const before = t.snapshot();
    expect(await store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, MoveToVersionId: T(0) })).toMatchObject({ Name: name });
    expect(await store.updateSecretVersionStage({ SecretId: name, VersionStage: PENDING, RemoveFromVersionId: T(1), MoveToVersionId: T(1) })).toMatchObject({
      Name: name,
    });
    expect(t.snapshot()).toBe(before);
  });

  it('neither RemoveFromVersionId nor MoveToVersionId is InvalidParameterException (spec 3.9 step 11)', async () => {
    const name = await secret();
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR }), { name: 'InvalidParameterException' });
  });

  it('AWSPREVIOUS cannot be put on the AWSCURRENT version (the index would be invalid)', async () => {
    const name = await secret();
    await put(name, 1);
    await rejectsUnchanged(
      () => store.updateSecretVersionStage({ SecretId: name, VersionStage: PREV, RemoveFromVersionId: T(0), MoveToVersionId: T(1) }),
      { name: 'InvalidParameterException' },
    );
  });

  it('model constraints: VersionIds of 31 characters and an empty label are ValidationException', async () => {
    const name = await secret();
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, MoveToVersionId: 'a'.repeat(31) }), {
      name: 'ValidationException',
    });
    await rejectsUnchanged(() => store.updateSecretVersionStage({ SecretId: name, VersionStage: '', MoveToVersionId: T(0) }), {
      name: 'ValidationException',
    });
  });

  it('a secret scheduled for deletion is InvalidRequestException (spec 2.9)', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    await store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    await rejectsUnchanged(
      () => store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(0), MoveToVersionId: T(1) }),
      { name: 'InvalidRequestException', message: "You can't perform this operation on the secret because it was marked for deletion." },
    );
  });

  it('the move updates LastChangedDate', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    const later = new Date(Date.now() + 60_000);
    await (await at(later)).updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(0), MoveToVersionId: T(1) });
    expect((await store.describeSecret({ SecretId: name })).LastChangedDate).toEqual(later);
  });
});

describe('spec 4.4 worked examples with UpdateSecretVersionStage', () => {
  it('v1{PREV}, v2{CUR}, v3{PENDING}: USVS CUR R=v2 M=v3 -> v1{}, v2{PREV}, v3{CUR, PENDING}', async () => {
    const name = await secret();
    await put(name, 1);
    await put(name, 2, [PENDING]);
    expect(await stages(name)).toEqual({ [T(0)]: [PREV], [T(1)]: [CUR], [T(2)]: [PENDING] });
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(1), MoveToVersionId: T(2) });
    expect(await stages(name)).toEqual({ [T(1)]: [PREV], [T(2)]: [CUR, PENDING] });
  });

  it('custom labels stay with their versions across two rotations (PUT0, PUT1, PUT2)', async () => {
    const name = await secret(); // v1 of the spec is T(0)
    await put(name, 1, [CUR, 'PUT0']);
    await put(name, 2, [PENDING, 'PUT1']);
    expect(await stages(name)).toEqual({ [T(0)]: [PREV], [T(1)]: [CUR, 'PUT0'], [T(2)]: [PENDING, 'PUT1'] });
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(1), MoveToVersionId: T(2) });
    expect(await stages(name)).toEqual({ [T(1)]: [PREV, 'PUT0'], [T(2)]: [CUR, PENDING, 'PUT1'] });
    // Next rotation: v4{PENDING, PUT2}; PENDING moves off v3 with the put.
    await put(name, 3, [PENDING, 'PUT2']);
    expect(await stages(name)).toEqual({ [T(1)]: [PREV, 'PUT0'], [T(2)]: [CUR, 'PUT1'], [T(3)]: [PENDING, 'PUT2'] });
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(2), MoveToVersionId: T(3) });
    expect(await stages(name)).toEqual({ [T(1)]: ['PUT0'], [T(2)]: [PREV, 'PUT1'], [T(3)]: [CUR, PENDING, 'PUT2'] });
  });

  it('a custom label named "PENDING" is just a label: move CUR onto its version, then remove it', async () => {
    const name = await secret();
    await put(name, 1, ['PENDING']);
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: CUR, RemoveFromVersionId: T(0), MoveToVersionId: T(1) });
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: 'PENDING', RemoveFromVersionId: T(1) });
    expect(await stages(name)).toEqual({ [T(0)]: [PREV], [T(1)]: [CUR] });
  });
});

describe('UpdateSecret (spec 3.8, 8.7)', () => {
  it('a description alone answers {ARN, Name}, leaves the labels and updates LastChangedDate (#73)', async () => {
    const name = await secret();
    const later = new Date(Date.now() + 60_000);
    const before = head();
    const r = await (await at(later)).updateSecret({ SecretId: name, Description: 'the payments database' });
    expect(Object.keys(r).sort()).toEqual(['ARN', 'Name']);
    const d = await store.describeSecret({ SecretId: name });
    expect(d).toMatchObject({ Description: 'the payments database', LastChangedDate: later, VersionIdsToStages: { [T(0)]: [CUR] } });
    expect(commitsSince(before)).toEqual([`update-secret ${name}: metadata`]);
  });

  it('a value creates a version that becomes AWSCURRENT, the old one AWSPREVIOUS (#74)', async () => {
    const name = await secret();
    const r = await store.updateSecret({ SecretId: name, SecretString: 'n', ClientRequestToken: T(1) });
    expect(r).toMatchObject({ Name: name, VersionId: T(1) });
    expect(await stages(name)).toEqual({ [T(0)]: [PREV], [T(1)]: [CUR] });
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('n');
    expect(lastMessage()).toContain(`AWSCURRENT: ${T(0)} -> ${T(1)}`);
  });

  it('the same token and the same value again succeed with VersionId = token and change nothing (#75)', async () => {
    const name = await secret('Hello');
    const before = t.snapshot();
    expect(await store.updateSecret({ SecretId: name, SecretString: 'Hello', ClientRequestToken: T(0) })).toMatchObject({ VersionId: T(0) });
    expect(t.snapshot()).toBe(before);
  });

  it('the same token with a different value is ResourceExistsException (#76)', async () => {
    const name = await secret('Hello');
    const { ARN } = await store.describeSecret({ SecretId: name });
    await rejectsUnchanged(() => store.updateSecret({ SecretId: name, SecretString: 'Hi', ClientRequestToken: T(0) }), {
      name: 'ResourceExistsException',
      message: `You can't use ClientRequestToken ${T(0)} because that value is already in use for a version of secret ${ARN}.`,
    });
  });

  it('a secret scheduled for deletion is InvalidRequestException (#77)', async () => {
    const name = await secret();
    await store.deleteSecret({ SecretId: name });
    await rejectsUnchanged(() => store.updateSecret({ SecretId: name, Description: 'x' }), {
      name: 'InvalidRequestException',
      message: "You can't perform this operation on the secret because it was marked for deletion.",
    });
  });

  it('KmsKeyId is stored as metadata, an empty string reverts it, an empty Description removes it', async () => {
    const name = await secret();
    await store.updateSecret({ SecretId: name, KmsKeyId: 'alias/payments', Description: 'd' });
    expect(await store.describeSecret({ SecretId: name })).toMatchObject({ KmsKeyId: 'alias/payments', Description: 'd' });
    await store.updateSecret({ SecretId: name, KmsKeyId: '', Description: '' });
    const d = await store.describeSecret({ SecretId: name });
    expect('KmsKeyId' in d || 'Description' in d).toBe(false);
  });

  it('a value together with a description lands in one commit', async () => {
    const name = await secret();
    const before = head();
    await store.updateSecret({ SecretId: name, Description: 'rotated by hand', SecretString: 'n', ClientRequestToken: T(1) });
    expect(commitsSince(before)).toEqual([`update-secret ${name}: new version ${T(1)}`]);
    expect(await store.describeSecret({ SecretId: name })).toMatchObject({ Description: 'rotated by hand' });
  });

  it('only a SecretId, or the metadata it already has, changes nothing and makes no commit', async () => {
    const name = await secret();
    await store.updateSecret({ SecretId: name, Description: 'same' });
    const before = t.snapshot();
    expect(await store.updateSecret({ SecretId: name })).toMatchObject({ Name: name });
    await store.updateSecret({ SecretId: name, Description: 'same' });
    expect(t.snapshot()).toBe(before);
  });

  it('on a secret with no versions the new version simply becomes AWSCURRENT', async () => {
    const name = `lc-empty-${++seq}`;
    await store.createSecret({ Name: name });
    await store.updateSecret({ SecretId: name, SecretString: 'first', ClientRequestToken: T(1) });
    expect(await stages(name)).toEqual({ [T(1)]: [CUR] });
  });

  it('both SecretString and SecretBinary is InvalidParameterException; an unknown secret is ResourceNotFoundException', async () => {
    const name = await secret();
    await rejectsUnchanged(() => store.updateSecret({ SecretId: name, SecretString: 'a', SecretBinary: new Uint8Array([1]) }), {
      name: 'InvalidParameterException',
      message: "You can't specify both a binary secret value and a string secret value in the same secret.",
    });
    await rejectsUnchanged(() => store.updateSecret({ SecretId: 'lc-no-such-secret', Description: 'x' }), { name: 'ResourceNotFoundException' });
  });
});

describe('DeleteSecret (spec 3.10, 8.6)', () => {
  it('without parameters it schedules the purge 30 days out, shown as DeletedDate (#56)', async () => {
    const name = await secret();
    const now = new Date(Date.now() + 1000);
    const before = head();
    const r = await (await at(now)).deleteSecret({ SecretId: name });
    const due = new Date(now.getTime() + 30 * DAY);
    expect(r).toMatchObject({ Name: name, DeletionDate: due });
    const d = await store.describeSecret({ SecretId: name });
    expect(d.DeletedDate).toEqual(due);
    expect(r.ARN).toBe(d.ARN);
    // One commit: the index and the purge-registry entry.
    expect(commitsSince(before)).toEqual([`delete-secret ${name}: scheduled for deletion on ${due.toISOString()}`]);
    expect(t.git(['show', '--name-only', '--format=', 'HEAD']).split('\n').filter(Boolean).sort()).toEqual([
      `.secretstore/scheduled-deletions/secrets/${name}/secret.yaml`,
      `secrets/${name}/secret.yaml`,
    ]);
    const listed = async (include: boolean) => (await store.listSecrets({ IncludePlannedDeletion: include })).SecretList.map((s) => s.Name);
    expect(await listed(false)).not.toContain(name);
    expect(await listed(true)).toContain(name);
  });

  it('the value of a scheduled secret cannot be read (spec 2.9, #44)', async () => {
    const name = await secret();
    await store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    await expect(store.getSecretValue({ SecretId: name })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: "You can't perform this operation on the secret because it was marked for deletion.",
    });
  });

  it('RecoveryWindowInDays outside 7-30 is InvalidParameterException (#57)', async () => {
    const name = await secret();
    for (const days of [0, 2, 6, 31, 100]) {
      await rejectsUnchanged(() => store.deleteSecret({ SecretId: name, RecoveryWindowInDays: days }), {
        name: 'InvalidParameterException',
        message: 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      });
    }
    for (const days of [7, 30]) {
      const other = await secret();
      await expect(store.deleteSecret({ SecretId: other, RecoveryWindowInDays: days })).resolves.toMatchObject({ Name: other });
    }
  });

  it('a window together with ForceDeleteWithoutRecovery is InvalidParameterException (#58)', async () => {
    const name = await secret();
    await rejectsUnchanged(() => store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true }), {
      name: 'InvalidParameterException',
      message: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    });
    // ...but ForceDeleteWithoutRecovery=false with a window is an ordinary scheduled delete.
    await expect(store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: false })).resolves.toMatchObject({ Name: name });
  });

  it('a forced delete of a name that never existed succeeds with a synthesized ARN, and commits nothing (#59)', async () => {
    const now = new Date(Date.now() + 1000);
    const before = t.snapshot();
    const r = await (await at(now)).deleteSecret({ SecretId: 'lc-never-existed', ForceDeleteWithoutRecovery: true });
    expect(r.Name).toBe('lc-never-existed');
    expect(r.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:lc-never-existed-[A-Za-z0-9]{6}$/);
    expect(r.DeletionDate).toEqual(now);
    expect(t.snapshot()).toBe(before);
  });

  it('an unknown secret without force is ResourceNotFoundException', async () => {
    await rejectsUnchanged(() => store.deleteSecret({ SecretId: 'lc-never-existed' }), {
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('deleting a scheduled secret again without force is InvalidRequestException (#60)', async () => {
    const name = await secret();
    await store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    await rejectsUnchanged(() => store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 }), {
      name: 'InvalidRequestException',
      message: "You tried to perform the operation on a secret that's currently marked deleted.",
    });
  });

  it('a forced delete of a scheduled secret deletes it now, registry entry included (#61)', async () => {
    const name = await secret();
    await store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    expect(trackedFiles(`.secretstore/scheduled-deletions/secrets/${name}`)).toHaveLength(1);
    await store.deleteSecret({ SecretId: name, ForceDeleteWithoutRecovery: true });
    await expect(store.describeSecret({ SecretId: name })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(trackedFiles(`secrets/${name}`)).toEqual([]);
    expect(trackedFiles(`.secretstore/scheduled-deletions/secrets/${name}`)).toEqual([]);
  });

  it('a forced delete removes the index and every version file from the tree; history keeps only ciphertext', async () => {
    const name = await secret('plaintext-marker-0');
    await store.putSecretValue({ SecretId: name, SecretString: 'plaintext-marker-1', ClientRequestToken: T(1) });
    await store.putSecretValue({ SecretId: name, SecretString: 'plaintext-marker-2', ClientRequestToken: T(2), VersionStages: ['x'] });
    expect(trackedFiles(`secrets/${name}`)).toHaveLength(4);
    const before = head();
    const now = new Date(Date.now() + 1000);
    const r = await (await at(now)).deleteSecret({ SecretId: name, ForceDeleteWithoutRecovery: true });
    expect(r).toMatchObject({ Name: name, DeletionDate: now });
    expect(commitsSince(before)).toEqual([`delete-secret ${name}: deleted without recovery`]);
    expect(trackedFiles(`secrets/${name}`)).toEqual([]);
    expect(t.git(['status', '--porcelain'])).toBe('');
    expect(t.git(['log', '-p', '--all'])).not.toContain('plaintext-marker');
  });

  it('a forced delete of a secret leaves the secrets nested under its name alone', async () => {
    const parent = await secret();
    await store.createSecret({ Name: `${parent}/child`, SecretString: 'c' });
    await store.deleteSecret({ SecretId: parent, ForceDeleteWithoutRecovery: true });
    expect((await store.getSecretValue({ SecretId: `${parent}/child` })).SecretString).toBe('c');
    expect(trackedFiles(`secrets/${parent}`).every((f) => f.startsWith(`secrets/${parent}/child/`))).toBe(true);
  });

  it('after a forced delete the name can be created again, with a new ARN (#9)', async () => {
    const name = await secret();
    const { ARN } = await store.describeSecret({ SecretId: name });
    await store.deleteSecret({ SecretId: name, ForceDeleteWithoutRecovery: true });
    const again = await store.createSecret({ Name: name, SecretString: 'again' });
    expect(again.ARN).not.toBe(ARN);
  });

  it('creating a secret under a scheduled name is InvalidRequestException (#8)', async () => {
    const name = await secret();
    await store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    await rejectsUnchanged(() => store.createSecret({ Name: name, SecretString: 'x' }), {
      name: 'InvalidRequestException',
      message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
    });
  });

  it('the default window comes from policy.defaultRecoveryWindowInDays', async () => {
    const s = makeStore({ policy: { defaultRecoveryWindowInDays: 9 } });
    try {
      const lib = await s.open();
      await lib.createSecret({ Name: 'p', SecretString: 'x' });
      const now = new Date(Date.now() + 1000);
      const r = await (await s.open({ now: () => now })).deleteSecret({ SecretId: 'p' });
      expect(r.DeletionDate).toEqual(new Date(now.getTime() + 9 * DAY));
    } finally {
      s.cleanup();
    }
  });
});

describe('RestoreSecret (spec 3.11, 8.6)', () => {
  it('restore after delete answers {ARN, Name}; DeletedDate is gone and value and labels are as before (#62)', async () => {
    const name = await secret();
    await put(name, 1);
    const labels = await stages(name);
    await store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    const before = head();
    const r = await store.restoreSecret({ SecretId: name });
    const d = await store.describeSecret({ SecretId: name });
    expect(r).toEqual({ ARN: d.ARN, Name: name });
    expect('DeletedDate' in d).toBe(false);
    expect(await stages(name)).toEqual(labels);
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('v1');
    expect(commitsSince(before)).toEqual([`restore-secret ${name}: deletion cancelled`]);
    expect(trackedFiles(`.secretstore/scheduled-deletions/secrets/${name}`)).toEqual([]);
    // A write after the cancelled purge time leaves it alone (it may purge other tests' secrets).
    const later = await at(new Date(Date.now() + 8 * DAY));
    const mark = head();
    await later.tagResource({ SecretId: name, Tags: [{ Key: 'kept', Value: 'yes' }] });
    expect(await later.describeSecret({ SecretId: name })).toMatchObject({ Name: name, Tags: [{ Key: 'kept', Value: 'yes' }] });
    expect(t.git(['log', '--format=%B', `${mark}..HEAD`])).not.toContain(`purged: ${name} `);
  });

  it('an unknown secret is ResourceNotFoundException (#63)', async () => {
    await rejectsUnchanged(() => store.restoreSecret({ SecretId: 'lc-no-such-secret' }), {
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('restoring a secret that is not scheduled succeeds and changes nothing', async () => {
    const name = await secret();
    const before = t.snapshot();
    expect(await store.restoreSecret({ SecretId: name })).toMatchObject({ Name: name });
    expect(t.snapshot()).toBe(before);
  });
});

describe('TagResource / UntagResource (spec 3.12, 3.13, 8.6-8.7)', () => {
  it('tagging a key again replaces its value; the response is empty (#71)', async () => {
    const name = await secret();
    expect(await store.tagResource({ SecretId: name, Tags: [{ Key: 'FirstTag', Value: 'a' }] })).toEqual({});
    await store.tagResource({ SecretId: name, Tags: [{ Key: 'FirstTag', Value: 'b' }] });
    await store.tagResource({ SecretId: name, Tags: [{ Key: 'SecondTag', Value: 'c' }] });
    expect((await store.describeSecret({ SecretId: name })).Tags).toEqual([
      { Key: 'FirstTag', Value: 'b' },
      { Key: 'SecondTag', Value: 'c' },
    ]);
  });

  it('untagging every key leaves Tags: []; untagging an absent key succeeds and commits nothing (#72)', async () => {
    const name = await secret();
    await store.tagResource({ SecretId: name, Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] });
    expect(await store.untagResource({ SecretId: name, TagKeys: ['a', 'b'] })).toEqual({});
    expect((await store.describeSecret({ SecretId: name })).Tags).toEqual([]);
    const before = t.snapshot();
    expect(await store.untagResource({ SecretId: name, TagKeys: ['never-there'] })).toEqual({});
    expect(t.snapshot()).toBe(before);
  });

  it('a secret that was never tagged has no Tags field', async () => {
    const name = await secret();
    expect('Tags' in (await store.describeSecret({ SecretId: name }))).toBe(false);
  });

  it('tag and untag on a scheduled secret are InvalidRequestException (#64)', async () => {
    const name = await secret();
    await store.tagResource({ SecretId: name, Tags: [{ Key: 'a', Value: '1' }] });
    await store.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    const expected = { name: 'InvalidRequestException', message: "You can't perform this operation on the secret because it was marked for deletion." };
    await rejectsUnchanged(() => store.tagResource({ SecretId: name, Tags: [{ Key: 'b', Value: '2' }] }), expected);
    await rejectsUnchanged(() => store.untagResource({ SecretId: name, TagKeys: ['a'] }), expected);
  });

  it('more than 50 tags on a secret is InvalidParameterException; 50 is fine', async () => {
    const name = await secret();
    await store.tagResource({ SecretId: name, Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) });
    await store.tagResource({ SecretId: name, Tags: [{ Key: 'k0', Value: 'changed' }] }); // replacing keeps 50
    await rejectsUnchanged(() => store.tagResource({ SecretId: name, Tags: [{ Key: 'k50', Value: 'v' }] }), { name: 'InvalidParameterException' });
  });

  it('the aws: prefix is reserved, in any case, for tagging and untagging', async () => {
    const name = await secret();
    for (const Key of ['aws:owner', 'AWS:owner']) {
      await rejectsUnchanged(() => store.tagResource({ SecretId: name, Tags: [{ Key, Value: 'x' }] }), { name: 'InvalidParameterException' });
    }
    await rejectsUnchanged(() => store.untagResource({ SecretId: name, TagKeys: ['aws:owner'] }), { name: 'InvalidParameterException' });
  });

  it('key and value lengths are model constraints (ValidationException); tag commits name keys only', async () => {
    const name = await secret();
    await rejectsUnchanged(() => store.tagResource({ SecretId: name, Tags: [{ Key: '', Value: 'x' }] }), { name: 'ValidationException' });
    await rejectsUnchanged(() => store.tagResource({ SecretId: name, Tags: [{ Key: 'k', Value: 'x'.repeat(257) }] }), { name: 'ValidationException' });
    await store.tagResource({ SecretId: name, Tags: [{ Key: 'team', Value: 'payments-value' }] });
    expect(lastMessage()).toContain('tag: team');
    expect(lastMessage()).not.toContain('payments-value');
  });
});

describe('purging secrets whose recovery window has passed (Decisions: DeletedDate)', () => {
  // A store of its own: a write with a clock days ahead purges every secret then due, and these tests
  // count commits exactly. Tests in a file run one after another, so swapping the globals is safe.
  let outer: { t: TestStore; store: Store };
  beforeAll(async () => {
    outer = { t, store };
    t = makeStore();
    store = await t.open();
  });
  afterAll(() => {
    t.cleanup();
    ({ t, store } = outer);
  });

  it('after the purge time reads treat the secret as not found without writing; the next write purges it in a commit of its own', async () => {
    const name = await secret('purge-me');
    const { ARN } = await store.describeSecret({ SecretId: name });
    const t0 = new Date(Date.now() + 1000);
    await (await at(t0)).deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });

    // One day before: still scheduled, and a write leaves it alone.
    const early = await at(new Date(t0.getTime() + 6 * DAY));
    let mark = head();
    await early.createSecret({ Name: `lc-bystander-${++seq}`, SecretString: 'x' });
    expect(commitsSince(mark)).toHaveLength(1);
    expect((await early.describeSecret({ SecretId: name })).DeletedDate).toEqual(new Date(t0.getTime() + 7 * DAY));

    // Past the purge time: not found, yet nothing was written.
    const late = await at(new Date(t0.getTime() + 7 * DAY + 1));
    const before = t.snapshot();
    await expect(late.describeSecret({ SecretId: name })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(late.describeSecret({ SecretId: ARN })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(late.getSecretValue({ SecretId: name })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(late.listSecretVersionIds({ SecretId: name })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(t.snapshot()).toBe(before);

    // The next write, on another secret, purges first, in a commit of its own.
    mark = head();
    const bystander = `lc-bystander-${++seq}`;
    await late.createSecret({ Name: bystander, SecretString: 'x' });
    const commits = commitsSince(mark);
    expect(commits).toHaveLength(2);
    expect(commits[0]).toBe(`purge: ${name} past its recovery window`);
    expect(commits[1]).toMatch(new RegExp(`^create-secret ${bystander}: `));
    const purgeCommit = t.git(['rev-list', '--reverse', `${mark}..HEAD`]).split('\n')[0]!;
    expect(t.git(['show', '--name-status', '--format=', purgeCommit]).split('\n').filter(Boolean).sort()).toEqual(
      [`D\t.secretstore/scheduled-deletions/secrets/${name}/secret.yaml`, `D\tsecrets/${name}/secret.yaml`, `D\tsecrets/${name}/versions/${T(0)}.sealed`].sort(),
    );
    expect(trackedFiles(`secrets/${name}`)).toEqual([]);
    expect(t.git(['status', '--porcelain'])).toBe('');

    // It behaves as never-existing: not found, restorable no more, forced delete synthesizes, the name is free.
    await expect(late.restoreSecret({ SecretId: name })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(late.deleteSecret({ SecretId: name })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await late.deleteSecret({ SecretId: name, ForceDeleteWithoutRecovery: true })).ARN).not.toBe(ARN);
    const again = await late.createSecret({ Name: name, SecretString: 'new life' });
    expect(again.ARN).not.toBe(ARN);
    expect((await late.getSecretValue({ SecretId: name })).SecretString).toBe('new life');
  });

  it('several secrets due at once are purged in one commit; a write on the purged secret itself finds nothing', async () => {
    const a = await secret();
    const b = await secret();
    const t0 = new Date(Date.now() + 1000);
    const client = await at(t0);
    await client.deleteSecret({ SecretId: a, RecoveryWindowInDays: 7 });
    await client.deleteSecret({ SecretId: b, RecoveryWindowInDays: 8 });
    const late = await at(new Date(t0.getTime() + 9 * DAY));
    const mark = head();
    await expect(late.putSecretValue({ SecretId: a, SecretString: 'x' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const commits = commitsSince(mark);
    expect(commits.filter((c) => c.startsWith('purge: '))).toHaveLength(1);
    expect(commits).toHaveLength(1);
    expect(lastMessage()).toContain(`purged: ${a} `);
    expect(lastMessage()).toContain(`purged: ${b} `);
  });

  it('secretstore prune purges due secrets in a commit of their own, then prunes', async () => {
    const name = await secret();
    const t0 = new Date(Date.now() + 1000);
    await (await at(t0)).deleteSecret({ SecretId: name, RecoveryWindowInDays: 30 });
    const mark = head();
    const result = await pruneStore(store.client, new Date(t0.getTime() + 31 * DAY));
    expect(result.Purged).toEqual([name]);
    expect(commitsSince(mark)).toEqual([`purge: ${name} past its recovery window`]);
    expect(trackedFiles(`secrets/${name}`)).toEqual([]);
    // Nothing left to purge: the output keeps its old shape.
    expect(await pruneStore(store.client, new Date(t0.getTime() + 31 * DAY))).not.toHaveProperty('Purged');
  });

  it('the registry entry is a small reviewable file naming the secret and its purge time', async () => {
    const name = await secret();
    const t0 = new Date(Date.now() + 1000);
    await (await at(t0)).deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 });
    const text = t.git(['show', `HEAD:.secretstore/scheduled-deletions/secrets/${name}/secret.yaml`]);
    expect(text).toContain(`name: ${name}\n`);
    expect(text).toContain(`deletedDate: ${new Date(t0.getTime() + 7 * DAY).toISOString()}\n`);
    await store.restoreSecret({ SecretId: name });
    expect(trackedFiles('.secretstore/scheduled-deletions')).toEqual([]);
  });

  it('prune also purges a secret whose deletedDate was set by hand, without a registry entry', async () => {
    const name = await secret();
    const file = join(t.dir, `secrets/${name}/secret.yaml`);
    const text = (await import('node:fs')).readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/^(lastChangedDate: .*)$/m, '$1\ndeletedDate: 2000-01-01T00:00:00.000Z'));
    await resign(t, [`secrets/${name}/secret.yaml`]); // a writer's hand edit, signed
    await commitSigned(t, 'schedule by hand');
    await expect(store.describeSecret({ SecretId: name })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const mark = head();
    expect((await pruneStore(store.client, new Date())).Purged).toEqual([name]);
    expect(commitsSince(mark)).toEqual([`purge: ${name} past its recovery window`]);
    expect(trackedFiles(`secrets/${name}`)).toEqual([]);
  });

  it('a damaged purge-registry entry is InternalServiceError naming the file, and the write changes nothing', async () => {
    const s = makeStore();
    try {
      const lib = await s.open();
      await lib.createSecret({ Name: 'victim', SecretString: 'x' });
      await lib.deleteSecret({ SecretId: 'victim', RecoveryWindowInDays: 7 });
      const file = '.secretstore/scheduled-deletions/secrets/victim/secret.yaml';
      writeFileSync(join(s.dir, file), 'name: someone-else\ndeletedDate: 2000-01-01T00:00:00.000Z\n');
      await commitSigned(s, 'hand edit, committed by a writer (damage, not a trust failure)');
      const before = s.snapshot();
      await expect(lib.createSecret({ Name: 'other', SecretString: 'x' })).rejects.toMatchObject({
        name: 'InternalServiceError',
        message: expect.stringContaining(file),
      });
      expect(s.snapshot()).toBe(before);
    } finally {
      s.cleanup();
    }
  });

  it('writes never scan the store: a damaged index of an unrelated secret does not stop them', async () => {
    const s = makeStore();
    try {
      const lib = await s.open();
      await lib.createSecret({ Name: 'damaged', SecretString: 'x' });
      writeFileSync(join(s.dir, 'secrets/damaged/secret.yaml'), 'not: [valid');
      await commitSigned(s, 'damage an unrelated secret (a writer\'s commit: the damage is what is tested)');
      await lib.createSecret({ Name: 'fine', SecretString: 'x' });
      await lib.deleteSecret({ SecretId: 'fine', RecoveryWindowInDays: 7 });
      await lib.restoreSecret({ SecretId: 'fine' });
      await expect(lib.describeSecret({ SecretId: 'fine' })).resolves.toMatchObject({ Name: 'fine' });
    } finally {
      s.cleanup();
    }
  });
});

describe('through the CLI process', () => {
  it('update-secret-version-stage --secret-id --version-stage --move-to-version-id --remove-from-version-id', async () => {
    const name = await secret();
    await put(name, 1, [PENDING]);
    const r = t.cli(['update-secret-version-stage', '--secret-id', name, '--version-stage', CUR, '--move-to-version-id', T(1), '--remove-from-version-id', T(0)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Object.keys(r.json()).sort()).toEqual(['ARN', 'Name']);
    expect(await stages(name)).toEqual({ [T(0)]: [PREV], [T(1)]: [CUR, PENDING] });
    const bad = t.cli(['update-secret-version-stage', '--secret-id', name, '--version-stage', CUR, '--move-to-version-id', T(0)]);
    expect(bad.status).toBe(254);
    expect(bad.stderr).toContain('An error occurred (InvalidParameterException) when calling the UpdateSecretVersionStage operation: The parameter RemoveFromVersionId');
  });

  it('delete-secret --recovery-window-in-days 7, then restore-secret', async () => {
    const name = await secret();
    const start = Date.now();
    const d = t.cli(['delete-secret', '--secret-id', name, '--recovery-window-in-days', '7']);
    expect(d.stderr).toBe('');
    expect(d.status).toBe(0);
    const out = d.json<{ ARN: string; Name: string; DeletionDate: string }>();
    expect(out.Name).toBe(name);
    const due = Date.parse(out.DeletionDate);
    expect(due).toBeGreaterThanOrEqual(start + 7 * DAY - 1000);
    expect(due).toBeLessThanOrEqual(Date.now() + 7 * DAY + 1000);
    const r = t.cli(['restore-secret', '--secret-id', name]);
    expect(r.status).toBe(0);
    expect(r.json()).toEqual({ ARN: out.ARN, Name: name });
    expect('DeletedDate' in (await store.describeSecret({ SecretId: name }))).toBe(false);
    const bad = t.cli(['delete-secret', '--secret-id', name, '--recovery-window-in-days', '3']);
    expect(bad.status).toBe(254);
    expect(bad.stderr).toContain('(InvalidParameterException) when calling the DeleteSecret operation: The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
  });

  it('tag-resource --tags Key=a,Value=b, then untag-resource --tag-keys a', async () => {
    const name = await secret();
    const tag = t.cli(['tag-resource', '--secret-id', name, '--tags', 'Key=a,Value=b']);
    expect(tag.stderr).toBe('');
    expect(tag.status).toBe(0);
    expect((await store.describeSecret({ SecretId: name })).Tags).toEqual([{ Key: 'a', Value: 'b' }]);
    const untag = t.cli(['untag-resource', '--secret-id', name, '--tag-keys', 'a']);
    expect(untag.status).toBe(0);
    expect((await store.describeSecret({ SecretId: name })).Tags).toEqual([]);
  });
});
