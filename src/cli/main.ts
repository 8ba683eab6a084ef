/**
 * The CLI entry: builds the program, runs one command, and turns errors into the AWS CLI's output and
 * exit codes. Nothing below this file exits the process; errors are typed and end up here.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { buildProgram, type CliIo } from './program.js';
import { addAdminCommands } from './admin.js';
import { debugEnabled, debugFromEnv, setDebug } from '../shell/debug.js';
import { errorLine, EXIT_SERVICE_ERROR, EXIT_USAGE, UsageError } from './output.js';

export interface MainIo {
  out(text: string): void;
  /** Bytes to stdout as they are; default: process.stdout. */
  outBytes?(bytes: Uint8Array): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export async function main(argv: readonly string[], sys: MainIo): Promise<number> {
  const io: CliIo = {
    out: sys.out,
    outBytes: sys.outBytes ?? ((bytes) => process.stdout.write(bytes)),
    warn: (line) => sys.err(line + '\n'),
    stdin: () => readFileSync(0),
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
    if (err instanceof UsageError) {
      sys.err(`usage: secretstore [options] <command> [parameters]\nsecretstore: error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    sys.err(errorLine(err, io.operation) + '\n');
    if (debugEnabled() && err instanceof Error) sys.err(`${err.stack ?? ''}\n`);
    return EXIT_SERVICE_ERROR;
  }
}
