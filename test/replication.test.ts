/**
 * Issue 13.8 (spec 3.16): replication offline. Replica Regions asked for are recorded in the secret's
 * index and reported as `ReplicationStatus` entries with `Status: Failed`, never a silent success and
 * never a replica that is not there; through the library, the CLI and serve. Errors leave the store as
 * it was, with no commit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { makeStore, rejectsUnchanged, type TestStore } from './helpers/store.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import type { Store } from '../src/index.js';
import { REPLICATION_OFFLINE } from '../src/core/replication.js';

let t: TestStore;
let store: Store;
let s: TestServer;
let sm: SecretsManagerClient;
let seq = 0;
const fresh = () => `repl/secret-${++seq}`;
const commits = () => Number(t.git(['rev-list', '--count', 'HEAD']).trim());
const failed = (Region: string, KmsKeyId = 'alias/aws/secretsmanager') => ({ Region, KmsKeyId, Status: 'Failed', StatusMessage: REPLICATION_OFFLINE });

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
  s = await startTestServer(t);
  sm = s.client();
});
afterAll(async () => {
  await s?.close();
  t?.cleanup();
});

describe('issue 13.8: replication is recorded and reported as Failed (spec 3.16)', () => {
  it('issue 13.8: create-secret with AddReplicaRegions records them and describe-secret reports Status Failed', async () => {
    const name = fresh();
    const before = commits();
    const created = await store.createSecret({
      Name: name,
      SecretString: 'v',
      AddReplicaRegions: [{ Region: 'us-west-2', KmsKeyId: 'alias/replica' }, { Region: 'eu-west-3' }],
      ForceOverwriteReplicaSecret: true,
    });
    expect(commits()).toBe(before + 1);
    expect(created.ReplicationStatus).toEqual([failed('us-west-2', 'alias/replica'), failed('eu-west-3')]);
    // A retry (same token, same value) answers as the first call did, with no commit.
    const token = created.VersionId!;
    const retried = await store.createSecret({ Name: name, SecretString: 'v', ClientRequestToken: token, AddReplicaRegions: [{ Region: 'us-west-2' }] });
    expect(retried).toEqual(created);
    expect(commits()).toBe(before + 1);
    const described = await store.describeSecret({ SecretId: name });
    expect(described.PrimaryRegion).toBe('us-east-1');
    expect(described.ReplicationStatus).toEqual([failed('us-west-2', 'alias/replica'), failed('eu-west-3')]);
    // Recorded in the index, in a stable key order, so a review shows it.
    const index = readFileSync(join(t.dir, 'secrets', name, 'secret.yaml'), 'utf8');
    expect(index).toContain('replicaRegions:\n  - region: us-west-2\n    kmsKeyId: alias/replica\n  - region: eu-west-3\n');
    // A secret without replicas reports neither member, as before.
    const plain = fresh();
    await store.createSecret({ Name: plain, SecretString: 'v' });
    const d = await store.describeSecret({ SecretId: plain });
    expect('PrimaryRegion' in d || 'ReplicationStatus' in d).toBe(false);
  });

  it('issue 13.8: list-secrets reports PrimaryRegion (ReplicationStatus only in describe-secret, as in AWS\'s SecretListEntry); the primary-region filter matches them', async () => {
    const name = fresh();
    await store.createSecret({ Name: name, AddReplicaRegions: [{ Region: 'ap-south-1' }] });
    const listed = await store.listSecrets({ Filters: [{ Key: 'name', Values: [name] }] });
    expect(listed.SecretList[0]).toMatchObject({ Name: name, PrimaryRegion: 'us-east-1' });
    expect(listed.SecretList[0]).not.toHaveProperty('ReplicationStatus');
    const byRegion = await store.listSecrets({ Filters: [{ Key: 'primary-region', Values: ['us-east'] }] });
    expect(byRegion.SecretList.map((e) => e.Name)).toContain(name);
    expect(byRegion.SecretList.every((e) => e.PrimaryRegion === 'us-east-1')).toBe(true);
  });

  it('issue 13.8: replicate-secret-to-regions and remove-regions-from-replication record and remove, one commit each', async () => {
    const name = fresh();
    const { ARN } = await store.createSecret({ Name: name, SecretString: 'v' });
    let before = commits();
    const added = await store.replicateSecretToRegions({ SecretId: name, AddReplicaRegions: [{ Region: 'eu-central-1' }, { Region: 'us-west-1' }], ForceOverwriteReplicaSecret: true });
    expect(commits()).toBe(before + 1);
    expect(added).toEqual({ ARN, ReplicationStatus: [failed('eu-central-1'), failed('us-west-1')] });
    expect(t.git(['log', '-1', '--format=%s'])).toContain(`replicate-secret-to-regions ${name}`);
    before = commits();
    const removed = await store.removeRegionsFromReplication({ SecretId: name, RemoveReplicaRegions: ['eu-central-1'] });
    expect(commits()).toBe(before + 1);
    expect(removed).toEqual({ ARN, ReplicationStatus: [failed('us-west-1')] });
    await store.removeRegionsFromReplication({ SecretId: ARN, RemoveReplicaRegions: ['us-west-1'] });
    const d = await store.describeSecret({ SecretId: name });
    expect('ReplicationStatus' in d || 'PrimaryRegion' in d).toBe(false);
    expect(readFileSync(join(t.dir, 'secrets', name, 'secret.yaml'), 'utf8')).not.toContain('replicaRegions');
  });

  it('issue 13.8: errors as AWS: unknown secret, invalid Region, duplicate Region, the primary Region; nothing written', async () => {
    const name = fresh();
    await store.createSecret({ Name: name, SecretString: 'v', AddReplicaRegions: [{ Region: 'us-west-2' }] });
    await rejectsUnchanged(t, () => store.replicateSecretToRegions({ SecretId: 'repl/none', AddReplicaRegions: [{ Region: 'us-west-1' }] }), {
      name: 'ResourceNotFoundException',
    });
    await rejectsUnchanged(t, () => store.removeRegionsFromReplication({ SecretId: 'repl/none', RemoveReplicaRegions: ['us-west-1'] }), {
      name: 'ResourceNotFoundException',
    });
    await rejectsUnchanged(t, () => store.replicateSecretToRegions({ SecretId: name, AddReplicaRegions: [{ Region: 'Mars' }] }), {
      name: 'ValidationException',
      message: "1 validation error detected: Value 'Mars' at 'addReplicaRegions.1.member.region' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-z]+-)+\\d+$",
    });
    await rejectsUnchanged(t, () => store.createSecret({ Name: fresh(), AddReplicaRegions: [{ Region: 'eu-west-1' }, { Region: 'eu-west-1' }] }), {
      name: 'InvalidParameterException',
      message: 'Region eu-west-1 is listed more than once.',
    });
    await rejectsUnchanged(t, () => store.createSecret({ Name: fresh(), AddReplicaRegions: [{ Region: 'us-east-1' }] }), {
      name: 'InvalidParameterException',
      message: 'Invalid replica Region us-east-1: it is the primary Region of the secret.',
    });
    await rejectsUnchanged(t, () => store.replicateSecretToRegions({ SecretId: name, AddReplicaRegions: [{ Region: 'us-west-2' }] }), {
      name: 'InvalidParameterException',
      message: `Secret ${name} is already replicated to Region us-west-2.`,
    });
    await rejectsUnchanged(t, () => store.removeRegionsFromReplication({ SecretId: name, RemoveReplicaRegions: ['eu-north-1'] }), {
      name: 'InvalidParameterException',
      message: `Secret ${name} is not replicated to Region eu-north-1.`,
    });
    await rejectsUnchanged(t, () => store.replicateSecretToRegions({ SecretId: name, AddReplicaRegions: [] }), { name: 'ValidationException' });
    await store.deleteSecret({ SecretId: name });
    await rejectsUnchanged(t, () => store.replicateSecretToRegions({ SecretId: name, AddReplicaRegions: [{ Region: 'us-west-1' }] }), {
      name: 'InvalidRequestException',
    });
  });

  it('issue 13.8: through the CLI: --add-replica-regions in the AWS CLI shorthand and as JSON, --force-overwrite-replica-secret', () => {
    const name = fresh();
    const created = t.cli(['create-secret', '--name', name, '--no-prompt', '--add-replica-regions', 'Region=us-west-2,KmsKeyId=alias/k', 'Region=eu-west-1', '--force-overwrite-replica-secret']);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(created.json()).toMatchObject({ Name: name, ReplicationStatus: [failed('us-west-2', 'alias/k'), failed('eu-west-1')] });
    const more = t.cli(['replicate-secret-to-regions', '--secret-id', name, '--add-replica-regions', '[{"Region":"ap-northeast-1"}]']);
    expect(more.status).toBe(0);
    expect(more.json<{ ReplicationStatus: { Region: string }[] }>().ReplicationStatus.map((r) => r.Region)).toEqual(['us-west-2', 'eu-west-1', 'ap-northeast-1']);
    const removed = t.cli(['remove-regions-from-replication', '--secret-id', name, '--remove-replica-regions', 'us-west-2', 'eu-west-1']);
    expect(removed.status).toBe(0);
    const described = t.cli(['describe-secret', '--secret-id', name, '--query', 'ReplicationStatus[].[Region,Status]', '--output', 'text']);
    expect(described.stdout.trim()).toBe('ap-northeast-1\tFailed');
    const bad = t.cli(['replicate-secret-to-regions', '--secret-id', name, '--add-replica-regions', 'Region=nowhere']);
    expect(bad.status).toBe(254);
    expect(bad.stderr).toContain('ValidationException');
  });

  it('issue 13.8: through serve and the AWS SDK, create-secret with AddReplicaRegions is never a silent success', async () => {
    const name = fresh();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v', ClientRequestToken: '00000000-0000-4000-8000-000000000001', AddReplicaRegions: [{ Region: 'us-west-2' }] }));
    expect(created.ReplicationStatus).toEqual([failed('us-west-2')]);
    const added = await sm.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: 'eu-west-3' }], ForceOverwriteReplicaSecret: true }));
    expect(added.ReplicationStatus?.map((r) => r.Status)).toEqual(['Failed', 'Failed']);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.PrimaryRegion).toBe('us-east-1');
    expect(described.ReplicationStatus).toEqual([failed('us-west-2'), failed('eu-west-3')]);
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [name] }] }));
    expect(listed.SecretList?.[0]?.PrimaryRegion).toBe('us-east-1');
    const removed = await sm.send(new RemoveRegionsFromReplicationCommand({ SecretId: name, RemoveReplicaRegions: ['us-west-2'] }));
    expect(removed.ReplicationStatus).toEqual([failed('eu-west-3')]);
    await expect(sm.send(new ReplicateSecretToRegionsCommand({ SecretId: 'repl/none', AddReplicaRegions: [{ Region: 'eu-west-3' }] }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
