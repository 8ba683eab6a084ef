import type { DeleteResourcePolicyRequest, DeleteResourcePolicyResponse } from '../model/resource-policy.js';
import type { SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { commitMessage } from './versions.js';

/** Spec 3.16: the policy leaves the secret's index, one commit; a secret without one answers the same, with no commit. */
export const deleteResourcePolicy: Operation<DeleteResourcePolicyRequest, DeleteResourcePolicyResponse> = {
  name: 'DeleteResourcePolicy',
  command: 'delete-resource-policy',
  group: 'Policies and replication',
  summary: 'Remove the resource policy of a secret.',
  mutates: true,
  example: 'secretstore delete-resource-policy --secret-id MyTestDatabaseSecret',
  params: [SECRET_ID],
  async run(ctx, input) {
    const secret = await activeSecret(ctx, input.SecretId);
    const result = { ARN: secret.arn, Name: secret.name };
    if (secret.resourcePolicy === undefined) return readOnly(result);
    const { resourcePolicy: _removed, ...rest } = secret;
    const after: SecretIndex = { ...rest, lastChangedDate: ctx.now.toISOString() };
    return { result, changes: [indexChange(after)], message: commitMessage('delete-resource-policy', secret.name, 'removed the resource policy', []) };
  },
};
