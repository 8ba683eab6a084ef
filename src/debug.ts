/**
 * The `--debug` log (also `SECRETSTORE_DEBUG=1`): what secretstore does, one line each on stderr — the
 * store and identity chosen, each git command with its duration, each operation with its request and
 * duration. Never a value: request members that hold one print as `<redacted>`, and git arguments
 * (paths, object ids, commit messages, none of which holds a value) keep only a message's first line.
 * Off, every function here returns at once, so the hooks cost nothing.
 */
import type { Param } from './ops/context.js';

export const REDACTED = '<redacted>';

/** Request members that always hold a value or a credential, whatever their `sensitive` flag says. */
const ALWAYS_REDACTED: ReadonlySet<string> = new Set(['SecretString', 'SecretBinary', 'RotationToken']);

let enabled = false;
let write: (text: string) => void = (text) => void process.stderr.write(text);

/** Whether the environment asks for the log: `SECRETSTORE_DEBUG` set to anything but empty or `0`. */
export function debugFromEnv(env: NodeJS.ProcessEnv): boolean {
  const value = env.SECRETSTORE_DEBUG;
  return value !== undefined && value !== '' && value !== '0';
}

/** Turns the log on or off; `sink` (default: process.stderr) receives whole lines. */
export function setDebug(on: boolean, sink?: (text: string) => void): void {
  enabled = on;
  if (sink) write = sink;
}

export function debugEnabled(): boolean {
  return enabled;
}

/** Logs one line; a function is only called when the log is on. */
export function debug(message: string | (() => string)): void {
  if (!enabled) return;
  write(`[debug] ${typeof message === 'function' ? message() : message}\n`);
}

function ms(started: number): string {
  return `${(performance.now() - started).toFixed(1)} ms`;
}

/** Runs `fn` and logs `label (N ms)`, or `label failed (N ms)`. */
export async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const started = performance.now();
  try {
    const result = await fn();
    debug(`${label} (${ms(started)})`);
    return result;
  } catch (err) {
    debug(`${label} failed: ${(err as Error | undefined)?.name ?? 'error'} (${ms(started)})`);
    throw err;
  }
}

/** A request as it may be logged: every member that holds a value replaced by `<redacted>`. */
export function redactRequest(params: readonly Param[], request: Record<string, unknown>): Record<string, unknown> {
  const sensitive = new Set(params.filter((p) => p.sensitive).map((p) => p.member));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (sensitive.has(key) || ALWAYS_REDACTED.has(key)) out[key] = REDACTED;
    else if (value instanceof Uint8Array) out[key] = `<${value.length} bytes>`;
    else out[key] = value;
  }
  return out;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `git <args>` for the log: a commit message (`-m <message>`) is cut to its first line. */
export function gitCommandLine(args: readonly string[]): string {
  const shown = args.map((arg, i) => {
    if (i > 0 && args[i - 1] === '-m') {
      const [first = '', ...rest] = arg.split('\n');
      return quote(rest.some((line) => line.trim() !== '') ? `${first} ...` : first);
    }
    return quote(arg);
  });
  return ['git', ...shown].join(' ');
}

/** The git hook: one line per git command with its duration (and exit code when it failed). */
export function debugGit(args: readonly string[], started: number, exitCode?: number | null): void {
  if (!enabled) return;
  debug(`${gitCommandLine(args)} (${exitCode === undefined ? '' : `exit ${exitCode ?? '?'}, `}${ms(started)})`);
}
