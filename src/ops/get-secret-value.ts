import { InvalidRequestException, Messages, ResourceNotFoundException } from '../errors.js';
import { resolveSecretId } from '../core/arn.js';
import { AWSCURRENT, labelsOf } from '../core/labels.js';
import { checkLabel, checkSecretId, checkToken } from '../core/validate.js';
import type { GetSecretValueRequest, GetSecretValueResponse } from '../model/api.js';
import { readOnly, type Operation } from './context.js';

/** Spec 3.3. Reads never write: LastAccessedDate is not recorded (a README deviation). */
export const getSecretValue: Operation<GetSecretValueRequest, GetSecretValueResponse> = {
  name: 'GetSecretValue',
  command: 'get-secret-value',
  summary: 'Decrypt and print one version of a secret (AWSCURRENT by default).',
  mutates: false,
  example: 'secretstore get-secret-value --secret-id MyTestDatabaseSecret --version-stage AWSPREVIOUS',
  params: [
    { member: 'SecretId', type: 'string', required: true, help: 'Name, ARN or partial ARN of the secret.' },
    { member: 'VersionId', type: 'string', help: 'The version to read (deprecated versions too).' },
    { member: 'VersionStage', type: 'string', help: 'The label of the version to read (default AWSCURRENT).' },
  ],
  async run(ctx, input) {
    const secretId = checkSecretId(input.SecretId);
    checkToken('versionId', input.VersionId);
    if (input.VersionStage !== undefined) checkLabel('versionStage', input.VersionStage);
    const secret = await resolveSecretId(secretId, ctx.store.config, (n) => ctx.store.readSecret(n));
    if (secret.deletedDate !== undefined) throw new InvalidRequestException(Messages.markedForDeletion);

    let versionId: string;
    if (input.VersionId !== undefined) {
      versionId = input.VersionId;
      if (!(versionId in secret.versions)) throw new ResourceNotFoundException(Messages.noValueForVersion(versionId));
      if (input.VersionStage !== undefined && secret.labels[input.VersionStage] !== versionId) {
        throw new InvalidRequestException(Messages.stageNotOnVersion);
      }
    } else {
      const stage = input.VersionStage ?? AWSCURRENT;
      const holder = secret.labels[stage];
      if (holder === undefined) throw new ResourceNotFoundException(Messages.noValueForStage(stage));
      versionId = holder;
    }

    const value = await ctx.store.openVersion(secret, versionId);
    const stages = labelsOf(secret.labels, versionId);
    return readOnly({
      ARN: secret.arn,
      Name: secret.name,
      VersionId: versionId,
      ...(value.type === 'string' ? { SecretString: value.text } : { SecretBinary: value.bytes }),
      ...(stages.length > 0 ? { VersionStages: stages } : {}),
      CreatedDate: new Date(secret.versions[versionId]!),
    });
  },
};
