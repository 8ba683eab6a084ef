import { InvalidRequestException, Messages, ResourceExistsException } from '../errors.js';
import { secretArn } from '../core/arn.js';
import { optional } from '../core/codec.js';
import { checkReplicaRegions, replicationStatus } from '../core/replication.js';
import { checkLength, checkSecretName, checkTags, checkToken, requireToken, valueFrom } from '../core/validate.js';
import type { CreateSecretRequest, CreateSecretResponse } from '../model/api.js';
import type { SecretIndex } from '../model/store.js';
import { indexChange } from './common.js';
import { readOnly, type Operation } from './context.js';
import { addVersion, commitMessage, isReplay } from './versions.js';

/** Spec 3.1. */
export const createSecret: Operation<CreateSecretRequest, CreateSecretResponse> = {
  name: 'CreateSecret',
  command: 'create-secret',
  group: 'Secrets and values',
  summary: 'Create a secret, with a first version when a value is given.',
  mutates: true,
  example: `secretstore create-secret --name MyTestDatabaseSecret --secret-string file://creds.json`,
  params: [
    { member: 'Name', type: 'string', required: true, help: 'The name of the new secret.' },
    { member: 'ClientRequestToken', type: 'string', idempotencyToken: true, help: 'VersionId of the first version (32-64 characters; a UUID is generated when omitted).' },
    { member: 'Description', type: 'string', help: 'A description of the secret.' },
    { member: 'KmsKeyId', type: 'string', help: 'Stored as metadata; sealing always uses the store recipients.' },
    { member: 'SecretString', type: 'string', sensitive: true, help: 'The value as text (file://path, or - for stdin).' },
    { member: 'SecretBinary', type: 'blob', sensitive: true, help: 'The value as bytes (fileb://path, base64 text, or - for stdin).' },
    { member: 'Tags', type: 'tags', help: 'Tags: Key=k,Value=v ... or JSON.' },
    {
      member: 'AddReplicaRegions',
      type: 'structures',
      help: 'Replica Regions: Region=us-west-2,KmsKeyId=k ... or JSON. Recorded and reported as Failed: no replica is made offline.',
    },
    { member: 'ForceOverwriteReplicaSecret', type: 'boolean', help: 'Accepted; there is no replica to overwrite offline.' },
  ],
  async run(ctx, input) {
    const name = checkSecretName(input.Name);
    checkToken('clientRequestToken', input.ClientRequestToken);
    checkLength('description', input.Description, 0, 2048);
    checkLength('kmsKeyId', input.KmsKeyId, 0, 2048);
    const tags = checkTags(input.Tags);
    const replicaRegions = checkReplicaRegions(input.AddReplicaRegions, ctx.store.config.region);
    const value = valueFrom(input);
    const versionId = value ? requireToken(input.ClientRequestToken) : undefined;

    const existing = await ctx.store.readSecret(name);
    if (existing?.deletedDate !== undefined) throw new InvalidRequestException(Messages.scheduledName);
    if (existing) {
      if (value && versionId && (await isReplay(ctx, existing, versionId, value))) {
        const recorded = existing.replicaRegions?.length ? { ReplicationStatus: replicationStatus(existing.replicaRegions) } : {};
        return readOnly({ ARN: existing.arn, Name: existing.name, VersionId: versionId, ...recorded });
      }
      throw new ResourceExistsException(Messages.alreadyExists(name));
    }

    const now = ctx.now.toISOString();
    const secret: SecretIndex = {
      name,
      arn: secretArn(ctx.store.config, name, ctx.newArnSuffix()),
      ...optional('description', input.Description || undefined),
      ...optional('kmsKeyId', input.KmsKeyId || undefined),
      ...optional('tags', tags),
      ...optional('replicaRegions', replicaRegions),
      createdDate: now,
      lastChangedDate: now,
      labels: {},
      versions: {},
    };
    // AWS answers a replica it could not make with Status Failed; offline that is every replica.
    const replication = replicaRegions ? { ReplicationStatus: replicationStatus(replicaRegions) } : {};
    const log = [`arn: ${secret.arn}`, ...(replicaRegions ?? []).map((r) => `replica region (recorded, not made): ${r.region}`)];
    if (!value || !versionId) {
      return {
        result: { ARN: secret.arn, Name: name, ...replication },
        changes: [indexChange(secret)],
        message: commitMessage('create-secret', name, 'created without a value', log),
      };
    }
    const added = await addVersion(ctx, secret, versionId, value);
    return {
      result: { ARN: secret.arn, Name: name, VersionId: versionId, ...replication },
      changes: added.changes,
      message: commitMessage('create-secret', name, `created with version ${versionId}`, [...log, ...added.log]),
    };
  },
};
