import { InvalidRequestException, Messages } from '../errors.js';
import { resolveSecretId } from '../core/arn.js';
import { labelsOf } from '../core/labels.js';
import { checkCount, checkLabel, checkLength, checkSecretId, requireToken, requireValue } from '../core/validate.js';
import type { PutSecretValueRequest, PutSecretValueResponse } from '../model/api.js';
import { readOnly, type Operation } from './context.js';
import { addVersion, commitMessage, isReplay } from './versions.js';

/** Spec 3.2: a new immutable version; labels move as in spec 4.2. */
export const putSecretValue: Operation<PutSecretValueRequest, PutSecretValueResponse> = {
  name: 'PutSecretValue',
  command: 'put-secret-value',
  summary: 'Store a new version of a secret and move its labels.',
  mutates: true,
  example: `secretstore put-secret-value --secret-id MyTestDatabaseSecret --secret-string file://new.json`,
  params: [
    { member: 'SecretId', type: 'string', required: true, help: 'Name, ARN or partial ARN of the secret.' },
    { member: 'ClientRequestToken', type: 'string', idempotencyToken: true, help: 'VersionId of the new version (32-64 characters; a UUID is generated when omitted).' },
    { member: 'SecretString', type: 'string', sensitive: true, help: 'The value as text (file://path, or - for stdin).' },
    { member: 'SecretBinary', type: 'blob', sensitive: true, help: 'The value as bytes (fileb://path, base64 text, or - for stdin).' },
    { member: 'VersionStages', type: 'strings', help: 'Labels for the new version (default: AWSCURRENT).' },
    { member: 'RotationToken', type: 'string', sensitive: true, help: 'Accepted for compatibility; unused offline.' },
  ],
  async run(ctx, input) {
    const secretId = checkSecretId(input.SecretId);
    const versionId = requireToken(input.ClientRequestToken);
    checkLength('rotationToken', input.RotationToken, 36, 256, true);
    if (input.VersionStages !== undefined) {
      checkCount('versionStages', input.VersionStages, 1, 20);
      input.VersionStages.forEach((label, i) => checkLabel(`versionStages.${i + 1}.member`, label));
    }
    const value = requireValue(input);
    const secret = await resolveSecretId(secretId, ctx.store.config, (n) => ctx.store.readSecret(n));
    if (secret.deletedDate !== undefined) throw new InvalidRequestException(Messages.markedForDeletion);
    if (await isReplay(ctx, secret, versionId, value)) {
      return readOnly({ ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: labelsOf(secret.labels, versionId) });
    }
    const added = await addVersion(ctx, secret, versionId, value, input.VersionStages);
    return {
      result: { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: labelsOf(added.index.labels, versionId) },
      changes: added.changes,
      message: commitMessage('put-secret-value', secret.name, `new version ${versionId}`, added.log),
    };
  },
};
