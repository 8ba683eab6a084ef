import { optional } from '../core/codec.js';
import { checkLength, checkSecretId, checkToken, requireToken, valueFrom } from '../core/validate.js';
import type { UpdateSecretRequest, UpdateSecretResponse } from '../model/lifecycle.js';
import type { SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { addVersion, commitMessage, isReplay } from './versions.js';

/** Description and KmsKeyId as given (an empty string clears either); the lines saying what changed. */
function withMetadata(secret: SecretIndex, input: UpdateSecretRequest): { index: SecretIndex; log: string[] } {
  const { description, kmsKeyId, ...rest } = secret;
  const nextDescription = input.Description === undefined ? description : input.Description || undefined;
  const nextKmsKeyId = input.KmsKeyId === undefined ? kmsKeyId : input.KmsKeyId || undefined;
  const log: string[] = [];
  if (nextDescription !== description) log.push(nextDescription === undefined ? 'description: removed' : 'description: changed');
  if (nextKmsKeyId !== kmsKeyId) log.push(`kmsKeyId: ${kmsKeyId ?? '(default)'} -> ${nextKmsKeyId ?? '(default)'}`);
  const index = { ...rest, ...optional('description', nextDescription), ...optional('kmsKeyId', nextKmsKeyId) };
  return { index: log.length > 0 ? index : secret, log };
}

/**
 * Spec 3.8: change the description and KMS key id, and with a value create a version exactly as
 * PutSecretValue without VersionStages does (it always becomes AWSCURRENT). Idempotency follows what AWS
 * does, not its doc string: the same token and value again succeed and change nothing (not even the
 * metadata of the retried call), a different value is ResourceExistsException.
 */
export const updateSecret: Operation<UpdateSecretRequest, UpdateSecretResponse> = {
  name: 'UpdateSecret',
  command: 'update-secret',
  group: 'Secrets and values',
  summary: "Change a secret's description or KMS key id, and optionally store a new value as AWSCURRENT.",
  mutates: true,
  example: 'secretstore update-secret --secret-id MyTestDatabaseSecret --description "Payments database"',
  params: [
    SECRET_ID,
    { member: 'ClientRequestToken', type: 'string', idempotencyToken: true, help: 'VersionId of the new version when a value is given (32-64 characters; a UUID is generated when omitted).' },
    { member: 'Description', type: 'string', help: 'The new description (an empty string removes it).' },
    { member: 'KmsKeyId', type: 'string', help: 'Stored as metadata; sealing always uses the store recipients.' },
    { member: 'SecretString', type: 'string', sensitive: true, help: 'A new value as text (file://path, or - for stdin).' },
    { member: 'SecretBinary', type: 'blob', sensitive: true, help: 'A new value as bytes (fileb://path, base64 text, or - for stdin).' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    checkToken('clientRequestToken', input.ClientRequestToken);
    checkLength('description', input.Description, 0, 2048);
    checkLength('kmsKeyId', input.KmsKeyId, 0, 2048);
    const value = valueFrom(input);
    const versionId = value ? requireToken(input.ClientRequestToken) : undefined;
    const secret = await activeSecret(ctx, input.SecretId);
    const result = { ARN: secret.arn, Name: secret.name };

    if (value && versionId) {
      if (await isReplay(ctx, secret, versionId, value)) return readOnly({ ...result, VersionId: versionId });
      const { index, log } = withMetadata(secret, input);
      const added = await addVersion(ctx, index, versionId, value);
      return {
        result: { ...result, VersionId: versionId },
        changes: added.changes,
        message: commitMessage('update-secret', secret.name, `new version ${versionId}`, [...log, ...added.log]),
      };
    }

    const { index, log } = withMetadata(secret, input);
    // Nothing to change (only a SecretId, or the values it already has): no commit, as for a retried put.
    if (log.length === 0) return readOnly(result);
    return {
      result,
      changes: [indexChange({ ...index, lastChangedDate: ctx.now.toISOString() })],
      message: commitMessage('update-secret', secret.name, 'metadata', log),
    };
  },
};
