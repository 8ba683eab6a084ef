/**
 * The pure rules of listings (spec 3.6): validating and compiling ListSecrets filters, selecting and
 * ordering secrets. Shared by ListSecrets and BatchGetSecretValue; works on index summaries only, so a
 * listing never opens a sealed file.
 *
 * Matching, per filter key:
 * - `name`: the value is a case-sensitive prefix of the whole name (no word splitting);
 * - `tag-key`, `tag-value`: a case-sensitive prefix of some tag key / tag value;
 * - `description`: word-based and case-insensitive: every word of the value is a prefix of some word of
 *   the description;
 * - `all`: the same word-based match against the name, the description, each tag key or each tag value;
 *   the words of one value must all be found in the same attribute (as moto, whose AWS-verified tests
 *   are the source of these rules);
 * - `primary-region`: a case-sensitive prefix of the PrimaryRegion, which a secret has once replica
 *   Regions were asked for (spec 3.16; DescribeSecret reports it then);
 * - `owning-service`: managed secrets do not exist offline, so no secret has it and a plain value
 *   matches nothing.
 *
 * Words (`splitWords`): text is cut at whitespace; a chunk that uses exactly one kind of separator among
 * `/ - _ + = . @` is cut at it, while a chunk that mixes two kinds stays one word (not cut further);
 * every other piece is cut before an upper-case letter that follows a lower-case one or precedes one
 * (`MyTest` -> My, Test; `COMPANYthings` -> COMPAN, Ythings; `COMPANY` stays whole). A value with no
 * words (`+`) matches nothing.
 *
 * A value starting with `!` matches exactly the secrets the rest of the value does not match. So a secret
 * that lacks the attribute (no description, no tags, no replica Regions for `primary-region`, and every
 * secret for `owning-service`) matches a negated value: `x` and `!x` always split the store in two. (AWS is
 * unverified here; moto drops such secrets instead.) Values of one filter combine with OR, filters with
 * AND, even when they share a key.
 */
import { createHash } from 'node:crypto';
import { InvalidParameterException, ValidationException } from '../errors.js';
import type { Filter, FilterNameStringType, SortByType, SortOrderType } from '../model/listing.js';
import type { SecretIndex } from '../model/store.js';
import { regionOfArn } from './arn.js';
import { checkCount, checkLength } from './validate.js';

/** What a listing knows of a secret: its index without the per-version bookkeeping. */
export type SecretSummary = Omit<SecretIndex, 'versions' | 'placeholders'>;

export const FILTER_KEYS: readonly FilterNameStringType[] = [
  'description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all',
];
export const SORT_BY: readonly SortByType[] = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'];
export const SORT_ORDER: readonly SortOrderType[] = ['asc', 'desc'];

const VALUE_PATTERN = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const VALUE_PATTERN_TEXT = '^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$';
const SEPARATORS = ['/', '-', '_', '+', '=', '.', '@'] as const;

function invalid(member: string, value: string, rule: string): never {
  throw new ValidationException(`1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`);
}

/** A model enum member (SortBy, SortOrder, a filter Key): ValidationException naming the allowed set. */
export function checkEnum<T extends string>(member: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) invalid(member, String(value), `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  return value as T;
}

const isUpper = (c: string | undefined) => c !== undefined && c >= 'A' && c <= 'Z';
const isLower = (c: string | undefined) => c !== undefined && c >= 'a' && c <= 'z';

function splitCase(piece: string): string[] {
  const words: string[] = [];
  let start = 0;
  for (let i = 1; i < piece.length; i++) {
    if (isUpper(piece[i]) && (isLower(piece[i - 1]) || isLower(piece[i + 1]))) {
      words.push(piece.slice(start, i));
      start = i;
    }
  }
  words.push(piece.slice(start));
  return words;
}

/** The words of an attribute or of a filter value (see the module comment). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const chunk of text.split(/\s+/)) {
    if (chunk === '') continue;
    const kinds = SEPARATORS.filter((s) => chunk.includes(s));
    if (kinds.length > 1) {
      words.push(chunk);
      continue;
    }
    for (const piece of kinds.length === 1 ? chunk.split(kinds[0]!) : [chunk]) {
      if (piece !== '') words.push(...splitCase(piece));
    }
  }
  return words;
}

/** Every word of the value is a case-insensitive prefix of some word of the attribute. */
function wordsMatch(valueWords: readonly string[], attribute: string | undefined): boolean {
  if (attribute === undefined || valueWords.length === 0) return false;
  const words = splitWords(attribute).map((w) => w.toLowerCase());
  return valueWords.every((v) => words.some((w) => w.startsWith(v)));
}

type Predicate = (secret: SecretSummary) => boolean;

function positive(key: FilterNameStringType, value: string): Predicate {
  switch (key) {
    case 'name':
      return (s) => s.name.startsWith(value);
    case 'tag-key':
      return (s) => (s.tags ?? []).some((t) => t.Key.startsWith(value));
    case 'tag-value':
      return (s) => (s.tags ?? []).some((t) => t.Value.startsWith(value));
    case 'description': {
      const words = splitWords(value).map((w) => w.toLowerCase());
      return (s) => wordsMatch(words, s.description);
    }
    case 'all': {
      const words = splitWords(value).map((w) => w.toLowerCase());
      return (s) =>
        wordsMatch(words, s.name) ||
        wordsMatch(words, s.description) ||
        (s.tags ?? []).some((t) => wordsMatch(words, t.Key) || wordsMatch(words, t.Value));
    }
    case 'primary-region':
      return (s) => (s.replicaRegions?.length ?? 0) > 0 && regionOfArn(s.arn).startsWith(value);
    case 'owning-service':
      return () => false;
  }
}

function valuePredicate(key: FilterNameStringType, value: string): Predicate {
  if (!value.startsWith('!')) return positive(key, value);
  const matches = positive(key, value.slice(1));
  return (s) => !matches(s);
}

/**
 * Validate filters as the service does (model constraints first: ValidationException; then a missing
 * Key or missing Values: InvalidParameterException with moto's texts) and compile them into one test.
 */
export function compileFilters(filters: readonly Filter[] | undefined): (secret: SecretSummary) => boolean {
  if (filters === undefined) return () => true;
  // Shapes are checked too: the CLI's JSON and (later) the HTTP server hand over whatever they were sent.
  if (!Array.isArray(filters as unknown)) invalid('filters', String(filters), 'Member must be a list');
  checkCount('filters', filters, 0, 10);
  filters.forEach((filter, i) => {
    const at = `filters.${i + 1}.member`;
    if (typeof filter !== 'object' || filter === null) invalid(at, String(filter), 'Member must be a structure');
    checkEnum(`${at}.key`, filter.Key, FILTER_KEYS);
    const values: unknown = filter.Values;
    if (values === undefined) return;
    if (!Array.isArray(values)) invalid(`${at}.values`, String(values), 'Member must be a list');
    checkCount(`${at}.values`, values, 0, 10);
    values.forEach((value: unknown, j: number) => {
      const member = `${at}.values.${j + 1}.member`;
      if (typeof value !== 'string') invalid(member, String(value), 'Member must be a string');
      checkLength(member, value, 0, 512);
      if (!VALUE_PATTERN.test(value)) invalid(member, value, `Member must satisfy regular expression pattern: ${VALUE_PATTERN_TEXT}`);
    });
  });
  const compiled = filters.map((filter) => {
    if (filter.Key === undefined) throw new InvalidParameterException('Invalid filter key');
    if (filter.Values === undefined || filter.Values.length === 0) {
      throw new InvalidParameterException(`Invalid filter values for key: ${filter.Key}`);
    }
    const key = filter.Key;
    return filter.Values.map((v) => valuePredicate(key, v));
  });
  return (secret) => compiled.every((anyOf) => anyOf.some((test) => test(secret)));
}

export interface Selection {
  /** From compileFilters. */
  readonly matches: (secret: SecretSummary) => boolean;
  readonly includePlannedDeletion?: boolean;
  readonly sortBy?: SortByType;
  readonly sortOrder?: SortOrderType;
}

const compare = (a: string | undefined, b: string | undefined) => (a === b ? 0 : a === undefined ? -1 : b === undefined ? 1 : a < b ? -1 : 1);

function sortKey(sortBy: SortByType, s: SecretSummary): string | undefined {
  switch (sortBy) {
    case 'created-date':
      return s.createdDate;
    case 'last-changed-date':
      return s.lastChangedDate;
    case 'last-accessed-date':
      // Reads are not recorded (spec Decisions), so every secret ties and the tie-breaks decide.
      return undefined;
    case 'name':
      return s.name;
  }
}

/**
 * The secrets a listing shows, in order. Secrets scheduled for deletion only with includePlannedDeletion;
 * a secret whose purge time has passed never (it is gone, only its files wait for the next write).
 * Order: the sort key, then creation date, then name (names are unique, so the order is total); `desc`
 * is the exact reverse of `asc`. Timestamps are ISO-8601 UTC strings of one width, so they compare as
 * strings; names compare by UTF-16 code unit (case-sensitive, `Z` before `a`).
 */
export function selectSecrets<T extends SecretSummary>(all: readonly T[], selection: Selection, now: Date): T[] {
  const { matches } = selection;
  const nowIso = now.toISOString();
  const sortBy = selection.sortBy ?? 'created-date';
  const sign = selection.sortOrder === 'desc' ? -1 : 1;
  return all
    .filter((s) => (s.deletedDate === undefined || (selection.includePlannedDeletion === true && s.deletedDate > nowIso)) && matches(s))
    .sort(
      (a, b) =>
        sign * (compare(sortKey(sortBy, a), sortKey(sortBy, b)) || compare(a.createdDate, b.createdDate) || compare(a.name, b.name)),
    );
}

/**
 * The scope a NextToken is bound to (core/paging.ts): the kind of listing and everything that decides
 * its content and order (not the page size, which may change between pages). Hashed, so a token stays
 * short whatever the filters are; a token from another listing, or another query, is refused.
 */
export function listingScope(kind: string, filters: readonly Filter[] | undefined, selection: Omit<Selection, 'matches'>): string {
  const query = JSON.stringify([
    (filters ?? []).map((f) => [f.Key, f.Values]),
    selection.includePlannedDeletion === true,
    selection.sortBy ?? 'created-date',
    selection.sortOrder ?? 'asc',
  ]);
  return `${kind}:${createHash('sha256').update(query).digest('base64url').slice(0, 22)}`;
}
