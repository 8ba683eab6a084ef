import { optional } from '../core/codec.js';
import { checkRemoveRegions, removeRegions, replicationStatus } from '../core/replication.js';
import { checkSecretId } from '../core/validate.js';
import type { RemoveRegionsFromReplicationRequest, RemoveRegionsFromReplicationResponse } from '../model/replication.js';
import type { SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import type { Operation } from './context.js';
import { commitMessage } from './versions.js';

/** Spec 3.16: the Regions leave the secret's index, one commit; the answer reports those that remain. */
export const removeRegionsFromReplication: Operation<RemoveRegionsFromReplicationRequest, RemoveRegionsFromReplicationResponse> = {
  name: 'RemoveRegionsFromReplication',
  command: 'remove-regions-from-replication',
  group: 'Policies and replication',
  summary: 'Remove recorded replica Regions from a secret.',
  mutates: true,
  example: 'secretstore remove-regions-from-replication --secret-id MyTestDatabaseSecret --remove-replica-regions eu-west-3',
  params: [SECRET_ID, { member: 'RemoveReplicaRegions', type: 'strings', required: true, help: 'The Regions to remove.' }],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const regions = checkRemoveRegions(input.RemoveReplicaRegions, ctx.store.config.region);
    const secret = await activeSecret(ctx, input.SecretId);
    const left = removeRegions(secret, regions);
    const { replicaRegions: _gone, ...rest } = secret;
    const after: SecretIndex = { ...rest, ...optional('replicaRegions', left.length > 0 ? left : undefined), lastChangedDate: ctx.now.toISOString() };
    return {
      result: { ARN: secret.arn, ReplicationStatus: replicationStatus(left) },
      changes: [indexChange(after)],
      message: commitMessage(
        'remove-regions-from-replication',
        secret.name,
        `removed ${regions.length} replica Region(s)`,
        regions.map((r) => `replica region: ${r}`),
      ),
    };
  },
};
