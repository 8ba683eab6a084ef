#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { main } from './main.js';

// Node 22.1+ can cache compiled code between runs (the lazily loaded chunks: libsodium, the git client);
// Node 20 has no such cache and skips this.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/** The working directory, or undefined when it was deleted under the shell (process.cwd() throws ENOENT). */
function currentDir(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

const cwd = currentDir();
const code =
  cwd === undefined
    ? (process.stderr.write('secretstore: error: the current folder no longer exists (deleted or moved); cd to an existing folder and run the command again\n'), 255)
    : await main(process.argv.slice(2), {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        env: process.env,
        cwd,
      });
// Exit once output is flushed rather than when the event loop drains: simple-git leaves a 50 ms
// timer behind after each git call, which would otherwise add 50 ms to every write.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
