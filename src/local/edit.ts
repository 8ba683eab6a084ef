/**
 * The process side of `secretstore edit`: a private temporary file for the value and the editor that runs
 * on it. The file is mode 0600 inside a fresh 0700 folder made by mkdtemp, in memory-backed storage when
 * the system has some ($XDG_RUNTIME_DIR, else /dev/shm, else the temp folder), and the folder is removed on
 * every way out: success, errors, the editor failing or being killed, and SIGINT/SIGTERM/SIGHUP sent to
 * secretstore. The value goes to the editor only through that file, never through its argv or environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants as fsConstants, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidRequestException } from '../errors.js';

/** Signals that end an edit: the folder is removed and secretstore exits with 128 + the signal number. */
export const EDIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Where the private folder goes: $XDG_RUNTIME_DIR if it is a folder, else /dev/shm if writable, else tmpdir(). */
export function privateTempRoot(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime) {
    try {
      if (statSync(runtime).isDirectory()) return runtime;
    } catch {
      // not there: fall through
    }
  }
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', fsConstants.W_OK | fsConstants.X_OK);
      return '/dev/shm';
    }
  } catch {
    // no /dev/shm, or not writable
  }
  return tmpdir();
}

const EDIT_PREFIX = 'secretstore-edit-';
/** Folders of versions before the PID was in the name: removed once this old (no editor session lasts so long). */
const LEGACY_STALE_MS = 24 * 60 * 60 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A SIGKILLed edit cannot remove its folder, so the plaintext would stay in memory-backed storage until
 * reboot. Each edit first removes, in every folder an edit may use, the edit folders owned by this user
 * whose process is gone (and those of older versions, without a PID, untouched for a day). Returns the
 * folders removed. Cheap: one readdir and an lstat per leftover.
 */
export function removeStaleEditFolders(env: NodeJS.ProcessEnv): string[] {
  const uid = process.getuid?.();
  const roots = new Set([privateTempRoot(env), '/dev/shm', tmpdir()]);
  const removed: string[] = [];
  for (const root of roots) {
    let names: string[];
    try {
      names = readdirSync(root).filter((n) => n.startsWith(EDIT_PREFIX));
    } catch {
      continue;
    }
    for (const name of names) {
      const dir = join(root, name);
      const st = lstatSync(dir, { throwIfNoEntry: false });
      if (st === undefined || !st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      const pid = /^secretstore-edit-(\d+)-[^-]+$/.exec(name)?.[1];
      const stale = pid !== undefined ? !processAlive(Number(pid)) : Date.now() - st.mtimeMs > LEGACY_STALE_MS;
      if (!stale) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/** $VISUAL, else $EDITOR, else vi (an empty variable counts as unset). */
export function editorCommand(env: NodeJS.ProcessEnv): string {
  return env.VISUAL || env.EDITOR || 'vi';
}

/** What the caller decides after each editor run that exited 0. */
export type Verdict = { readonly accept: string } | 'again';

export interface EditOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** A shell command line: run as `/bin/sh -c '<editor> "$1"' sh <file>`, so `code --wait` works. */
  readonly editor: string;
  /** The file's name inside the private folder (its extension lets editors pick a syntax). */
  readonly fileName: string;
  /**
   * The editor shares secretstore's terminal: a Ctrl-C there reaches both processes, and is the editor's
   * to handle (vi uses it), so SIGINT is ignored while the editor runs, as git does.
   */
  readonly interactive: boolean;
  /** Looks at the file's text after each successful editor run: accept a value, or re-open the editor. */
  readonly check: (text: string) => Promise<Verdict>;
}

export type EditOutcome =
  | { readonly kind: 'done'; readonly value: string }
  /** secretstore got a signal: the folder is gone; exit with `exitCode` (128 + the signal number). */
  | { readonly kind: 'interrupted'; readonly signal: NodeJS.Signals; readonly exitCode: number };

/**
 * Writes `initial` to a private file, runs the editor on it until `check` accepts the text, and removes
 * the folder before returning or throwing. Editor failures throw InvalidRequestException (nothing saved).
 */
export async function editInPrivateFile(initial: string, options: EditOptions): Promise<EditOutcome> {
  removeStaleEditFolders(options.env);
  // The PID in the name lets a later edit tell a folder whose process is gone (SIGKILL: no handler ran).
  const dir = mkdtempSync(join(privateTempRoot(options.env), `${EDIT_PREFIX}${process.pid}-`));
  let child: ChildProcess | undefined;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    rmSync(dir, { recursive: true, force: true });
  };
  let interrupt!: (outcome: EditOutcome) => void;
  const interrupted = new Promise<EditOutcome>((resolve) => (interrupt = resolve));
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of EDIT_SIGNALS) {
    const handler = () => {
      const editorRunning = child !== undefined && child.exitCode === null && child.signalCode === null;
      if (signal === 'SIGINT' && editorRunning && options.interactive) return;
      remove(); // first, synchronously: whatever happens next, the value is off the disk
      if (editorRunning) stopEditor(child!, signal, options.interactive); // it would edit a deleted file
      interrupt({ kind: 'interrupted', signal, exitCode: 128 + ((osConstants.signals as Record<string, number | undefined>)[signal] ?? 0) });
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  try {
    chmodSync(dir, 0o700); // mkdtemp makes it 0700; said again in case of an odd platform
    const file = join(dir, options.fileName);
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, initial);
    } finally {
      closeSync(fd);
    }
    for (;;) {
      const run = runEditor(options, file, (c) => (child = c));
      const ended = await Promise.race([run, interrupted]);
      if ('kind' in ended) return ended;
      child = undefined;
      if (ended.error) throw new InvalidRequestException(`could not start the editor (/bin/sh): ${ended.error}; nothing was saved`);
      if (ended.signal !== null) throw new InvalidRequestException(`the editor (${options.editor}) was killed by ${ended.signal}; nothing was saved`);
      if (ended.code !== 0) {
        // Through /bin/sh, an editor killed by a signal shows as status 128 + the signal number.
        const killedBy = ended.code !== null && ended.code > 128 ? signalName(ended.code - 128) : undefined;
        const how = killedBy ? `was killed by ${killedBy} (status ${ended.code})` : `exited with status ${ended.code}`;
        throw new InvalidRequestException(`the editor (${options.editor}) ${how}; nothing was saved`);
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new InvalidRequestException(`the edited file could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); nothing was saved`);
      }
      const verdict = await Promise.race([options.check(text), interrupted]);
      if (typeof verdict === 'object' && 'kind' in verdict) return verdict;
      if (verdict !== 'again') return { kind: 'done', value: verdict.accept };
    }
  } finally {
    remove();
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

interface EditorExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: string;
}

function runEditor(options: EditOptions, file: string, started: (child: ChildProcess) => void): Promise<EditorExit> {
  return new Promise((resolve) => {
    // The command line is the user's ($EDITOR may hold arguments); the file path is passed as $1, quoted.
    // Off a terminal the editor gets a process group of its own, so a signal reaches it and not only the
    // shell that runs it; on a terminal it must stay in the foreground group to use the terminal.
    const child = spawn('/bin/sh', ['-c', `${options.editor} "$1"`, 'sh', file], {
      stdio: 'inherit',
      env: options.env,
      cwd: options.cwd,
      detached: !options.interactive,
    });
    started(child);
    child.once('error', (err) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, error: err.message });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function signalName(n: number): string | undefined {
  return Object.entries(osConstants.signals).find(([, number]) => number === n)?.[0];
}

/** Passes `signal` on to the editor: to its whole process group when it has one of its own (off a terminal). */
function stopEditor(child: ChildProcess, signal: NodeJS.Signals, interactive: boolean): void {
  try {
    if (!interactive && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}
