/** Steps that many operations share: finding the secret a request names, and writing its index. */
import { InvalidRequestException, Messages, ResourceNotFoundException } from '../errors.js';
import { notFound, regionOfArn, resolveSecretId } from '../core/arn.js';
import { replicationStatus } from '../core/replication.js';
import { optional, serializeSecretIndex } from '../core/codec.js';
import type { SecretSummary } from '../core/filters.js';
import { holderOf, labelsOf, versionsToStages } from '../core/labels.js';
import { indexPath } from '../core/layout.js';
import { checkSecretId } from '../core/validate.js';
import type { GetSecretValueResponse } from '../model/api.js';
import type { SecretListEntry } from '../model/listing.js';
import type { SecretIndex } from '../model/store.js';
import type { FileChange, OpContext, Param } from './context.js';

/** The SecretId request member, as most operations take it. */
export const SECRET_ID: Param = { member: 'SecretId', type: 'string', required: true, help: 'Name, ARN or partial ARN of the secret.' };

/**
 * Validate a SecretId and resolve it (name, full or partial ARN): ResourceNotFoundException if none.
 * A secret whose purge time (`deletedDate`) has passed is not found either, even while its files wait
 * for the next write or `prune` to purge them: reads never write, yet must not show what AWS has purged.
 */
export async function findSecret(ctx: OpContext, secretId: string | undefined): Promise<SecretIndex> {
  const secret = await resolveSecretId(checkSecretId(secretId), ctx.store.config, (name) => ctx.store.readSecret(name));
  if (secret.deletedDate !== undefined && Date.parse(secret.deletedDate) <= ctx.now.getTime()) notFound();
  return secret;
}

/** As findSecret, and InvalidRequestException when the secret is scheduled for deletion (spec 2.9). */
export async function activeSecret(ctx: OpContext, secretId: string | undefined): Promise<SecretIndex> {
  const secret = await findSecret(ctx, secretId);
  if (secret.deletedDate !== undefined) throw new InvalidRequestException(Messages.markedForDeletion);
  return secret;
}

export function indexChange(index: SecretIndex): FileChange {
  return { path: indexPath(index.name), content: serializeSecretIndex(index) };
}

/** The fields of a secret's description, as DescribeSecret and ListSecrets entries share them. */
export type SecretDescription<K extends string> = Omit<SecretListEntry, 'SecretVersionsToStages'> & {
  [P in K]?: Record<string, string[]>;
};

/**
 * Spec 3.5 presence rules, shared by DescribeSecret and the entries of ListSecrets (spec 3.6), which only
 * name the label map differently (`VersionIdsToStages` / `SecretVersionsToStages`): optional fields are
 * absent, never undefined; rotation fields only once rotation has been configured; the map holds every
 * labelled version (deprecated ones left out) and is absent when there is none; PrimaryRegion (and, in
 * DescribeSecret, ReplicationStatus) only once replica Regions were asked for. Keys in AWS's order.
 */
export function describeFields<K extends 'VersionIdsToStages' | 'SecretVersionsToStages'>(
  secret: SecretSummary,
  stagesKey: K,
): SecretDescription<K> {
  const stages = versionsToStages(secret.labels);
  const rotation = secret.rotation;
  const date = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...optional('Description', secret.description),
    ...optional('KmsKeyId', secret.kmsKeyId),
    ...optional('RotationEnabled', rotation?.enabled),
    ...optional('RotationLambdaARN', rotation?.lambdaArn),
    ...optional('RotationRules', rotation?.rules === undefined ? undefined : { ...rotation.rules }),
    ...optional('LastRotatedDate', date(rotation?.lastRotatedDate)),
    LastChangedDate: new Date(secret.lastChangedDate),
    ...optional('DeletedDate', date(secret.deletedDate)),
    ...optional('NextRotationDate', date(rotation?.nextRotationDate)),
    ...optional('Tags', secret.tags?.map((t) => ({ ...t }))),
    ...optional(stagesKey, Object.keys(stages).length > 0 ? stages : undefined),
    CreatedDate: new Date(secret.createdDate),
    // Only for a secret replicas were asked for, as AWS reports a replicated secret (spec 3.16); a list
    // entry (SecretListEntry) has PrimaryRegion but no ReplicationStatus in AWS's model.
    ...(secret.replicaRegions?.length ? { PrimaryRegion: regionOfArn(secret.arn) } : {}),
    ...(secret.replicaRegions?.length && stagesKey === 'VersionIdsToStages' ? { ReplicationStatus: replicationStatus(secret.replicaRegions) } : {}),
  } as SecretDescription<K>;
}

/**
 * The version that carries `stage`: ResourceNotFoundException when no version does, or when the label sits
 * on a rotation placeholder that has no value yet (spec 3.3).
 */
export function versionWithStage(secret: SecretIndex, stage: string): string {
  const holder = holderOf(secret.labels, stage);
  if (holder === undefined || !(holder in secret.versions)) throw new ResourceNotFoundException(Messages.noValueForStage(stage));
  return holder;
}

/** Decrypt one version and answer as GetSecretValue does (spec 3.3); BatchGetSecretValue's entries too (3.4). */
export async function secretValueOf(ctx: OpContext, secret: SecretIndex, versionId: string): Promise<GetSecretValueResponse> {
  const value = await ctx.store.openVersion(secret, versionId);
  const stages = labelsOf(secret.labels, versionId);
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: versionId,
    ...(value.type === 'string' ? { SecretString: value.text } : { SecretBinary: value.bytes }),
    ...(stages.length > 0 ? { VersionStages: stages } : {}),
    CreatedDate: new Date(secret.versions[versionId]!),
  };
}
