import { optional } from '../core/codec.js';
import type { GetResourcePolicyRequest, GetResourcePolicyResponse } from '../model/resource-policy.js';
import { findSecret, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';

/** Spec 3.16: ARN and Name, plus ResourcePolicy when one is stored. Works on a secret scheduled for deletion. */
export const getResourcePolicy: Operation<GetResourcePolicyRequest, GetResourcePolicyResponse> = {
  name: 'GetResourcePolicy',
  command: 'get-resource-policy',
  group: 'Policies and replication',
  summary: 'Show the resource policy recorded for a secret.',
  mutates: false,
  example: 'secretstore get-resource-policy --secret-id MyTestDatabaseSecret --query ResourcePolicy --output text',
  params: [SECRET_ID],
  async run(ctx, input) {
    const secret = await findSecret(ctx, input.SecretId);
    return readOnly({ ARN: secret.arn, Name: secret.name, ...optional('ResourcePolicy', secret.resourcePolicy) });
  },
};
