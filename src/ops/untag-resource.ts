import { checkSecretId, checkTagKey, required } from '../core/validate.js';
import type { UntagResourceRequest, UntagResourceResponse } from '../model/lifecycle.js';
import type { SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { commitMessage } from './versions.js';

/**
 * Spec 3.13: remove tags by key; absent keys are ignored. Removing the last tag leaves `Tags: []`
 * (AWS reports an empty list, not no list, once a secret has been tagged). The response is empty.
 */
export const untagResource: Operation<UntagResourceRequest, UntagResourceResponse> = {
  name: 'UntagResource',
  command: 'untag-resource',
  group: 'Tags',
  summary: 'Remove tags from a secret by key.',
  mutates: true,
  example: 'secretstore untag-resource --secret-id MyTestDatabaseSecret --tag-keys team',
  params: [
    SECRET_ID,
    { member: 'TagKeys', type: 'strings', required: true, help: 'The keys of the tags to remove.' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const keys = new Set(required('tagKeys', input.TagKeys).map((k, i) => checkTagKey(`tagKeys.${i + 1}.member`, k)));
    const secret = await activeSecret(ctx, input.SecretId);
    const removed = (secret.tags ?? []).filter((t) => keys.has(t.Key)).map((t) => t.Key);
    if (removed.length === 0) return readOnly({});
    const after: SecretIndex = {
      ...secret,
      tags: secret.tags!.filter((t) => !keys.has(t.Key)),
      lastChangedDate: ctx.now.toISOString(),
    };
    return {
      result: {},
      changes: [indexChange(after)],
      message: commitMessage('untag-resource', secret.name, `removed ${removed.length} tag(s)`, removed.map((k) => `untag: ${k}`)),
    };
  },
};
