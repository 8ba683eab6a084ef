/**
 * Opaque, validated pagination tokens. A token names the listing it belongs to (`scope`) and the offset
 * of the next page; anything else, or a token from another listing, is InvalidNextTokenException.
 */
import { InvalidNextTokenException } from '../errors.js';
import { checkLength } from './validate.js';

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

function encode(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64url');
}

function decode(token: string, scope: string, total: number): number {
  checkLength('nextToken', token, 1, 4096);
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    if (parsed.s === scope && Number.isInteger(parsed.o) && (parsed.o as number) > 0 && (parsed.o as number) <= total) {
      return parsed.o as number;
    }
  } catch {
    // fall through: not ours
  }
  throw new InvalidNextTokenException('The NextToken value is invalid.');
}

export function paginate<T>(all: readonly T[], scope: string, maxResults: number, nextToken?: string): Page<T> {
  const start = nextToken === undefined ? 0 : decode(nextToken, scope, all.length);
  const end = start + maxResults;
  return { items: all.slice(start, end), ...(end < all.length ? { nextToken: encode(scope, end) } : {}) };
}
