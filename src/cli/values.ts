/**
 * Reading parameter values the way the AWS CLI does: `file://` (text), `fileb://` (bytes), and, for
 * secretstore, `-` for stdin. A value typed literally on the command line may end up in shell history,
 * so it gets a one-line warning.
 */
import { readFileSync } from 'node:fs';
import { InvalidParameterException } from '../errors.js';
import type { Param } from '../ops/context.js';
import type { Tag } from '../model/api.js';

export interface ReadContext {
  readonly warn: (line: string) => void;
  readonly stdin: () => Buffer;
}

function readSource(raw: string, param: Param, ctx: ReadContext): { bytes: Buffer; literal: boolean } | undefined {
  if (raw === '-') return { bytes: ctx.stdin(), literal: false };
  for (const scheme of ['file://', 'fileb://']) {
    if (raw.startsWith(scheme)) {
      const path = raw.slice(scheme.length);
      try {
        return { bytes: readFileSync(path), literal: false };
      } catch (err) {
        throw new InvalidParameterException(`Unable to read ${param.member} from ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
  }
  return undefined;
}

export function readParam(raw: unknown, param: Param, ctx: ReadContext): unknown {
  switch (param.type) {
    case 'boolean':
      return raw;
    case 'integer': {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new InvalidParameterException(`${param.member} must be a whole number`);
      return n;
    }
    case 'strings':
      return (raw as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
    case 'tags':
      return parseTags(raw as string[]);
    case 'filters':
      return parseFilters(raw as string[]);
    case 'structure':
      return parseStructure(raw as string, param);
    case 'string': {
      const text = raw as string;
      const source = param.sensitive ? readSource(text, param, ctx) : text.startsWith('file://') ? readSource(text, param, ctx) : undefined;
      if (source) return source.bytes.toString('utf8');
      if (param.sensitive) warnLiteral(param, ctx);
      return text;
    }
    case 'blob': {
      const text = raw as string;
      if (text === '-' || text.startsWith('fileb://')) return new Uint8Array(readSource(text, param, ctx)!.bytes);
      // As AWS CLI v2 (cli_binary_format base64): literal text and file:// contents are base64.
      const base64 = text.startsWith('file://') ? readSource(text, param, ctx)!.bytes.toString('utf8').trim() : text;
      if (!text.startsWith('file://')) warnLiteral(param, ctx);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
        throw new InvalidParameterException(`${param.member} must be base64 text, fileb://path or - for stdin`);
      }
      return new Uint8Array(Buffer.from(base64, 'base64'));
    }
  }
}

function warnLiteral(param: Param, ctx: ReadContext): void {
  ctx.warn(`warning: a ${param.member} given on the command line can end up in your shell history; prefer file://, fileb:// or - (stdin)`);
}

/** `Key=k,Value=v Key=k2,Value=v2` (the CLI shorthand) or a JSON list of {Key, Value}. */
export function parseTags(raw: readonly string[]): Tag[] {
  const joined = raw.join(' ').trim();
  if (joined.startsWith('[')) {
    try {
      const parsed = JSON.parse(joined) as unknown;
      if (Array.isArray(parsed) && parsed.every((t) => typeof t === 'object' && t !== null)) return parsed as Tag[];
    } catch {
      // fall through to the error below
    }
    throw new InvalidParameterException('Tags must be a JSON list of {"Key": ..., "Value": ...} objects');
  }
  return raw.map((item) => {
    const tag: Tag = {};
    for (const pair of item.split(',')) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq);
      if (eq < 0 || (key !== 'Key' && key !== 'Value')) {
        throw new InvalidParameterException(`Tags shorthand must look like Key=name,Value=text (got a part without Key= or Value=)`);
      }
      tag[key] = pair.slice(eq + 1);
    }
    return tag;
  });
}

/**
 * The AWS CLI shorthand `A=1,B=x,y`: a comma that is not followed by `Name=` continues the previous
 * value (so `Values=a,b` is a list and a cron expression keeps its commas).
 */
function shorthandPairs(text: string): [string, string[]][] {
  const pairs: [string, string[]][] = [];
  for (const part of text.split(',')) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(part);
    if (m) pairs.push([m[1]!, [m[2]!]]);
    else if (pairs.length > 0) pairs[pairs.length - 1]![1].push(part);
    else throw new InvalidParameterException(`Expected Name=value in ${JSON.stringify(text.slice(0, 40))}`);
  }
  return pairs;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidParameterException(`${what} is not valid JSON`);
  }
}

/** `Key=name,Values=a,b Key=tag-key,Values=c` (shorthand) or a JSON list of {Key, Values}. */
export function parseFilters(raw: readonly string[]): unknown {
  const joined = raw.join(' ').trim();
  if (joined.startsWith('[')) return parseJson(joined, 'Filters');
  return raw.map((item) => {
    const filter: Record<string, unknown> = {};
    for (const [key, values] of shorthandPairs(item)) filter[key] = key === 'Values' ? values : values.join(',');
    return filter;
  });
}

/** `AutomaticallyAfterDays=30,Duration=2h` (shorthand; whole numbers become numbers) or a JSON object. */
export function parseStructure(text: string, param: Param): unknown {
  if (text.trim().startsWith('{')) return parseJson(text, param.member);
  const out: Record<string, unknown> = {};
  for (const [key, values] of shorthandPairs(text)) {
    const value = values.join(',');
    out[key] = /^[0-9]+$/.test(value) ? Number(value) : value;
  }
  return out;
}
