/**
 * The client side of the agent: what `secretstore` does before anything else. It decides whether to use
 * the agent, starts it when it is not running, forwards argv, working folder, environment and (for `-`)
 * standard input, writes the reply's stdout and stderr bytes and returns its exit code. It holds no
 * business logic and imports only Node built-ins and the two small agent modules (it is bundled alone into
 * dist/secretstore.js, see scripts/build.mjs); answering a passphrase request uses the program's terminal
 * code, handed in by the entry (`AskPassphrase`). `undefined` means: run the command in this process.
 *
 * When the agent is used (see `wantsAgent`): SECRETSTORE_AGENT=on always; =off or --no-agent never; unset
 * (auto) only for a person at a terminal: stdin is a TTY and CI is not set, so scripts, CI jobs and
 * containers never leave an agent behind.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { isatty } from 'node:tty';
import { agentFolder, AgentFolderRefused, checkSocket, ensureFolder, socketPath } from './folder.js';
import { buildId, onMessages, send, type AgentMessage, type ClientMessage } from './protocol.js';
import type { Passphrase, PassphraseRequest } from '../crypto/passphrase.js';

/** Reads the passphrase the agent asks for, where the cold path would (src/terminal/passphrase.ts askPassphrase). */
export type AskPassphrase = (request: PassphraseRequest, env: NodeJS.ProcessEnv) => Promise<Passphrase>;

/** For Node modules only some runs need (child_process: starting the agent): the client's start stays short. */
const nodeRequire = createRequire(import.meta.url);

/** Variables the agent is never sent: the passphrase is read by the client when the agent asks. */
const PRIVATE_VARIABLES = ['SECRETSTORE_PASSPHRASE', 'SECRETSTORE_NEW_PASSPHRASE'];

export function wantsAgent(argv: readonly string[], env: NodeJS.ProcessEnv, stdinTTY: boolean): boolean {
  if (argv.includes('--no-agent')) return false;
  const mode = (env.SECRETSTORE_AGENT ?? 'auto').toLowerCase();
  if (mode === 'on' || mode === '1') return true;
  if (mode === 'off' || mode === '0') return false;
  return stdinTTY && !env.CI;
}

function warn(line: string): void {
  process.stderr.write(`secretstore: warning: ${line}\n`);
}

/** Runs the command through the agent; undefined when it must (or, after a refusal, will) run in this process. */
export async function viaAgent(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string, ask: () => Promise<AskPassphrase>): Promise<number | undefined> {
  const stdinTTY = isatty(0); // not process.stdin, whose stream costs more to set up than the whole request
  if (!wantsAgent(argv, env, stdinTTY)) return undefined;
  // `-` reads the value from stdin: read it here, unless it is the terminal (the command then runs here).
  if (argv.includes('-') && stdinTTY) return undefined;
  const forwarded: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !PRIVATE_VARIABLES.includes(k)) forwarded[k] = v;
  const request: ClientMessage = {
    t: 'run',
    build: buildId(env),
    argv: [...argv],
    cwd,
    env: forwarded,
    stdinTTY,
    ...(argv.includes('-') ? { stdin: readFileSync(0).toString('base64') } : {}),
  };
  const folder = agentFolder(env);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const socket = await connectOrStart(folder, env);
      const answer = await exchange(socket, request, env, ask);
      if (answer !== 'restart') return answer === 'cold' ? undefined : answer;
      // An agent of another build exits on its own; start this build's (it listens once the old one has left).
      await waitForExit(folder);
    }
    return undefined;
  } catch (err) {
    if (err instanceof AgentFolderRefused || (err as NodeJS.ErrnoException).code !== undefined) {
      warn(`not using the agent: ${(err as Error).message}; running in this process`);
      return undefined;
    }
    throw err;
  }
}

/** `secretstore agent status|stop` (`agent run` is the agent itself: src/agent/server.ts). */
export async function agentCommand(action: string | undefined, env: NodeJS.ProcessEnv): Promise<number> {
  const folder = agentFolder(env);
  if (action !== 'status' && action !== 'stop') {
    process.stderr.write('usage: secretstore agent status|stop\n');
    return 252;
  }
  let socket: Socket;
  try {
    socket = await connectTo(folder);
  } catch (err) {
    if (err instanceof AgentFolderRefused) {
      process.stderr.write(`secretstore: ${err.message}\n`);
      return 254;
    }
    process.stdout.write(action === 'status' ? `${JSON.stringify({ Running: false, Socket: socketPath(folder) }, null, 4)}\n` : '');
    return action === 'status' ? 3 : 0;
  }
  const reply = await new Promise<AgentMessage | undefined>((resolve) => {
    onMessages<AgentMessage>(socket, resolve);
    socket.on('close', () => resolve(undefined));
    send(socket, action === 'status' ? { t: 'status' } : { t: 'stop' });
  });
  socket.destroy();
  if (reply?.t === 'status') {
    const { t: _, ...fields } = reply;
    const status = { Running: true, Socket: socketPath(folder), Pid: fields.pid, Build: fields.build, CurrentBuild: fields.build === buildId(env), UptimeSeconds: fields.uptimeSeconds, IdleExitSeconds: fields.idleExitSeconds, Stores: fields.stores, Identities: fields.identities };
    process.stdout.write(`${JSON.stringify(status, null, 4)}\n`);
  }
  return 0;
}

function connectTo(folder: string): Promise<Socket> {
  checkSocket(folder);
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath(folder));
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function connectOrStart(folder: string, env: NodeJS.ProcessEnv): Promise<Socket> {
  ensureFolder(folder);
  try {
    return await connectTo(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No agent (no socket, or one left by a dead agent): start one. Anything else is refused.
    if (code !== 'ECONNREFUSED' && code !== 'ENOENT') throw err;
  }
  await startAgent(env);
  return connectTo(folder);
}

/** Starts `secretstore agent run` detached, and waits for its `ready` line (it listens by then). */
async function startAgent(env: NodeJS.ProcessEnv): Promise<void> {
  const { spawn } = nodeRequire('node:child_process') as typeof import('node:child_process');
  const agentEnv = { ...env };
  for (const name of PRIVATE_VARIABLES) delete agentEnv[name];
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'agent', 'run'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: agentEnv,
    cwd: '/',
  });
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) {
        child.stdout!.destroy();
        child.unref();
        resolve();
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(Object.assign(new Error(`the agent exited at start (status ${code})`), { code: 'EAGENTSTART' })));
  });
}

/** Waits until the socket of an agent that is exiting is gone (or refuses connections). */
async function waitForExit(folder: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await connectTo(folder)).destroy();
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function exchange(socket: Socket, request: ClientMessage, env: NodeJS.ProcessEnv, ask: () => Promise<AskPassphrase>): Promise<number | 'cold' | 'restart'> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: number | 'cold' | 'restart') => {
      done = true;
      socket.end();
      resolve(value);
    };
    onMessages<AgentMessage>(socket, (m) => {
      switch (m.t) {
        case 'out':
          process.stdout.write(Buffer.from(m.data, 'base64'));
          break;
        case 'err':
          process.stderr.write(Buffer.from(m.data, 'base64'));
          break;
        case 'ask':
          void answerPassphrase(socket, m, env, ask);
          break;
        case 'exit':
          finish(m.code);
          break;
        case 'cold':
        case 'restart':
          finish(m.t);
          break;
      }
    });
    socket.on('close', () => {
      if (done) return;
      // Killed mid-command: a write it had begun is repaired by the next command (as after any crash).
      process.stderr.write('secretstore: the agent ended before the command finished; run it again (a half-done write is repaired first)\n');
      resolve(254);
    });
    socket.on('error', () => undefined); // 'close' follows
    send(socket, request);
  });
}

/** The agent needs the passphrase of an identity file: read it here, as the cold path would, and send it. */
async function answerPassphrase(socket: Socket, request: { path: string; attempt: number }, env: NodeJS.ProcessEnv, ask: () => Promise<AskPassphrase>): Promise<void> {
  try {
    const askPassphrase = await ask();
    const passphrase = await askPassphrase({ path: request.path, attempt: request.attempt }, env);
    const bytes = Buffer.from(passphrase.bytes);
    send(socket, { t: 'passphrase', bytes: bytes.toString('base64'), retry: passphrase.retry });
    bytes.fill(0);
    passphrase.bytes.fill(0);
  } catch (err) {
    send(socket, { t: 'passphrase', error: { name: (err as Error).name, message: (err as Error).message } });
  }
}
