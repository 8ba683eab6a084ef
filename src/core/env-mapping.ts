/**
 * Secret values to environment variables, for `secretstore exec` and `secretstore env` (pure: no I/O).
 *
 * - A SecretString that is a JSON object gives one variable per key; a key's string value is taken as it
 *   is, any other JSON value (number, boolean, null, array, object) as its compact JSON text.
 * - Any other SecretString gives one variable named after the secret.
 * - A SecretBinary is refused, unless the caller asks for it base64-encoded (one variable, as a string).
 * - Names: upper-cased, every character outside `[A-Z0-9_]` becomes `_`, then the prefix is put in front;
 *   a name that would start with a digit (or be empty) gets a leading `_`.
 * - Two keys or two secrets giving the same name are an error naming the variables and where they came
 *   from, never a value.
 */
import { InvalidParameterException, InvalidRequestException } from '../errors.js';

/** One secret value as read by GetSecretValue. */
export interface SecretValueSource {
  /** The secret's name (what a plain string's variable is named after). */
  readonly name: string;
  readonly secretString?: string;
  readonly secretBinary?: Uint8Array;
}

export interface MappingOptions {
  /** Put in front of every name as given; must itself be a valid start of a name. */
  readonly prefix?: string;
  /** Pass a SecretBinary as one base64 variable instead of refusing it. */
  readonly binaryAsBase64?: boolean;
}

/** One variable and where it came from (for error messages, which never hold values). */
export interface EnvVariable {
  readonly name: string;
  readonly value: string;
  /** e.g. `prod/db (key "password")` or `prod/db-password`. */
  readonly source: string;
}

const PREFIX = /^([A-Za-z_][A-Za-z0-9_]*)?$/;

/** `prod/db-password` -> `PROD_DB_PASSWORD`; the prefix goes in front; never starts with a digit. */
export function variableName(raw: string, prefix = ''): string {
  checkPrefix(prefix);
  const name = prefix + raw.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return name === '' || /^[0-9]/.test(name) ? `_${name}` : name;
}

export function checkPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new InvalidParameterException(`--prefix must be letters, digits and _ and not start with a digit: ${JSON.stringify(prefix)}`);
  }
}

/** A SecretString that is a JSON object, else undefined. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The variables one secret value gives, before collision checks across secrets. */
export function variablesOf(secret: SecretValueSource, options: MappingOptions = {}): EnvVariable[] {
  const prefix = options.prefix ?? '';
  if (secret.secretString === undefined) {
    if (secret.secretBinary === undefined) throw new InvalidRequestException(`The secret ${secret.name} has no value.`);
    if (!options.binaryAsBase64) {
      throw new InvalidRequestException(
        `The secret ${secret.name} holds a SecretBinary value, which cannot be an environment variable; ` +
          'pass --binary-as-base64 to get it base64-encoded.',
      );
    }
    return [{ name: variableName(secret.name, prefix), value: Buffer.from(secret.secretBinary).toString('base64'), source: secret.name }];
  }
  const object = jsonObject(secret.secretString);
  if (object === undefined) return [{ name: variableName(secret.name, prefix), value: secret.secretString, source: secret.name }];
  return Object.entries(object).map(([key, value]) => ({
    name: variableName(key, prefix),
    value: fieldText(value),
    source: `${secret.name} (key ${JSON.stringify(key)})`,
  }));
}

/** A JSON field as text: a string as it is, any other JSON value as its compact JSON text. */
export function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The variables of all the secrets, in order, refusing any name given twice. Throws an
 * InvalidParameterException naming every colliding variable and its sources.
 */
export function mapSecrets(secrets: readonly SecretValueSource[], options: MappingOptions = {}): EnvVariable[] {
  if (options.prefix !== undefined) checkPrefix(options.prefix);
  const all = secrets.flatMap((s) => variablesOf(s, options));
  const byName = new Map<string, EnvVariable[]>();
  for (const v of all) byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
  const collisions = [...byName.entries()].filter(([, vs]) => vs.length > 1);
  if (collisions.length > 0) {
    const described = collisions.map(([name, vs]) => `${name} (from ${vs.map((v) => v.source).join(' and ')})`).join('; ');
    throw new InvalidParameterException(`Environment variable names collide: ${described}.`);
  }
  return all;
}

/**
 * Names that change how programs are found, loaded or run (the loader, interpreters, shells, git, and
 * secretstore itself): a secret's JSON key becomes one of these only when asked for by name
 * (`--allow-env NAME`), since `{"path": "/srv"}` would otherwise silently break or hijack the command.
 */
const GUARDED_NAMES: ReadonlySet<string> = new Set([
  'PATH', 'NODE_OPTIONS', 'NODE_PATH', 'PYTHONPATH', 'PYTHONHOME', 'PERL5LIB', 'PERL5OPT', 'RUBYOPT', 'RUBYLIB',
  'JAVA_TOOL_OPTIONS', 'BASH_ENV', 'ENV', 'IFS', 'SHELLOPTS',
]);
const GUARDED_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'GIT_', 'SECRETSTORE_'];

export function isGuardedName(name: string): boolean {
  return GUARDED_NAMES.has(name) || GUARDED_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The variables with a guarded name that `allowed` does not list, as one line each: the variable, the
 * key it came from and what to pass (never its value).
 */
export function guardedVariables(vars: readonly EnvVariable[], allowed: readonly string[] = []): string[] {
  return vars
    .filter((v) => isGuardedName(v.name) && !allowed.includes(v.name))
    .map((v) => `${v.name} (from ${v.source}) changes how programs are found, loaded or run: pass --allow-env ${v.name} to set it anyway`);
}

/** exec: refuse guarded names that were not allowed by name. */
export function checkGuarded(vars: readonly EnvVariable[], allowed: readonly string[] = []): void {
  const bad = guardedVariables(vars, allowed);
  if (bad.length > 0) throw new InvalidParameterException(`Refusing to set ${bad.join('; ')}.`);
}

/** The variables as an object, e.g. to merge into a child's environment. */
export function toEnvObject(vars: readonly EnvVariable[]): Record<string, string> {
  return Object.fromEntries(vars.map((v) => [v.name, v.value]));
}

/** Environment strings cannot hold NUL: refuse such a value by its variable name. */
export function checkNoNul(vars: readonly EnvVariable[]): void {
  const bad = vars.filter((v) => v.value.includes('\0'));
  if (bad.length > 0) {
    throw new InvalidRequestException(
      `The value of ${bad.map((v) => `${v.name} (from ${v.source})`).join(', ')} contains a NUL character, which an environment variable cannot hold.`,
    );
  }
}

export const ENV_FORMATS = ['dotenv', 'json', 'shell'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

/** Characters a dotenv value may hold without quotes (anything else is double-quoted). */
const DOTENV_BARE = /^[A-Za-z0-9_.,:/@%+-]*$/;

/**
 * `KEY=value`, one a line. A value with anything beyond `[A-Za-z0-9_.,:/@%+-]` is double-quoted, with
 * `\` `"` `$` and backquote escaped by a backslash and newline and carriage return written as `\n` and
 * `\r` (a common dotenv convention; dotenv parsers differ, the README says so).
 */
export function renderDotenv(vars: readonly EnvVariable[]): string {
  checkNoNul(vars);
  return vars.map((v) => `${v.name}=${dotenvQuote(v.value)}\n`).join('');
}

export function dotenvQuote(value: string): string {
  if (DOTENV_BARE.test(value)) return value;
  const escaped = value.replace(/[\\"$`\n\r]/g, (c) => ({ '\n': '\\n', '\r': '\\r' })[c] ?? `\\${c}`);
  return `"${escaped}"`;
}

/** `export KEY='value'`, one a line, for `. file` or `eval` in any POSIX shell; `'` is written `'\''`. */
export function renderShell(vars: readonly EnvVariable[]): string {
  checkNoNul(vars);
  return vars.map((v) => `export ${v.name}=${shellQuote(v.value)}\n`).join('');
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** One JSON object, names to values, 4-space indented as the CLI's JSON output. */
export function renderJson(vars: readonly EnvVariable[]): string {
  return JSON.stringify(toEnvObject(vars), null, 4) + '\n';
}

export function renderEnv(vars: readonly EnvVariable[], format: EnvFormat): string {
  switch (format) {
    case 'dotenv':
      return renderDotenv(vars);
    case 'shell':
      return renderShell(vars);
    case 'json':
      return renderJson(vars);
  }
}
