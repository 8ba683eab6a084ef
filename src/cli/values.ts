/**
 * Reading parameter values the way the AWS CLI does: `file://` (text), `fileb://` (bytes), and, for
 * secretstore, `-` for stdin. A value typed literally on the command line may end up in shell history,
 * so it gets a one-line warning.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidParameterException } from '../errors.js';
import type { Param } from '../ops/context.js';
import type { Tag } from '../model/api.js';
import { invalidUtf8Offset } from '../core/utf8.js';
import { ParamValidationError } from './output.js';

export interface ReadContext {
  readonly warn: (line: string) => void;
  readonly stdin: () => Buffer;
  /** The process's arguments as raw bytes, where the system shows them (Linux /proc); see `checkArgvText`. */
  readonly rawArgv?: () => Buffer[] | undefined;
  /** What a relative file:// path is relative to (default: this process's working directory). */
  readonly cwd?: string;
}

/** `SecretString` -> `secret-string`: a request member's CLI flag, as the AWS CLI spells it. */
export function flagOf(member: string): string {
  return member.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function invalidText(param: Param, offset: number): ParamValidationError {
  return new ParamValidationError(
    `--${flagOf(param.member)} is not valid UTF-8 text (invalid byte at offset ${offset}); ` +
      'store bytes as they are with --secret-binary fileb://PATH (or -)',
  );
}

/** Bytes for a text parameter, as text: refused when they are not UTF-8, rather than changed (issue 13.1). */
function utf8Text(bytes: Buffer, param: Param): string {
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) throw invalidText(param, bad);
  return bytes.toString('utf8');
}

/**
 * Node decodes argv with U+FFFD in place of bytes that are not UTF-8. A typed U+FFFD is fine, so only
 * when the raw argument (`--flag VALUE` or `--flag=VALUE`) shows invalid bytes is the value refused.
 * Where the raw arguments cannot be read (not Linux), such a value is taken as Node gives it (README).
 */
function checkArgvText(text: string, param: Param, ctx: ReadContext): void {
  if (!text.includes('\uFFFD')) return;
  for (const arg of ctx.rawArgv?.() ?? []) {
    const bad = invalidUtf8Offset(arg);
    if (bad < 0) continue;
    const decoded = arg.toString('utf8');
    const prefix = `--${flagOf(param.member)}=`;
    if (decoded === text) throw invalidText(param, bad);
    if (decoded === prefix + text) throw invalidText(param, bad - prefix.length);
  }
}

function readSource(raw: string, param: Param, ctx: ReadContext): { bytes: Buffer; literal: boolean } | undefined {
  if (raw === '-') return { bytes: ctx.stdin(), literal: false };
  for (const scheme of ['file://', 'fileb://']) {
    if (raw.startsWith(scheme)) {
      const path = raw.slice(scheme.length);
      try {
        return { bytes: readFileSync(resolve(ctx.cwd ?? '.', path)), literal: false };
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
    case 'structures':
      return parseStructures(raw as string[], param);
    case 'string': {
      const text = raw as string;
      const source = param.sensitive ? readSource(text, param, ctx) : text.startsWith('file://') ? readSource(text, param, ctx) : undefined;
      if (source) return utf8Text(source.bytes, param);
      checkArgvText(text, param, ctx);
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

/** `Region=us-west-2,KmsKeyId=k Region=eu-west-1` (shorthand, one structure a word) or a JSON list. */
export function parseStructures(raw: readonly string[], param: Param): unknown {
  const joined = raw.join(' ').trim();
  if (joined.startsWith('[')) return parseJson(joined, param.member);
  return raw.map((item) => Object.fromEntries(shorthandPairs(item).map(([key, values]) => [key, values.join(',')])));
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
