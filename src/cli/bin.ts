#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { main } from './main.js';

// Node 22.1+ can cache compiled code between runs (the lazily loaded chunks: libsodium, the git client);
// Node 20 has no such cache and skips this.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
});
// Exit once output is flushed rather than when the event loop drains: simple-git leaves a 50 ms
// timer behind after each git call, which would otherwise add 50 ms to every write.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
