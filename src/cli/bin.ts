#!/usr/bin/env node
/**
 * The entry, dist/secretstore.js: bundled alone (scripts/build.mjs) with the agent client and nothing else
 * of the program, so a command the agent answers loads only Node built-ins and this file. A command that
 * runs in this process loads the program (dist/program.cjs) through the code cache (code-cache.ts).
 */
import { join } from 'node:path';
import { agentCommand, viaAgent } from '../agent/client.js';
import { agentFolder } from '../agent/folder.js';
import { commandOf } from './argv.js';
import { loadProgram, type Program } from './code-cache.js';
import { locateStore } from '../shell/location.js';
import { startSpare } from '../shell/spare-git.js';

/** Commands whose first step is opening the store, which starts its object reader (`git cat-file --batch`). */
const STORE_COMMANDS: ReadonlySet<string> = new Set([
  'get-secret-value', 'batch-get-secret-value', 'put-secret-value', 'describe-secret', 'list-secrets',
  'list-secret-version-ids', 'create-secret', 'update-secret', 'delete-secret', 'restore-secret',
]);

/**
 * Starts the store's object reader before the program loads (spare-git.ts), so git's start overlaps
 * Node's: for the commands above, in the store the current folder is in (with --store, the program
 * starts it as before). The program takes it over only if it would have started the same process.
 */
function startStoreReader(argv: readonly string[], cwd: string): void {
  const command = commandOf(argv);
  if (command === undefined || !STORE_COMMANDS.has(command)) return;
  if (argv.some((a) => a === '-h' || a === '--help' || a.startsWith('--store'))) return;
  try {
    startSpare(locateStore({ cwd, env: process.env }).repoRoot, ['cat-file', '--batch'], process.env);
  } catch {
    // Not in a store, or git cannot start: the program reports it as it always has.
  }
}

/** The working directory, or undefined when it was deleted under the shell (process.cwd() throws ENOENT). */
function currentDir(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

async function run(argv: readonly string[]): Promise<number> {
  let finished: ((code: number) => void) | undefined;
  let program: Program | undefined;
  const load = (): Program => {
    if (program) return program;
    const loaded = loadProgram(join(__dirname, 'program.cjs'), process.env, commandOf(argv), argv);
    finished = loaded.finished;
    return (program = loaded.program);
  };
  const cwd = currentDir();
  if (cwd === undefined) {
    process.stderr.write('secretstore: error: the current folder no longer exists (deleted or moved); cd to an existing folder and run the command again\n');
    return 255;
  }
  if (argv[0] === 'agent' && argv[1] === 'run') {
    await load().runAgent(agentFolder(process.env), process.env);
    return 0;
  }
  const code = argv[0] === 'agent' && ['status', 'stop'].includes(argv[1] ?? '') ? await agentCommand(argv[1], process.env) : await viaAgent(argv, process.env, cwd, async () => load().askPassphrase);
  if (code !== undefined) return code;
  startStoreReader(argv, cwd);
  const exitCode = await load().main(argv, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd,
  });
  await flushed();
  finished?.(exitCode);
  return exitCode;
}

function flushed(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => process.stderr.write('', () => resolve())));
}

// Exit once output is flushed rather than when the event loop drains: simple-git leaves a 50 ms
// timer behind after each git call, which would otherwise add 50 ms to every write.
void run(process.argv.slice(2)).then(async (code) => {
  await flushed();
  process.exit(code);
});
