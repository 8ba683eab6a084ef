/**
 * The CLI entry: builds the program, runs one command, and turns errors into the AWS CLI's output and
 * exit codes. Nothing below this file exits the process; errors are typed and end up here.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { buildProgram, type CliIo } from './program.js';
import { commandOf } from './argv.js';
import { operations } from '../ops/table.js';
import { debugEnabled, debugFromEnv, setDebug } from '../debug.js';
import { errorLine, EXIT_SERVICE_ERROR, EXIT_USAGE, ParamValidationError, UsageError } from './output.js';
import type { ProgressStream } from '../terminal/progress.js';

/**
 * What one run of the program reads and writes: the process's own streams, environment and folder on the
 * cold path, or one request's in the agent (src/agent/), which runs many commands in one process.
 */
export interface MainIo {
  out(text: string | Uint8Array): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** All of standard input (default: read file descriptor 0). */
  stdin?: () => Buffer;
  /** Whether stdin is a terminal (default: `process.stdin.isTTY`). */
  isTerminal?: () => boolean;
  /** Where progress lines are drawn (default: `process.stderr`); null draws none. */
  progressStream?: ProgressStream | null;
  /** How a table operation opens its store (default: `SecretStore.open`); the agent reuses warm ones. */
  openStore?: CliIo['openStore'];
  /**
   * The arguments as raw bytes (default: this process's, from /proc). The agent passes none: its own
   * command line is not the request's, so a U+FFFD in a request's argv is taken as Node gave it.
   */
  rawArgv?: () => Buffer[] | undefined;
}

/**
 * This process's arguments as the bytes they were given (Linux: /proc/self/cmdline), for telling a
 * U+FFFD that was typed from one that Node put in place of bytes that are not UTF-8; undefined elsewhere.
 */
function rawArgv(): Buffer[] | undefined {
  try {
    const raw = readFileSync('/proc/self/cmdline');
    const args: Buffer[] = [];
    for (let start = 0; start < raw.length; ) {
      const end = raw.indexOf(0, start);
      args.push(raw.subarray(start, end < 0 ? raw.length : end));
      start = end < 0 ? raw.length : end + 1;
    }
    return args;
  } catch {
    return undefined;
  }
}

/** Reads that open a sealed value (every mutation needs libsodium too: it signs its commit). */
const KEYED_READS = new Set(['GetSecretValue', 'BatchGetSecretValue']);

function prefetchCrypto(): void {
  // A failure surfaces where the command awaits libsodium itself, as an error of that command.
  void import('../crypto/load.js').then((crypto) => crypto.loadCrypto()).catch(() => undefined);
}

export async function main(argv: readonly string[], sys: MainIo): Promise<number> {
  const io: CliIo = {
    out: sys.out,
    outBytes: (bytes) => sys.out(bytes),
    warn: (line) => sys.err(line + '\n'),
    stdin: sys.stdin ?? (() => readFileSync(0)),
    rawArgv: sys.rawArgv ?? rawArgv,
    env: sys.env,
    cwd: sys.cwd,
    operation: 'secretstore',
    ...(sys.isTerminal ? { isTerminal: sys.isTerminal } : {}),
    ...(sys.progressStream !== undefined ? { progressStream: sys.progressStream } : {}),
    ...(sys.openStore ? { openStore: sys.openStore } : {}),
  };
  // --debug (program.ts) or SECRETSTORE_DEBUG: what secretstore does on stderr, and stack traces of errors.
  setDebug(debugFromEnv(sys.env), sys.err);
  // A table operation needs only its own command (and no admin commands); help and the rest get all.
  const command = commandOf(argv);
  const op = command !== undefined && !argv.includes('--help') && !argv.includes('-h') ? Object.values(operations).find((o) => o.command === command) : undefined;
  const only = op?.command;
  // libsodium's WebAssembly compiles off the main thread: started now, it is ready when the store is open
  // (a get decrypts, every write signs its commit) instead of after, so that wait overlaps git's start.
  if (op !== undefined && (op.mutates || KEYED_READS.has(op.name))) prefetchCrypto();
  const addAdminCommands = only === undefined ? (await import('./admin.js')).addAdminCommands : undefined;
  const program = buildProgram(io, (p, globals, print) => addAdminCommands?.(p, globals, io, print), only);
  const output = { writeOut: (text: string) => sys.out(text), writeErr: sys.err };
  program.exitOverride().configureOutput(output);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(output);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof ParamValidationError) {
      sys.err(`\nParameter validation failed: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      sys.err(`usage: secretstore [options] <command> [parameters]\nsecretstore: error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    sys.err(errorLine(err, io.operation) + '\n');
    if (debugEnabled() && err instanceof Error) sys.err(`${err.stack ?? ''}\n`);
    return EXIT_SERVICE_ERROR;
  }
}
