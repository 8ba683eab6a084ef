import { describeFields, findSecret, SECRET_ID } from './common.js';
import type { DescribeSecretRequest, DescribeSecretResponse } from '../model/api.js';
import { readOnly, type Operation } from './context.js';

/** Spec 3.5: only populated fields; deprecated versions are left out of VersionIdsToStages (common.ts). */
export const describeSecret: Operation<DescribeSecretRequest, DescribeSecretResponse> = {
  name: 'DescribeSecret',
  command: 'describe-secret',
  group: 'Discovery',
  summary: 'Show the metadata and the label index of a secret (no value).',
  mutates: false,
  example: 'secretstore describe-secret --secret-id MyTestDatabaseSecret',
  params: [SECRET_ID],
  async run(ctx, input) {
    const secret = await findSecret(ctx, input.SecretId);
    return readOnly(describeFields(secret, 'VersionIdsToStages'));
  },
};
