import { resolveSecretId } from '../core/arn.js';
import { optional } from '../core/codec.js';
import { versionsToStages } from '../core/labels.js';
import { checkSecretId } from '../core/validate.js';
import type { DescribeSecretRequest, DescribeSecretResponse } from '../model/api.js';
import { readOnly, type Operation } from './context.js';

/** Spec 3.5: only populated fields; deprecated versions are left out of VersionIdsToStages. */
export const describeSecret: Operation<DescribeSecretRequest, DescribeSecretResponse> = {
  name: 'DescribeSecret',
  command: 'describe-secret',
  summary: 'Show the metadata and the label index of a secret (no value).',
  mutates: false,
  example: 'secretstore describe-secret --secret-id MyTestDatabaseSecret',
  params: [{ member: 'SecretId', type: 'string', required: true, help: 'Name, ARN or partial ARN of the secret.' }],
  async run(ctx, input) {
    const secret = await resolveSecretId(checkSecretId(input.SecretId), ctx.store.config, (n) => ctx.store.readSecret(n));
    const stages = versionsToStages(secret.labels);
    return readOnly({
      ARN: secret.arn,
      Name: secret.name,
      ...optional('Description', secret.description),
      ...optional('KmsKeyId', secret.kmsKeyId),
      LastChangedDate: new Date(secret.lastChangedDate),
      ...optional('DeletedDate', secret.deletedDate === undefined ? undefined : new Date(secret.deletedDate)),
      ...optional('Tags', secret.tags?.map((t) => ({ ...t }))),
      ...optional('VersionIdsToStages', Object.keys(stages).length > 0 ? stages : undefined),
      CreatedDate: new Date(secret.createdDate),
    });
  },
};
