/**
 * What `secretstore import` reads, turned into (name, value) pairs (pure: no I/O). A source is the
 * decrypted output of `sops -d` (YAML, JSON or dotenv), a dotenv file, or a JSON/YAML map; `pass` stores are
 * read by `pass.ts`. Errors name keys and lines, never values.
 *
 * Layout: each top-level key becomes one secret (`prefix` + key); a string value is taken as it is, any
 * other value as its JSON text (as `exec` maps JSON fields). With `name`, the whole map becomes one
 * secret holding a JSON object, the usual AWS shape of a key/value secret.
 */
import { parse as parseYaml } from 'yaml';
import { InvalidParameterException } from '../errors.js';
import { fieldText } from '../core/env-mapping.js';

export const MAP_FORMATS = ['yaml', 'json', 'dotenv'] as const;
export type MapFormat = (typeof MAP_FORMATS)[number];

export interface ImportEntry {
  readonly name: string;
  readonly value: { readonly SecretString: string } | { readonly SecretBinary: Uint8Array };
}

/**
 * What `set` stores from stdin and `import pass` from an entry: UTF-8 text without its one trailing
 * newline (so `get`, which adds one, prints it back as it came), else, or with `binary`, the bytes as they are.
 */
export function valueOfBytes(bytes: Uint8Array, binary: boolean): { SecretString: string } | { SecretBinary: Uint8Array } {
  if (!binary) {
    try {
      return { SecretString: new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/\r?\n$/, '') };
    } catch {
      // not UTF-8 text: kept byte for byte
    }
  }
  return { SecretBinary: new Uint8Array(bytes) };
}

/** The format a file's name says, else what its text looks like: `{` is JSON, KEY=value lines dotenv, else YAML. */
export function detectFormat(text: string, fileName?: string): MapFormat {
  const ext = /\.([a-z]+)$/i.exec(fileName ?? '')?.[1]?.toLowerCase();
  if (ext === 'json') return 'json';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  if (ext === 'env' || ext === 'dotenv' || /(^|\/)\.env(\.[^/]*)?$/.test(fileName ?? '')) return 'dotenv';
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (text.trimStart().startsWith('{')) return 'json';
  if (lines.length > 0 && lines.every((l) => /^(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*=/.test(l))) return 'dotenv';
  return 'yaml';
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/**
 * `KEY=value` lines as sops writes them and as most dotenv files hold them: `export ` allowed, `#`
 * comments and blank lines skipped, values bare (trailing ` # comment` dropped), 'single-quoted' (as is)
 * or "double-quoted" (with \n, \t, \", \\ escapes, and newlines inside).
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/.exec(line);
    if (!m) throw new InvalidParameterException(`dotenv line ${i + 1} is not KEY=value`);
    const key = m[1]!;
    let rest = m[2]!.trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // A quoted value may run over several lines: read up to the closing quote.
      let body = rest.slice(1);
      const start = i;
      let end = closingQuote(body, quote);
      while (end < 0 && i + 1 < lines.length) {
        body += '\n' + lines[++i]!;
        end = closingQuote(body, quote);
      }
      if (end < 0) throw new InvalidParameterException(`dotenv line ${start + 1}: the value of ${key} has no closing ${quote}`);
      const after = body.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) throw new InvalidParameterException(`dotenv line ${i + 1}: text after the quoted value of ${key}`);
      rest = body.slice(0, end);
      out[key] = quote === "'" ? rest : rest.replace(/\\(.)/gs, (all, c: string) => ESCAPES[c] ?? all);
    } else {
      out[key] = rest.replace(/\s+#.*$/, '').trimEnd();
    }
  }
  return out;
}

function closingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === '\\') i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

/** The text as a map of its top-level keys, refusing a file sops has not decrypted. */
export function parseMap(text: string, format: MapFormat): Record<string, unknown> {
  let parsed: unknown;
  if (format === 'dotenv') parsed = parseDotenv(text);
  else {
    try {
      parsed = format === 'json' ? JSON.parse(text) : parseYaml(text);
    } catch {
      throw new InvalidParameterException(`the input is not valid ${format === 'json' ? 'JSON' : 'YAML'}`);
    }
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidParameterException(`the input must be a map of names to values (a ${format} object)`);
  const map = parsed as Record<string, unknown>;
  // sops keeps its metadata in a `sops` key (YAML, JSON) or `sops_*` lines (dotenv): still encrypted.
  if ('sops' in map || Object.keys(map).some((k) => k.startsWith('sops_'))) {
    throw new InvalidParameterException('the input still holds sops metadata, so it is encrypted: import the output of `sops -d FILE`');
  }
  return map;
}

/** One secret per key (`prefix` + key), or the whole map as one JSON secret called `name`. */
export function entriesOf(map: Record<string, unknown>, opts: { prefix?: string; name?: string } = {}): ImportEntry[] {
  if (opts.name !== undefined) return [{ name: opts.name, value: { SecretString: JSON.stringify(map) } }];
  return Object.entries(map).map(([key, value]) => ({ name: `${opts.prefix ?? ''}${key}`, value: { SecretString: fieldText(value) } }));
}
