import { InvalidRequestException, Messages, ResourceNotFoundException } from '../errors.js';
import { activeSecret, secretValueOf, versionWithStage, SECRET_ID } from './common.js';
import { AWSCURRENT, holderOf } from '../core/labels.js';
import { checkLabel, checkSecretId, checkToken } from '../core/validate.js';
import type { GetSecretValueRequest, GetSecretValueResponse } from '../model/api.js';
import { readOnly, type Operation } from './context.js';

/**
 * Spec 3.3. Reads never write: LastAccessedDate is not recorded (a README deviation). A rotation
 * placeholder (AWSPENDING reserved by rotate-secret, no value yet) is not found, by id or by label.
 */
export const getSecretValue: Operation<GetSecretValueRequest, GetSecretValueResponse> = {
  name: 'GetSecretValue',
  command: 'get-secret-value',
  group: 'Secrets and values',
  summary: 'Decrypt and print one version of a secret (AWSCURRENT by default).',
  mutates: false,
  example: 'secretstore get-secret-value --secret-id MyTestDatabaseSecret --version-stage AWSPREVIOUS',
  params: [
    SECRET_ID,
    { member: 'VersionId', type: 'string', help: 'The version to read (deprecated versions too).' },
    { member: 'VersionStage', type: 'string', help: 'The label of the version to read (default AWSCURRENT).' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    checkToken('versionId', input.VersionId);
    if (input.VersionStage !== undefined) checkLabel('versionStage', input.VersionStage);
    const secret = await activeSecret(ctx, input.SecretId);

    let versionId: string;
    if (input.VersionId !== undefined) {
      versionId = input.VersionId;
      // Unknown, or a rotation placeholder with no value yet: rotation functions rely on this (spec 3.3).
      if (!(versionId in secret.versions)) throw new ResourceNotFoundException(Messages.noValueForVersion(versionId));
      if (input.VersionStage !== undefined && holderOf(secret.labels, input.VersionStage) !== versionId) {
        throw new InvalidRequestException(Messages.stageNotOnVersion);
      }
    } else {
      // A label on a rotation placeholder names no value yet (spec 3.3 last row).
      versionId = versionWithStage(secret, input.VersionStage ?? AWSCURRENT);
    }
    return readOnly(await secretValueOf(ctx, secret, versionId));
  },
};
