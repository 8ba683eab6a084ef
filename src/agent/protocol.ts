/**
 * The messages between the client and the agent: one JSON object per line, bytes as base64. Shared by
 * both sides; imports only Node built-ins.
 *
 * A command: the client sends `run`; the agent answers with `out`/`err` chunks in order and one `exit`, or
 * with `cold` (the command needs this process: a terminal prompt, an editor, a program to run) or `restart`
 * (the agent is from another build; it exits and the client starts the current one). A passphrase the agent
 * needs is asked with `ask` and answered by the client with `passphrase`, read where the cold path reads it
 * (SECRETSTORE_PASSPHRASE, SECRETSTORE_ASKPASS, the terminal): the prompt happens in the client, which has
 * the terminal.
 */
import type { Socket } from 'node:net';

export type ClientMessage =
  | { t: 'run'; build: string; argv: string[]; cwd: string; env: Record<string, string>; stdin?: string; stdinTTY: boolean }
  | { t: 'passphrase'; bytes?: string; retry?: boolean; error?: { name: string; message: string } }
  | { t: 'status' }
  | { t: 'stop' };

export type AgentMessage =
  | { t: 'out'; data: string }
  | { t: 'err'; data: string }
  | { t: 'exit'; code: number }
  | { t: 'cold' }
  | { t: 'restart' }
  | { t: 'ask'; path: string; attempt: number }
  | { t: 'status'; pid: number; build: string; uptimeSeconds: number; idleExitSeconds: number; stores: string[]; identities: string[] }
  | { t: 'stopped' };

export function send(socket: Socket, message: ClientMessage | AgentMessage): void {
  socket.write(`${JSON.stringify(message)}\n`);
}

/** Calls `onMessage` for each whole line that arrives on `socket`. */
export function onMessages<T>(socket: Socket, onMessage: (message: T) => void): void {
  // Pieces of the line being received: a large output (a listing) arrives in many chunks; each is scanned once.
  let pieces: string[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    let start = 0;
    let end: number;
    while ((end = chunk.indexOf('\n', start)) >= 0) {
      const line = pieces.join('') + chunk.slice(start, end);
      pieces = [];
      start = end + 1;
      if (line !== '') onMessage(JSON.parse(line) as T);
    }
    if (start < chunk.length) pieces.push(chunk.slice(start));
  });
}

/** The build this code belongs to, baked in by scripts/build.mjs; an agent from another build is restarted. */
declare const __SECRETSTORE_BUILD__: string | undefined;
export function buildId(env: NodeJS.ProcessEnv): string {
  // SECRETSTORE_AGENT_BUILD stands for another build in tests of the upgrade restart.
  return env.SECRETSTORE_AGENT_BUILD ?? (typeof __SECRETSTORE_BUILD__ === 'string' ? __SECRETSTORE_BUILD__ : 'dev');
}
