import { addRegions, checkReplicaRegions, replicationStatus } from '../core/replication.js';
import { checkSecretId, required } from '../core/validate.js';
import type { ReplicateSecretToRegionsRequest, ReplicateSecretToRegionsResponse } from '../model/replication.js';
import type { SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import type { Operation } from './context.js';
import { commitMessage } from './versions.js';

/**
 * Spec 3.16: the Regions are recorded in the secret's index, one commit, and reported with every Region
 * recorded before, each `Status: Failed` (no replica is made offline).
 */
export const replicateSecretToRegions: Operation<ReplicateSecretToRegionsRequest, ReplicateSecretToRegionsResponse> = {
  name: 'ReplicateSecretToRegions',
  command: 'replicate-secret-to-regions',
  group: 'Policies and replication',
  summary: 'Record replica Regions for a secret; reported as Failed, since no replica is made offline.',
  mutates: true,
  example: 'secretstore replicate-secret-to-regions --secret-id MyTestDatabaseSecret --add-replica-regions Region=eu-west-3',
  params: [
    SECRET_ID,
    { member: 'AddReplicaRegions', type: 'structures', required: true, help: 'Region=us-west-2,KmsKeyId=k ... or JSON.' },
    { member: 'ForceOverwriteReplicaSecret', type: 'boolean', help: 'Accepted; there is no replica to overwrite offline.' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const wanted = checkReplicaRegions(required('addReplicaRegions', input.AddReplicaRegions), ctx.store.config.region)!;
    const secret = await activeSecret(ctx, input.SecretId);
    const replicaRegions = addRegions(secret, wanted);
    const after: SecretIndex = { ...secret, replicaRegions, lastChangedDate: ctx.now.toISOString() };
    return {
      result: { ARN: secret.arn, ReplicationStatus: replicationStatus(replicaRegions) },
      changes: [indexChange(after)],
      message: commitMessage(
        'replicate-secret-to-regions',
        secret.name,
        `recorded ${wanted.length} replica Region(s); none is made offline`,
        wanted.map((r) => `replica region: ${r.region}`),
      ),
    };
  },
};
