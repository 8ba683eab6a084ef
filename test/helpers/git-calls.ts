/**
 * A `git` first on PATH that logs each call's subcommand and runs the real git: which git commands did
 * the code under test start?
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './repo.js';

export interface GitCallLog {
  /** The folder holding the logging `git`: put it first on PATH. */
  readonly bin: string;
  /** The subcommands so far, sorted: git processes start side by side, so their order is not the behaviour. */
  calls(): string[];
  cleanup(): void;
}

export function gitCallLog(): GitCallLog {
  const bin = tempDir('secretstore-gitlog-');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const log = join(bin, 'calls.log');
  // The subcommand: the first argument after any `-c <name>=<value>`.
  const script = `#!/bin/sh\nsub() { while [ "$1" = -c ]; do shift 2; done; printf '%s\\n' "$1"; }\nsub "$@" >> '${log}'\nexec '${real}' "$@"\n`;
  writeFileSync(join(bin, 'git'), script, { mode: 0o755 });
  return {
    bin,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').sort() : []),
    cleanup: () => rmSync(bin, { recursive: true, force: true }),
  };
}
