import { ValidationException } from '../errors.js';
import { activeSecret, SECRET_ID } from './common.js';
import { labelsOf } from '../core/labels.js';
import { checkCount, checkLabel, checkLength, checkSecretId, requireToken, requireValue } from '../core/validate.js';
import type { PutSecretValueRequest, PutSecretValueResponse } from '../model/api.js';
import { readOnly, type Operation } from './context.js';
import { addVersion, commitMessage, isReplay } from './versions.js';

/**
 * RotationToken (spec 3.15): 36-256 characters of `[a-zA-Z0-9-]`. It is checked for form only, not
 * against the rotation that is running. AWS uses it to validate puts made under an assumed or
 * cross-account role; offline, whoever can run put-secret-value can write the repository anyway, the
 * ClientRequestToken already ties the put to the placeholder it fills, and only a value-less
 * placeholder can be filled, so a stray or stale rotation cannot overwrite a value. A put without one
 * is accepted, so an operator can drive a rotation by hand (spec 3.15 option b).
 */
export function checkRotationToken(token: string | undefined): void {
  checkLength('rotationToken', token, 36, 256, true);
  if (token !== undefined && !/^[a-zA-Z0-9-]+$/.test(token)) {
    throw new ValidationException(
      "1 validation error detected: Value at 'rotationToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\-]+$",
    );
  }
}

/**
 * Spec 3.2: a new immutable version; labels move as in spec 4.2. A token that names a rotation
 * placeholder (spec 2.8, 3.2 step 3) fills it instead of being a conflict: see `addVersion`.
 */
export const putSecretValue: Operation<PutSecretValueRequest, PutSecretValueResponse> = {
  name: 'PutSecretValue',
  command: 'put-secret-value',
  group: 'Secrets and values',
  summary: 'Store a new version of a secret and move its labels.',
  mutates: true,
  example: `secretstore put-secret-value --secret-id MyTestDatabaseSecret --secret-string file://new.json`,
  params: [
    SECRET_ID,
    { member: 'ClientRequestToken', type: 'string', idempotencyToken: true, help: 'VersionId of the new version (32-64 characters; a UUID is generated when omitted).' },
    { member: 'SecretString', type: 'string', sensitive: true, help: 'The value as text (file://path, or - for stdin).' },
    { member: 'SecretBinary', type: 'blob', sensitive: true, help: 'The value as bytes (fileb://path, base64 text, or - for stdin).' },
    { member: 'VersionStages', type: 'strings', help: 'Labels for the new version (default: AWSCURRENT).' },
    {
      member: 'RotationToken',
      type: 'string',
      sensitive: true,
      help: 'The RotationToken of the rotation event; checked for form only (offline there is no role to validate).',
    },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const versionId = requireToken(input.ClientRequestToken);
    checkRotationToken(input.RotationToken);
    if (input.VersionStages !== undefined) {
      checkCount('versionStages', input.VersionStages, 1, 20);
      input.VersionStages.forEach((label, i) => checkLabel(`versionStages.${i + 1}.member`, label));
    }
    const value = requireValue(input);
    const secret = await activeSecret(ctx, input.SecretId);
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
