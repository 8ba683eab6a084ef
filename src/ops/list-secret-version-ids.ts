import { findSecret, SECRET_ID } from './common.js';
import { versionsByAge } from '../core/codec.js';
import { labelsOf } from '../core/labels.js';
import { paginate } from '../core/paging.js';
import { checkMaxResults, checkSecretId } from '../core/validate.js';
import type { ListSecretVersionIdsRequest, ListSecretVersionIdsResponse, SecretVersionsListEntry } from '../model/api.js';
import { readOnly, type Operation } from './context.js';

/**
 * Spec 3.7: labelled versions, newest first (VersionId breaks ties); deprecated ones only with
 * IncludeDeprecated, and then without a VersionStages key. Allowed on a secret scheduled for deletion.
 * Rotation placeholders are left out (spec 3.7); DescribeSecret shows them in VersionIdsToStages.
 */
export const listSecretVersionIds: Operation<ListSecretVersionIdsRequest, ListSecretVersionIdsResponse> = {
  name: 'ListSecretVersionIds',
  command: 'list-secret-version-ids',
  group: 'Labels and versions',
  summary: 'List the versions of a secret with their labels (no values).',
  mutates: false,
  pageMembers: ['Versions'],
  example: 'secretstore list-secret-version-ids --secret-id MyTestDatabaseSecret --include-deprecated',
  params: [
    SECRET_ID,
    { member: 'MaxResults', type: 'integer', help: 'At most this many versions per page (1-100).' },
    { member: 'NextToken', type: 'string', help: 'The NextToken of the previous page.' },
    { member: 'IncludeDeprecated', type: 'boolean', help: 'Also list versions without labels.' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    checkMaxResults(input.MaxResults, 100);
    const secret = await findSecret(ctx, input.SecretId);
    const entries: SecretVersionsListEntry[] = [];
    // `versions` only: a rotation placeholder (AWSPENDING reserved, no value yet) is not a version (spec 3.7).
    for (const id of versionsByAge(secret).reverse()) {
      const stages = labelsOf(secret.labels, id);
      if (stages.length === 0 && !input.IncludeDeprecated) continue;
      entries.push({
        VersionId: id,
        ...(stages.length > 0 ? { VersionStages: stages } : {}),
        CreatedDate: new Date(secret.versions[id]!),
        KmsKeyIds: ['DefaultEncryptionKey'],
      });
    }
    const page = paginate(entries, `versions:${secret.arn}:${input.IncludeDeprecated === true}`, input.MaxResults ?? 100, input.NextToken);
    return readOnly({
      Versions: page.items,
      ...(page.nextToken === undefined ? {} : { NextToken: page.nextToken }),
      ARN: secret.arn,
      Name: secret.name,
    });
  },
};
