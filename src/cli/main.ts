/**
 * The CLI entry: builds the program, runs one command, and turns errors into the AWS CLI's output and
 * exit codes. Nothing below this file exits the process; errors are typed and end up here.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { buildProgram, type CliIo } from './program.js';
import { addAdminCommands } from './admin.js';
import { debugEnabled, debugFromEnv, setDebug } from '../shell/debug.js';
import { errorLine, EXIT_SERVICE_ERROR, EXIT_USAGE, ParamValidationError, UsageError } from './output.js';

export interface MainIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
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

export async function main(argv: readonly string[], sys: MainIo): Promise<number> {
  const io: CliIo = {
    out: sys.out,
    warn: (line) => sys.err(line + '\n'),
    stdin: () => readFileSync(0),
    rawArgv,
    env: sys.env,
    cwd: sys.cwd,
    operation: 'secretstore',
  };
  // --debug (program.ts) or SECRETSTORE_DEBUG: what secretstore does on stderr, and stack traces of errors.
  setDebug(debugFromEnv(sys.env), sys.err);
  const program = buildProgram(io, (p, globals, print) => addAdminCommands(p, globals, io, print));
  program.exitOverride().configureOutput({ writeOut: sys.out, writeErr: sys.err });
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: sys.out, writeErr: sys.err });
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
