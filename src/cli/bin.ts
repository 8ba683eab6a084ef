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
