import { InvalidParameterException } from '../errors.js';
import { checkSecretId, checkTags, MAX_TAGS, required } from '../core/validate.js';
import type { TagResourceRequest, TagResourceResponse } from '../model/lifecycle.js';
import type { SecretIndex, Tag as StoredTag } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { commitMessage } from './versions.js';

function sameTags(a: readonly StoredTag[] | undefined, b: readonly StoredTag[]): boolean {
  return a !== undefined && a.length === b.length && a.every((t, i) => t.Key === b[i]!.Key && t.Value === b[i]!.Value);
}

/** Spec 3.12: add tags; a key that exists gets the new value and keeps its place. The response is empty. */
export const tagResource: Operation<TagResourceRequest, TagResourceResponse> = {
  name: 'TagResource',
  command: 'tag-resource',
  group: 'Tags',
  summary: 'Add tags to a secret, or change the values of existing keys.',
  mutates: true,
  example: 'secretstore tag-resource --secret-id MyTestDatabaseSecret --tags Key=team,Value=payments',
  params: [
    SECRET_ID,
    { member: 'Tags', type: 'tags', required: true, help: 'Tags: Key=k,Value=v ... or JSON.' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const wanted = checkTags(required('tags', input.Tags))!;
    const secret = await activeSecret(ctx, input.SecretId);
    const tags = (secret.tags ?? []).map((t) => ({ ...t }));
    for (const tag of wanted) {
      const existing = tags.find((t) => t.Key === tag.Key);
      if (existing) existing.Value = tag.Value;
      else tags.push(tag);
    }
    if (tags.length > MAX_TAGS) {
      throw new InvalidParameterException(`A secret can have at most ${MAX_TAGS} tags; this request would leave ${tags.length}.`);
    }
    // Re-tagging with the same values is a retry, not a change: no commit.
    if (sameTags(secret.tags, tags) || (secret.tags === undefined && tags.length === 0)) return readOnly({});
    const after: SecretIndex = { ...secret, tags, lastChangedDate: ctx.now.toISOString() };
    return {
      result: {},
      changes: [indexChange(after)],
      message: commitMessage('tag-resource', secret.name, `set ${wanted.length} tag(s)`, wanted.map((t) => `tag: ${t.Key}`)),
    };
  },
};
