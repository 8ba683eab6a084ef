#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { agentCommand, viaAgent } from '../agent/client.js';

/** The working directory, or undefined when it was deleted under the shell (process.cwd() throws ENOENT). */
function currentDir(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

// The agent client comes first and is small; the program (commander, the operation table) is loaded only
// when the command runs in this process (src/agent/client.ts says when).
const argv = process.argv.slice(2);
const cwd = currentDir();
let code: number | undefined;
if (cwd === undefined) {
  process.stderr.write('secretstore: error: the current folder no longer exists (deleted or moved); cd to an existing folder and run the command again\n');
  code = 255;
} else {
  code = argv[0] === 'agent' && ['status', 'stop', 'run'].includes(argv[1] ?? '') ? await agentCommand(argv[1], process.env) : await viaAgent(argv, process.env, cwd);
}
if (code === undefined) {
  // Node 22.1+ can cache compiled code between runs (the lazily loaded chunks: libsodium, the git client);
  // Node 20 has no such cache and skips this.
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const { main } = await import('./main.js');
  code = await main(argv, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: cwd!,
  });
}
// Exit once output is flushed rather than when the event loop drains: simple-git leaves a 50 ms
// timer behind after each git call, which would otherwise add 50 ms to every write.
const exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(exitCode)));
