/**
 * The agent (`secretstore agent run`, started by the client): a long-lived process that keeps the loaded
 * code, decrypted identities (keys.ts) and one warm `SecretStore` per store and identity, and runs the
 * commands clients send over a Unix socket in its private folder (folder.ts) with the same code as the cold
 * path: `main` (src/cli/main.ts) with the request's argv, environment, folder, stdin and output.
 *
 * It owns: the socket, the request queue, the caches above, and when to exit (idle for
 * SECRETSTORE_AGENT_IDLE_SECONDS, default 300; a client of another build; `agent stop`; SIGTERM/SIGINT),
 * zeroing every key on the way out. It may import the CLI entry (main), the store client, the crypto
 * barrel and the operation table, and nothing that draws on a terminal: commands that need one (prompts,
 * edit, exec, env, rotation commands, keygen, ...) are answered `cold` and run in the client.
 *
 * Requests run one at a time: a few variables are read from `process.env` deep in the shell
 * (SECRETSTORE_FAULT_AT, SECRETSTORE_LOCK_TIMEOUT_MS, SECRETSTORE_NO_CACHE) and relative paths resolve
 * against the working folder, so each request gets its own values of both for its duration.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { checkSocket, ensureFolder, socketPath } from './folder.js';
import { KeyCache } from './keys.js';
import { buildId, onMessages, send, type ClientMessage } from './protocol.js';
import { main } from '../cli/main.js';
import { commandOf } from '../cli/argv.js';
import { operations } from '../ops/table.js';
import { disposeKeys, resolveIdentityPath } from '../crypto/identity-file.js';
import { SecretStore, type OpenStoreOptions } from '../store/secret-store.js';
import { locateStore } from '../store/location.js';
import * as errors from '../errors.js';
import type { Passphrase, PassphraseRequest } from '../crypto/passphrase.js';

type RunRequest = Extract<ClientMessage, { t: 'run' }>;

/** The table's commands, except rotate-secret, which runs the rotation commands (in the client, as on the cold path). */
const AGENT_COMMANDS: ReadonlySet<string> = new Set(Object.values(operations).filter((op) => !('workflow' in op && op.workflow)).map((op) => op.command));
/** Read from process.env deep in the shell: set per request. */
const PROCESS_VARIABLES = ['SECRETSTORE_FAULT_AT', 'SECRETSTORE_LOCK_TIMEOUT_MS', 'SECRETSTORE_NO_CACHE'] as const;

/** Whether the agent runs this command; the rest run in the client (they need its terminal or its process). */
function runsHere(request: RunRequest): boolean {
  const command = commandOf(request.argv);
  if (command === undefined || !AGENT_COMMANDS.has(command)) return false;
  // put-secret-value and create-secret ask for the value on a terminal when none is given.
  const asks = command === 'put-secret-value' || command === 'create-secret';
  const valueGiven = request.argv.some((a) => a === '--secret-string' || a === '--secret-binary');
  return !(request.stdinTTY && asks && (!valueGiven || request.argv.includes('--prompt')));
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}

export async function runAgent(folder: string, env: NodeJS.ProcessEnv): Promise<void> {
  ensureFolder(folder);
  const build = buildId(env);
  const started = Date.now();
  const idleSeconds = positive(env.SECRETSTORE_AGENT_IDLE_SECONDS, 300);
  const keys = new KeyCache(positive(env.SECRETSTORE_AGENT_CACHE_TTL, 600) * 1000, disposeKeys);
  const stores = new Map<string, SecretStore>();
  let queue: Promise<void> = Promise.resolve();
  let busy = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let stopping = false;

  const armIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (busy === 0) shutdown();
    }, idleSeconds * 1000);
  };

  const server: Server = createServer((conn) => {
    // Before every use: the folder and socket must still be ours and private; otherwise stop serving.
    try {
      checkSocket(folder);
    } catch {
      conn.destroy();
      shutdown();
      return;
    }
    conn.on('error', () => undefined);
    let answer: ((m: Extract<ClientMessage, { t: 'passphrase' }>) => void) | undefined;
    onMessages<ClientMessage>(conn, (m) => {
      if (m.t === 'passphrase') answer?.(m);
      else if (m.t === 'status') {
        send(conn, { t: 'status', pid: process.pid, build, uptimeSeconds: Math.round((Date.now() - started) / 1000), idleExitSeconds: idleSeconds, stores: [...new Set([...stores.values()].map((s) => s.location.root))], identities: keys.paths() });
      } else if (m.t === 'stop') {
        send(conn, { t: 'stopped' });
        conn.end(() => shutdown());
      } else if (m.t === 'run') {
        if (stopping) {
          send(conn, { t: 'restart' }); // going away: the client starts a new agent
          conn.end();
          return;
        }
        if (m.build !== build) {
          // An upgrade: this agent runs old code. The client starts the current one once this one has left.
          send(conn, { t: 'restart' });
          conn.end(() => shutdown());
          return;
        }
        busy++;
        armIdle();
        const ask = (request: PassphraseRequest) =>
          new Promise<Passphrase>((resolveAsk, reject) => {
            const onClose = () => reject(new errors.InvalidRequestException(`no passphrase was entered for identity file ${request.path}`));
            conn.once('close', onClose);
            answer = (reply) => {
              conn.off('close', onClose);
              answer = undefined;
              if (reply.bytes !== undefined) resolveAsk({ bytes: new Uint8Array(Buffer.from(reply.bytes, 'base64')), retry: reply.retry === true });
              else reject(errorFrom(reply.error));
            };
            send(conn, { t: 'ask', path: request.path, attempt: request.attempt });
          });
        queue = queue
          .then(() => serve(conn, m, (options) => openWarm(options, ask)))
          .catch(() => undefined)
          .finally(() => {
            busy--;
            armIdle();
          });
      }
    });
  });

  async function openWarm(options: OpenStoreOptions, passphrase: OpenStoreOptions['passphrase']): Promise<SecretStore> {
    const opts: OpenStoreOptions = { ...options, passphrase, identityKeys: (path, read) => keys.get(path, read) };
    // --allow-unsigned warns when the configuration is read: read it each time, as the cold path does.
    if (opts.allowUnsigned) return SecretStore.open(opts);
    let key: string;
    try {
      const env = opts.env ?? {};
      key = `${locateStore({ store: opts.store, cwd: opts.cwd ?? process.cwd(), env }).root}\n${resolve(resolveIdentityPath({ flag: opts.identity, env }))}`;
    } catch {
      return SecretStore.open(opts); // no store here: open says so, in the cold path's words
    }
    const cached = stores.get(key);
    const store = cached ? await cached.withOptions(opts) : await SecretStore.open(opts);
    stores.set(key, store);
    return store;
  }

  /** Stops taking requests, lets the one in flight finish (a write is never cut short), zeroes the keys, exits. */
  function shutdown(): void {
    if (stopping) return;
    stopping = true;
    server.close();
    removeSocket();
    void queue.finally(() => {
      keys.clear();
      stores.clear();
      process.exit(0);
    });
  }

  let listening = false;
  const removeSocket = () => {
    if (!listening) return;
    try {
      unlinkSync(socketPath(folder));
    } catch {
      // already gone
    }
  };
  process.on('SIGTERM', shutdown).on('SIGINT', shutdown).on('SIGHUP', shutdown);
  process.on('exit', () => keys.clear());
  // A command's stray rejection must not take the other clients' agent down.
  process.on('unhandledRejection', () => undefined);

  if (!(await listen(server, folder))) {
    process.stdout.write('ready\n'); // another agent won the race to start; the client uses that one
    return;
  }
  listening = true;
  armIdle();
  process.stdout.write('ready\n');
  await new Promise<never>(() => undefined); // serves until shutdown() exits the process
}

/** Listens on the socket (mode 0600); false when a live agent already does. A socket left by a dead agent is replaced. */
async function listen(server: Server, folder: string): Promise<boolean> {
  const path = socketPath(folder);
  for (let attempt = 0; ; attempt++) {
    const mask = process.umask(0o177);
    try {
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(path, () => {
          server.off('error', fail);
          ok();
        });
      });
      chmodSync(path, 0o600);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw err;
      if (await answers(path)) return false;
      unlinkSync(path);
    } finally {
      process.umask(mask);
    }
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket: Socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once('error', () => resolveAnswer(false));
  });
}

function errorFrom(error: { name: string; message: string } | undefined): Error {
  const cls = error ? (errors as Record<string, unknown>)[error.name] : undefined;
  const message = error?.message ?? 'no passphrase was entered';
  return typeof cls === 'function' && cls.prototype instanceof errors.SecretsManagerError
    ? new (cls as new (m: string) => Error)(message)
    : new errors.InvalidRequestException(message);
}

/** One command, in this process, with the request's argv, environment, folder, stdin and output. */
async function serve(conn: Socket, request: RunRequest, openStore: (options: OpenStoreOptions) => Promise<SecretStore>): Promise<void> {
  if (!runsHere(request)) {
    send(conn, { t: 'cold' });
    conn.end();
    return;
  }
  const saved = PROCESS_VARIABLES.map((name) => [name, process.env[name]] as const);
  for (const name of PROCESS_VARIABLES) {
    if (request.env[name] === undefined) delete process.env[name];
    else process.env[name] = request.env[name];
  }
  try {
    process.chdir(request.cwd);
  } catch {
    send(conn, { t: 'cold' }); // a folder the agent cannot enter: the client's own process can say why
    conn.end();
    return;
  }
  try {
    const stdin = request.stdin === undefined ? Buffer.alloc(0) : Buffer.from(request.stdin, 'base64');
    const code = await main(request.argv, {
      out: (text) => send(conn, { t: 'out', data: Buffer.from(text).toString('base64') }),
      err: (text) => send(conn, { t: 'err', data: Buffer.from(text).toString('base64') }),
      env: request.env,
      cwd: request.cwd,
      stdin: () => stdin,
      isTerminal: () => false,
      progressStream: null,
      openStore,
      rawArgv: () => undefined,
    });
    send(conn, { t: 'exit', code });
    conn.end();
  } catch (err) {
    // main turns every error of a command into output and a code; this is a bug of the agent itself.
    send(conn, { t: 'err', data: Buffer.from(`secretstore: the agent failed: ${(err as Error).message}\n`).toString('base64') });
    send(conn, { t: 'exit', code: 254 });
    conn.end();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    process.chdir('/');
  }
}
