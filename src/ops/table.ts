/**
 * The one list of operations. The CLI, the library (and later the HTTP server) are all derived from it;
 * none of them holds a business rule of its own.
 */
import { batchGetSecretValue } from './batch-get-secret-value.js';
import { cancelRotateSecret } from './cancel-rotate-secret.js';
import { createSecret } from './create-secret.js';
import { deleteSecret } from './delete-secret.js';
import { describeSecret } from './describe-secret.js';
import { getRandomPassword } from './get-random-password.js';
import { getSecretValue } from './get-secret-value.js';
import { listSecrets } from './list-secrets.js';
import { listSecretVersionIds } from './list-secret-version-ids.js';
import { putSecretValue } from './put-secret-value.js';
import { putResourcePolicy } from './put-resource-policy.js';
import { getResourcePolicy } from './get-resource-policy.js';
import { deleteResourcePolicy } from './delete-resource-policy.js';
import { validateResourcePolicy } from './validate-resource-policy.js';
import { removeRegionsFromReplication } from './remove-regions-from-replication.js';
import { replicateSecretToRegions } from './replicate-secret-to-regions.js';
import { restoreSecret } from './restore-secret.js';
import { rotateSecret } from './rotate-secret.js';
import { tagResource } from './tag-resource.js';
import { untagResource } from './untag-resource.js';
import { updateSecret } from './update-secret.js';
import { updateSecretVersionStage } from './update-secret-version-stage.js';

export const operations = {
  CreateSecret: createSecret,
  PutSecretValue: putSecretValue,
  GetSecretValue: getSecretValue,
  BatchGetSecretValue: batchGetSecretValue,
  DescribeSecret: describeSecret,
  ListSecrets: listSecrets,
  ListSecretVersionIds: listSecretVersionIds,
  UpdateSecret: updateSecret,
  UpdateSecretVersionStage: updateSecretVersionStage,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
  TagResource: tagResource,
  UntagResource: untagResource,
  GetRandomPassword: getRandomPassword,
  RotateSecret: rotateSecret,
  CancelRotateSecret: cancelRotateSecret,
  ReplicateSecretToRegions: replicateSecretToRegions,
  RemoveRegionsFromReplication: removeRegionsFromReplication,
  PutResourcePolicy: putResourcePolicy,
  GetResourcePolicy: getResourcePolicy,
  DeleteResourcePolicy: deleteResourcePolicy,
  ValidateResourcePolicy: validateResourcePolicy,
} as const;

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type InputOf<K extends OperationName> = Parameters<Operations[K]['run']>[1];
export type OutputOf<K extends OperationName> = Awaited<ReturnType<Operations[K]['run']>>['result'];
