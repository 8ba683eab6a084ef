import { policyToStore } from '../core/resource-policy.js';
import { checkSecretId } from '../core/validate.js';
import type { PutResourcePolicyRequest, PutResourcePolicyResponse } from '../model/resource-policy.js';
import type { SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { commitMessage } from './versions.js';

/**
 * Spec 3.16: the policy is checked (src/core/resource-policy.ts) and stored in the secret's index, one
 * commit; recorded and shown in review, not enforced offline. The same policy again changes nothing.
 */
export const putResourcePolicy: Operation<PutResourcePolicyRequest, PutResourcePolicyResponse> = {
  name: 'PutResourcePolicy',
  command: 'put-resource-policy',
  group: 'Policies and replication',
  summary: 'Attach a resource policy to a secret: recorded and reviewable, not enforced offline.',
  mutates: true,
  example: 'secretstore put-resource-policy --secret-id MyTestDatabaseSecret --resource-policy file://policy.json --block-public-policy',
  params: [
    SECRET_ID,
    { member: 'ResourcePolicy', type: 'string', required: true, help: 'The policy document as JSON (or file://path).' },
    { member: 'BlockPublicPolicy', type: 'boolean', help: 'Refuse a policy that grants access to every principal.' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const policy = policyToStore(input.ResourcePolicy, input.BlockPublicPolicy === true);
    const secret = await activeSecret(ctx, input.SecretId);
    const result = { ARN: secret.arn, Name: secret.name };
    if (secret.resourcePolicy === policy) return readOnly(result);
    const after: SecretIndex = { ...secret, resourcePolicy: policy, lastChangedDate: ctx.now.toISOString() };
    return {
      result,
      changes: [indexChange(after)],
      message: commitMessage('put-resource-policy', secret.name, `${secret.resourcePolicy === undefined ? 'set' : 'changed'} the resource policy (recorded, not enforced offline)`, []),
    };
  },
};
