/**
 * Runs the built CLI under a pseudo-terminal (`script` from util-linux), typing `answers` one by one, each
 * once the screen's last line matches `expecting` (a prompt), so nothing is typed while the terminal
 * still echoes. Waits on the process's exit, never on time.
 */
import { spawn } from 'node:child_process';
import { CLI } from './store.js';

export { HAS_SCRIPT } from './tools.js';

export interface TerminalRun {
  readonly status: number | null;
  /** Everything the terminal showed (stdout and stderr, with \r\n line ends). */
  readonly screen: string;
  /** How many answers were typed. */
  readonly typed: number;
}

export async function onTerminal(
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; answers?: readonly string[]; expecting?: RegExp },
): Promise<TerminalRun> {
  const answers = opts.answers ?? [];
  const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const proc = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = 0;
  let seen = 0;
  proc.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
    const last = screen.split(/\r?\n/).at(-1)!;
    if (opts.expecting?.test(last) && screen.length > seen && typed < answers.length) {
      seen = screen.length;
      proc.stdin.write(answers[typed++]!);
    }
  });
  // 'close', not 'exit': the last output may still be in the pipe when the process has exited.
  const status = await new Promise<number | null>((resolve) => proc.on('close', (c) => resolve(c)));
  return { status, screen, typed };
}
