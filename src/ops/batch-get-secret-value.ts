import { InvalidNextTokenException, InvalidParameterException, SecretsManagerError } from '../errors.js';
import { activeSecret, secretValueOf, versionWithStage } from './common.js';
import { compileFilters, listingScope, selectSecrets } from '../core/filters.js';
import { AWSCURRENT } from '../core/labels.js';
import { paginate } from '../core/paging.js';
import { checkCount, checkLength, checkMaxResults } from '../core/validate.js';
import type { APIErrorType, BatchGetSecretValueRequest, BatchGetSecretValueResponse, SecretValueEntry } from '../model/listing.js';
import { readOnly, type OpContext, type Operation } from './context.js';

export const BatchMessages = {
  exclusive: "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
  maxResultsWithoutFilters: "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.",
} as const;

/** One secret's AWSCURRENT value, as GetSecretValue reads it; a failure becomes an Errors entry. */
async function readCurrent(ctx: OpContext, secretId: string): Promise<SecretValueEntry | APIErrorType> {
  try {
    const secret = await activeSecret(ctx, secretId);
    return await secretValueOf(ctx, secret, versionWithStage(secret, AWSCURRENT));
  } catch (err) {
    // Service errors (not found, scheduled for deletion, no value, DecryptionFailure, a damaged index)
    // belong to that one secret; anything else is a fault of the whole call.
    if (!(err instanceof SecretsManagerError)) throw err;
    return { SecretId: secretId, ErrorCode: err.name, Message: err.message.split('\n')[0]! };
  }
}

/**
 * Spec 3.4: the AWSCURRENT value of each secret named in SecretIdList (1-20), or of each secret matching
 * Filters (as ListSecrets, secrets scheduled for deletion excluded, in ListSecrets' default order, pages
 * of MaxResults, default 20). Exactly one of the two; MaxResults only with Filters. A secret that cannot
 * be read is reported in Errors (`{SecretId, ErrorCode, Message}`, SecretId being the id as given, or the
 * name with Filters) and does not fail the call. Reads are not recorded (no LastAccessedDate).
 */
export const batchGetSecretValue: Operation<BatchGetSecretValueRequest, BatchGetSecretValueResponse> = {
  name: 'BatchGetSecretValue',
  command: 'batch-get-secret-value',
  group: 'Secrets and values',
  summary: 'Decrypt and print the AWSCURRENT value of several secrets, named or matching filters.',
  mutates: false,
  pageMembers: ['SecretValues', 'Errors'],
  example: 'secretstore batch-get-secret-value --secret-id-list prod/db prod/api',
  params: [
    { member: 'SecretIdList', type: 'strings', help: 'Names, ARNs or partial ARNs of the secrets (1-20).' },
    { member: 'Filters', type: 'filters', help: 'As list-secrets --filters: read every secret that matches.' },
    { member: 'MaxResults', type: 'integer', help: 'With --filters: at most this many secrets per page (1-20, default 20).' },
    { member: 'NextToken', type: 'string', help: 'With --filters: the NextToken of the previous page.' },
  ],
  async run(ctx, input) {
    const ids = input.SecretIdList;
    checkCount('secretIdList', ids, 1, 20);
    ids?.forEach((id, i) => checkLength(`secretIdList.${i + 1}.member`, id, 1, 2048));
    checkMaxResults(input.MaxResults, 20);
    const matches = compileFilters(input.Filters);
    if ((ids === undefined) === (input.Filters === undefined)) throw new InvalidParameterException(BatchMessages.exclusive);
    if (input.MaxResults !== undefined && input.Filters === undefined) {
      throw new InvalidParameterException(BatchMessages.maxResultsWithoutFilters);
    }

    let secretIds: readonly string[];
    let nextToken: string | undefined;
    if (ids !== undefined) {
      // An id list is never paged, so no token belongs to it.
      if (input.NextToken !== undefined) throw new InvalidNextTokenException('The NextToken value is invalid.');
      secretIds = ids;
    } else {
      const selected = selectSecrets(await ctx.store.listSecretSummaries(), { matches }, ctx.now);
      const page = paginate(selected, listingScope('batch-get', input.Filters, {}), input.MaxResults ?? 20, input.NextToken);
      secretIds = page.items.map((s) => s.name);
      nextToken = page.nextToken;
    }

    const results = await Promise.all(secretIds.map((id) => readCurrent(ctx, id)));
    return readOnly({
      SecretValues: results.filter((r): r is SecretValueEntry => 'ARN' in r),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      Errors: results.filter((r): r is APIErrorType => 'ErrorCode' in r),
    });
  },
};
