/**
 * Where the passphrase of a protected identity file comes from, in this order:
 *  1. `SECRETSTORE_PASSPHRASE`: for automation. Anything that can read this process's environment (the
 *     same user's processes, /proc/<pid>/environ, a CI log that dumps it) can read it; prefer the next.
 *  2. `SECRETSTORE_ASKPASS`: a program (no shell, no arguments of ours besides a prompt) whose stdout is the
 *     passphrase, as SSH_ASKPASS and SUDO_ASKPASS: a password manager, a keyring, a CI secret helper.
 *  3. The terminal (/dev/tty, else stdin if it is one), without echo; up to three tries.
 * With none of them, a one-line error names the variables to set. Sources 1 and 2 are asked once: a wrong
 * passphrase from automation fails at once instead of looping.
 *
 * The terminal is read with src/terminal/prompt.ts's TerminalSession, a terminal module with no CLI
 * dependencies, imported only when a prompt is needed.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { InvalidParameterException, InvalidRequestException } from '../errors.js';
import type { Passphrase, PassphraseRequest } from '../crypto/passphrase.js';
import type { TerminalStreams } from './prompt.js';

/** The variables that may hold an identity passphrase (never passed on to programs `exec` runs). */
export const PASSPHRASE_VARIABLES = ['SECRETSTORE_PASSPHRASE', 'SECRETSTORE_NEW_PASSPHRASE'] as const;

/** A copy of `env` without the passphrase variables. */
export function withoutPassphrases(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of PASSPHRASE_VARIABLES) delete copy[name];
  return copy;
}

const encode = (text: string) => new TextEncoder().encode(text);

/** The passphrase for `request.path`, from the environment, the askpass program or the terminal. */
export async function askPassphrase(request: PassphraseRequest, env: NodeJS.ProcessEnv): Promise<Passphrase> {
  if (env.SECRETSTORE_PASSPHRASE) return { bytes: encode(env.SECRETSTORE_PASSPHRASE), retry: false };
  if (env.SECRETSTORE_ASKPASS) return { bytes: await runAskpass(env.SECRETSTORE_ASKPASS, `Passphrase for identity file ${request.path}: `, env), retry: false };
  const terminal = openTerminal();
  if (!terminal) {
    throw new InvalidRequestException(
      `identity file ${request.path} is passphrase-protected and there is no terminal to ask on; set SECRETSTORE_ASKPASS (a program printing it) or SECRETSTORE_PASSPHRASE`,
    );
  }
  const { TerminalSession } = await import('./prompt.js');
  const session = new TerminalSession(terminal.streams);
  try {
    if (request.attempt > 1) session.write('Wrong passphrase; try again.\n');
    const line = await session.readLine(`Passphrase for identity file ${request.path}: `, false);
    if (line.kind !== 'line') throw new InvalidRequestException(`no passphrase was entered for identity file ${request.path}`);
    return { bytes: encode(line.text), retry: true };
  } finally {
    session.close();
    terminal.close();
  }
}

/**
 * A new passphrase (keygen --passphrase, identity protect): `SECRETSTORE_NEW_PASSPHRASE`, else
 * `SECRETSTORE_PASSPHRASE`, else typed twice on the terminal. An empty one is refused.
 */
export async function newPassphrase(path: string, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  let text = env.SECRETSTORE_NEW_PASSPHRASE || env.SECRETSTORE_PASSPHRASE;
  if (!text) {
    const terminal = openTerminal();
    if (!terminal) {
      throw new InvalidRequestException(
        `there is no terminal to ask for the new passphrase of ${path} on; set SECRETSTORE_NEW_PASSPHRASE (or SECRETSTORE_PASSPHRASE)`,
      );
    }
    const { promptSecretValue } = await import('./prompt.js');
    try {
      text = await promptSecretValue(terminal.streams, `new passphrase for ${path}`);
    } finally {
      terminal.close();
    }
    if (text === undefined) throw new InvalidRequestException(`interrupted; identity file ${path} was not changed`);
  }
  if (text === '') throw new InvalidParameterException('an empty passphrase protects nothing; leave out --passphrase for an unprotected identity');
  return encode(text);
}

/** The controlling terminal (so a value piped to stdin does not stop the prompt), else stdin if it is one. */
function openTerminal(): { streams: TerminalStreams; close: () => void } | undefined {
  try {
    // Two descriptors: each stream closes its own when destroyed.
    const input = new ReadStream(openSync('/dev/tty', 'r'));
    const output = new WriteStream(openSync('/dev/tty', 'w'));
    return {
      streams: { input, output },
      close: () => {
        input.destroy();
        output.destroy();
      },
    };
  } catch {
    // no controlling terminal (a daemon, CI, setsid), or no /dev/tty (Windows)
  }
  if (process.stdin.isTTY) return { streams: { input: process.stdin, output: process.stderr }, close: () => undefined };
  return undefined;
}

/**
 * Runs the askpass program without a shell, the prompt as its only argument (as ssh does), and returns its
 * stdout without the final newline. The output buffers are zeroed once copied.
 */
async function runAskpass(command: string, prompt: string, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  const status = await new Promise<number | string>((resolve) => {
    const child = spawn(command, [prompt], { env, stdio: ['ignore', 'pipe', 'inherit'], shell: false });
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'killed'));
  });
  const all = Buffer.concat(chunks);
  for (const chunk of chunks) chunk.fill(0);
  try {
    if (status !== 0) {
      const why = typeof status === 'number' ? `exited with status ${status}` : `could not run (${status}); it must name a program, without arguments`;
      throw new InvalidRequestException(`SECRETSTORE_ASKPASS ${command} ${why}; no passphrase was read`);
    }
    let end = all.length;
    if (end > 0 && all[end - 1] === 0x0a) end--;
    if (end > 0 && all[end - 1] === 0x0d) end--;
    if (end === 0) throw new InvalidRequestException(`SECRETSTORE_ASKPASS ${command} printed no passphrase`);
    return new Uint8Array(all.subarray(0, end));
  } finally {
    all.fill(0);
  }
}
