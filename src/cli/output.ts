/** Printing results and errors as the AWS CLI does: `--output json|text|yaml|table` and `--query`. */
import { loadYaml } from '../core/yaml-value.js';
import { InvalidParameterException, SecretsManagerError } from '../errors.js';

export const OUTPUT_FORMATS = ['json', 'text', 'yaml', 'table'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * AWS CLI v2 prints timestamps with Python's `isoformat()`: microseconds and an offset, and no fraction at
 * all when it is zero.
 */
export function isoTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => (ms === '000' ? '+00:00' : `.${ms}000+00:00`));
}

/** The response as plain JSON data, as the AWS CLI sees it: dates as ISO text, bytes as base64. */
export function toPlain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return isoTimestamp(raw);
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
      return v;
    }) ?? 'null',
  ) as unknown;
}

export function toJson(value: unknown): string {
  return JSON.stringify(toPlain(value), null, 4);
}

export async function render(value: unknown, format: OutputFormat, query: string | undefined, title: string): Promise<string> {
  let data = toPlain(value);
  if (query !== undefined) {
    // Loaded only for --query: it is a quarter of the CLI's own code.
    const jmespath: { search?: typeof import('jmespath').search; default?: { search: typeof import('jmespath').search } } = await import('jmespath');
    // jmespath is CommonJS: the bundle exposes it as the default export, tsc's output as named exports.
    const search = jmespath.search ?? jmespath.default!.search;
    try {
      data = search(data as never, query) as unknown;
    } catch (err) {
      throw new InvalidParameterException(`Bad value for --query ${query}: ${(err as Error).message}`);
    }
  }
  switch (format) {
    case 'json':
      return JSON.stringify(data, null, 4) + '\n';
    case 'yaml':
      return (await loadYaml()).stringify(data, { lineWidth: 0 });
    case 'text':
      return formatText(data);
    case 'table':
      return formatTable(data, title);
  }
}

// ---- text: the AWS CLI's algorithm (awscli/text.py), so `cut` and `awk` scripts carry over ----

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isScalar = (v: Json) => !isObject(v) && !Array.isArray(v);

function scalarText(v: Json): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

function formatText(data: unknown): string {
  const out: string[] = [];
  textItem(data as Json, out);
  return out.join('');
}

function textItem(item: Json, out: string[], identifier?: string, scalarKeys?: string[]): void {
  if (isObject(item)) return textDict(item, out, identifier, scalarKeys);
  if (Array.isArray(item)) return textList(item, out, identifier);
  out.push(scalarText(item) + '\n');
}

function textList(items: Json[], out: string[], identifier?: string): void {
  if (items.length === 0) return;
  if (items.some(isObject)) {
    const keys = [...new Set(items.filter(isObject).flatMap((d) => Object.keys(d).filter((k) => isScalar(d[k]!))))].sort();
    for (const el of items) textItem(el, out, identifier, keys);
    return;
  }
  const scalars = items.filter(isScalar);
  if (scalars.length > 0) {
    if (identifier !== undefined) for (const s of scalars) out.push(`${identifier.toUpperCase()}\t${scalarText(s)}\n`);
    else out.push(scalars.map(scalarText).join('\t') + '\n');
  }
  for (const nested of items.filter((v) => !isScalar(v))) textItem(nested, out, identifier);
}

function textDict(item: { [key: string]: Json }, out: string[], identifier?: string, scalarKeys?: string[]): void {
  const keys = scalarKeys ?? Object.keys(item).filter((k) => isScalar(item[k]!)).sort();
  const scalars = keys.map((k) => (item[k] === undefined ? '' : scalarText(item[k]!)));
  if (scalars.length > 0) out.push([...(identifier !== undefined ? [identifier.toUpperCase()] : []), ...scalars].join('\t') + '\n');
  for (const key of Object.keys(item).filter((k) => !keys.includes(k)).sort()) textItem(item[key]!, out, key);
}

// ---- table: boxes titled like the AWS CLI's, key/value rows for objects, columns for lists ----

function formatTable(data: unknown, title: string): string {
  const lines: string[] = [];
  tableSection(title, data as Json, lines);
  return lines.join('\n') + '\n';
}

function box(title: string, rows: string[][], lines: string[]): void {
  const columns = Math.max(1, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(1, ...rows.map((r) => (r[i] ?? '').length)));
  const inner = Math.max(title.length, widths.reduce((a, w) => a + w + 3, -1));
  if (columns > 0 && rows.length > 0) widths[columns - 1]! += inner - widths.reduce((a, w) => a + w + 3, -1);
  const rule = (c: string) => c + widths.map((w) => '-'.repeat(w + 2)).join(c) + c;
  const pad = Math.floor((inner - title.length) / 2);
  lines.push('-'.repeat(inner + 4), `| ${' '.repeat(pad)}${title}${' '.repeat(inner - title.length - pad)} |`);
  if (rows.length > 0) lines.push(rule('+'));
  for (const row of rows) lines.push('| ' + widths.map((w, i) => (row[i] ?? '').padEnd(w)).join(' | ') + ' |');
  lines.push(rows.length > 0 ? rule('+') : '-'.repeat(inner + 4));
}

function tableSection(title: string, data: Json, lines: string[]): void {
  if (isObject(data)) {
    const scalars = Object.keys(data).filter((k) => isScalar(data[k]!));
    box(title, scalars.map((k) => [k, scalarText(data[k]!)]), lines);
    for (const key of Object.keys(data).filter((k) => !scalars.includes(k))) tableSection(key, data[key]!, lines);
  } else if (Array.isArray(data)) {
    if (data.some(isObject)) {
      const dicts = data.filter(isObject);
      const keys = [...new Set(dicts.flatMap((d) => Object.keys(d).filter((k) => isScalar(d[k]!))))];
      box(title, [keys, ...dicts.map((d) => keys.map((k) => (d[k] === undefined ? '' : scalarText(d[k]!))))], lines);
      dicts.forEach((d) => {
        for (const key of Object.keys(d).filter((k) => !isScalar(d[k]!))) tableSection(key, d[key]!, lines);
      });
    } else {
      box(title, data.map((v) => [isScalar(v) ? scalarText(v) : JSON.stringify(v)]), lines);
    }
  } else {
    box(title, [[scalarText(data)]], lines);
  }
}

/** Exit codes of the AWS CLI: 254 for a service error, 252 for a usage error. */
export const EXIT_SERVICE_ERROR = 254;
export const EXIT_USAGE = 252;

/** A mistake in how the command was called (a missing required flag): exit code 252. */
export class UsageError extends Error {}

/**
 * A parameter whose value cannot be taken as given (a wrong type in --cli-input-json, bytes that are not
 * UTF-8 in a text parameter): the AWS CLI's "Parameter validation failed", exit 252, one line, no value.
 */
export class ParamValidationError extends Error {}

export function errorLine(err: unknown, operation: string): string {
  const name = err instanceof SecretsManagerError ? err.name : 'InternalServiceError';
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `\nAn error occurred (${name}) when calling the ${operation} operation: ${message}`;
}
