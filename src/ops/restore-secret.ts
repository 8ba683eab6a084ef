import { checkSecretId } from '../core/validate.js';
import type { RestoreSecretRequest, RestoreSecretResponse } from '../model/lifecycle.js';
import type { SecretIndex } from '../model/store.js';
import { findSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { scheduledPath } from './delete-secret.js';
import { commitMessage } from './versions.js';

/**
 * Spec 3.11: cancel a scheduled deletion; versions and labels are as they were. A secret that is not
 * scheduled is left alone and the call succeeds (moto; the spec's recommendation). One past its purge
 * time is not found, purged or not.
 */
export const restoreSecret: Operation<RestoreSecretRequest, RestoreSecretResponse> = {
  name: 'RestoreSecret',
  command: 'restore-secret',
  group: 'Deletion',
  summary: 'Cancel the scheduled deletion of a secret.',
  mutates: true,
  example: 'secretstore restore-secret --secret-id MyTestDatabaseSecret',
  params: [SECRET_ID],
  async run(ctx, input) {
    const secret = await findSecret(ctx, checkSecretId(input.SecretId));
    const result = { ARN: secret.arn, Name: secret.name };
    if (secret.deletedDate === undefined) return readOnly(result);
    const { deletedDate, ...rest } = secret;
    const after: SecretIndex = { ...rest, lastChangedDate: ctx.now.toISOString() };
    return {
      result,
      changes: [indexChange(after), { path: scheduledPath(secret.name), delete: true }],
      message: commitMessage('restore-secret', secret.name, 'deletion cancelled', [`was scheduled for: ${deletedDate}`]),
    };
  },
};
