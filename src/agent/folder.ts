/**
 * The agent's private folder and socket, and the checks both sides make before every use. Node has no
 * peer-credential API (no SO_PEERCRED), so the folder is the protection, as for ssh-agent: a folder owned by
 * this user with mode 0700 (nobody else can reach the socket inside it), and a 0600 socket owned by this user.
 * Anything else is refused. Imports only Node built-ins: the client (src/agent/client.ts) stays small.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** `$XDG_RUNTIME_DIR/secretstore`, else a private folder in the temp folder (`/tmp/secretstore-<uid>`). */
export function agentFolder(env: NodeJS.ProcessEnv): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'secretstore');
  // node:os only here: most sessions have XDG_RUNTIME_DIR, and every module loaded is time before the agent answers.
  const { tmpdir } = createRequire(import.meta.url)('node:os') as typeof import('node:os');
  return join(tmpdir(), `secretstore-${uid()}`);
}

export function socketPath(folder: string): string {
  return join(folder, 'agent.sock');
}

function uid(): number {
  return process.getuid?.() ?? -1;
}

/**
 * Why `path` may not be used (another owner, a mode that lets others in, not the right kind), or undefined.
 * A missing path throws lstat's error (ENOENT: no agent yet).
 */
function refusal(path: string, kind: 'folder' | 'socket'): string | undefined {
  const st = lstatSync(path);
  if (kind === 'folder' ? !st.isDirectory() : !st.isSocket()) return `${path} is not a ${kind === 'folder' ? 'folder' : 'socket'}`;
  if (st.uid !== uid()) return `${path} is owned by uid ${st.uid}, not by you (uid ${uid()})`;
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) return `${path} has mode 0${mode.toString(8)}; others may reach it (it must be 0${kind === 'folder' ? '700' : '600'})`;
  return undefined;
}

export class AgentFolderRefused extends Error {
  override readonly name = 'AgentFolderRefused';
}

/** Throws unless `folder` is this user's and nobody else can enter it. */
export function checkFolder(folder: string): void {
  const why = refusal(folder, 'folder');
  if (why) throw new AgentFolderRefused(`refusing the agent folder: ${why}`);
}

/** Throws unless the folder passes and its socket is this user's, mode 0600. */
export function checkSocket(folder: string): void {
  checkFolder(folder);
  const why = refusal(socketPath(folder), 'socket');
  if (why) throw new AgentFolderRefused(`refusing the agent socket: ${why}`);
}

/** Makes the folder (mode 0700) if it is missing, then checks it. */
export function ensureFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  checkFolder(folder);
}
