import { describeFields } from './common.js';
import { checkEnum, compileFilters, listingScope, selectSecrets, SORT_BY, SORT_ORDER } from '../core/filters.js';
import { paginate } from '../core/paging.js';
import { checkMaxResults } from '../core/validate.js';
import type { ListSecretsRequest, ListSecretsResponse } from '../model/listing.js';
import { readOnly, type Operation } from './context.js';

/**
 * Spec 3.6. Reads index files only (through the store's summary listing), never a sealed file. Filters,
 * word splitting and negation: src/core/filters.ts. Order: SortBy (default created-date), then creation
 * date, then name; SortOrder default `asc` (spec Decisions), `desc` the exact reverse. MaxResults default
 * 100. NextToken is opaque and bound to the query (filters, IncludePlannedDeletion, SortBy, SortOrder);
 * it holds an offset, so a secret created or deleted between two pages may shift the pages that follow.
 * Entries carry DescribeSecret's fields under the same presence rules, the label map named
 * `SecretVersionsToStages`; LastAccessedDate is never present (reads are not recorded).
 */
export const listSecrets: Operation<ListSecretsRequest, ListSecretsResponse> = {
  name: 'ListSecrets',
  command: 'list-secrets',
  group: 'Discovery',
  summary: 'List the secrets of the store with their metadata and labels (no values).',
  mutates: false,
  pageMembers: ['SecretList'],
  example: "secretstore list-secrets --filters Key=name,Values=prod/ Key=tag-key,Values=team --sort-by name",
  params: [
    { member: 'IncludePlannedDeletion', type: 'boolean', help: 'Also list secrets scheduled for deletion.' },
    { member: 'MaxResults', type: 'integer', help: 'At most this many secrets per page (1-100, default 100).' },
    { member: 'NextToken', type: 'string', help: 'The NextToken of the previous page.' },
    {
      member: 'Filters',
      type: 'filters',
      help:
        'Keys name, description, tag-key, tag-value, primary-region, owning-service, all; values match prefixes ' +
        '(words for description and all), ! negates: Key=name,Values=prod/,dev/ Key=tag-key,Values=team',
    },
    { member: 'SortOrder', type: 'string', help: 'asc (default) or desc.' },
    { member: 'SortBy', type: 'string', help: 'created-date (default), last-accessed-date, last-changed-date or name.' },
  ],
  async run(ctx, input) {
    checkMaxResults(input.MaxResults, 100);
    const sortBy = checkEnum('sortBy', input.SortBy, SORT_BY);
    const sortOrder = checkEnum('sortOrder', input.SortOrder, SORT_ORDER);
    const matches = compileFilters(input.Filters);
    const selection = { includePlannedDeletion: input.IncludePlannedDeletion === true, sortBy, sortOrder };
    const selected = selectSecrets(await ctx.store.listSecretSummaries(), { ...selection, matches }, ctx.now);
    const page = paginate(selected, listingScope('secrets', input.Filters, selection), input.MaxResults ?? 100, input.NextToken);
    return readOnly({
      SecretList: page.items.map((secret) => describeFields(secret, 'SecretVersionsToStages')),
      ...(page.nextToken === undefined ? {} : { NextToken: page.nextToken }),
    });
  },
};
