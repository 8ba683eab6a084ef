/**
 * One writer at a time per repository. The lock file also serves as the journal: before a writer
 * touches the work tree it records the paths it is about to change, so whoever finds the lock left
 * by a killed writer knows exactly which paths to bring back in line with HEAD.
 *
 * Every write of the lock file is a whole file put in place by link (create) or rename (update), so
 * a reader never sees a half-written one: an unreadable lock is damage, not a writer mid-way.
 */
import { randomBytes, createHash } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InternalServiceError } from '../errors.js';
import { faultPoint } from './fault.js';

export const LOCK_FILE = 'secretstore.lock';
const DEFAULT_TIMEOUT_MS = 60_000;
/** A takeover is a few synchronous calls; a break marker this old was left by a killed process. */
const BREAK_MARKER_MAX_AGE_MS = 10_000;

export interface LockHolder {
  readonly pid: number;
  readonly startedAt: string;
  /** Repo-relative paths the holder may have changed in the work tree: the journal. */
  readonly paths: readonly string[];
  readonly nonce: string;
  /** Set by a holder that failed to undo its changes: the next writer must recover them. */
  readonly abandoned?: true;
}

/** Brings the journaled paths back in line with HEAD (transaction.ts supplies it). */
export type Recover = (paths: readonly string[]) => Promise<void>;

export interface Lock {
  readonly path: string;
  /** Records the paths about to be changed. Call before touching the work tree. */
  journal(paths: readonly string[]): void;
  /** Leaves the lock (and journal) for the next writer to recover; `release` then does nothing. */
  abandon(): void;
  release(): void;
}

export interface LockState {
  readonly holder: LockHolder | undefined;
  readonly stale: boolean;
}

export function lockPath(gitDir: string): string {
  return join(gitDir, LOCK_FILE);
}

/** The current lock of the repository, if any, and whether its holder is gone. */
export function inspectLock(gitDir: string): LockState | undefined {
  const seen = readLock(lockPath(gitDir));
  return seen && { holder: seen.holder, stale: isStale(seen.holder) };
}

/**
 * Waits for the lock (polling with randomised backoff), taking over a lock whose holder is dead and
 * recovering its journal before returning.
 */
export async function acquireLock(
  gitDir: string,
  recover: Recover,
  opts: { timeoutMs?: number } = {},
): Promise<Lock> {
  const path = lockPath(gitDir);
  const timeoutMs = opts.timeoutMs ?? lockTimeoutFromEnv() ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const me: LockHolder = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    paths: [],
    nonce: randomBytes(8).toString('hex'),
  };
  let delay = 5;
  for (;;) {
    if (create(path, me)) return new FileLock(path, me);
    const seen = readLock(path);
    if (!seen) continue; // released in between: try again at once
    if (isStale(seen.holder)) {
      const inherited = takeOver(path, seen.raw, seen.holder, me);
      if (inherited) return recoverInherited(new FileLock(path, { ...me, paths: inherited }), recover);
    }
    if (Date.now() >= deadline) {
      throw new InternalServiceError(
        `timed out after ${timeoutMs} ms waiting for ${path} held by pid ${seen.holder?.pid ?? 'unknown'}`,
      );
    }
    await sleep(delay / 2 + (Math.random() * delay) / 2);
    delay = Math.min(delay * 2, 50);
  }
}

async function recoverInherited(lock: FileLock, recover: Recover): Promise<Lock> {
  faultPoint('after-takeover');
  try {
    await recover(lock.paths);
  } catch (err) {
    lock.abandon();
    throw err;
  }
  faultPoint('after-recover');
  lock.journal([]);
  return lock;
}

class FileLock implements Lock {
  private abandoned = false;
  constructor(
    readonly path: string,
    private holder: LockHolder,
  ) {}

  get paths(): readonly string[] {
    return this.holder.paths;
  }

  journal(paths: readonly string[]): void {
    this.holder = { ...this.holder, paths: [...paths] };
    replace(this.path, this.holder);
  }

  abandon(): void {
    this.abandoned = true;
    try {
      this.holder = { ...this.holder, abandoned: true };
      replace(this.path, this.holder);
    } catch {
      // Leaving it unmarked only delays recovery until this process exits.
    }
  }

  release(): void {
    if (this.abandoned) return;
    // Never remove a lock that is no longer ours (only possible after a lost takeover race).
    if (readLock(this.path)?.holder?.nonce === this.holder.nonce) rmSync(this.path, { force: true });
  }
}

/** SECRETSTORE_LOCK_TIMEOUT_MS when it is a number of milliseconds: how long a writer waits for a lock. */
export function lockTimeoutFromEnv(): number | undefined {
  const value = Number(process.env.SECRETSTORE_LOCK_TIMEOUT_MS);
  return process.env.SECRETSTORE_LOCK_TIMEOUT_MS && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function serialize(holder: LockHolder): string {
  return `${JSON.stringify(holder)}\n`;
}

/** Creates the lock atomically with its content in place: false if someone holds it. */
function create(path: string, holder: LockHolder): boolean {
  const tmp = `${path}.${holder.nonce}.tmp`;
  writeFileSync(tmp, serialize(holder));
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function replace(path: string, holder: LockHolder): void {
  const tmp = `${path}.${holder.nonce}.tmp`;
  writeFileSync(tmp, serialize(holder));
  renameSync(tmp, path);
}

function readLock(path: string): { raw: string; holder: LockHolder | undefined } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return { raw, holder: parseHolder(raw) };
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockHolder>;
    const valid =
      Number.isSafeInteger(value.pid) &&
      (value.pid as number) > 0 &&
      Array.isArray(value.paths) &&
      value.paths.every((p) => typeof p === 'string');
    return valid ? (value as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function isStale(holder: LockHolder | undefined): boolean {
  if (!holder || holder.abandoned) return true;
  try {
    process.kill(holder.pid, 0);
    return isZombie(holder.pid);
  } catch (err) {
    // EPERM: alive, but someone else's process.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * A killed writer whose parent has not reaped it (a detached agent re-parented to an init that does not
 * reap, as in some containers) still answers kill(pid, 0), but it is dead: Linux says so in /proc.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false; // no /proc (macOS): as before
  }
}

/**
 * Replaces the stale lock whose content is `raw` by ours, inheriting its journal. Of several waiters
 * that found it stale only one gets here: the break marker is named after that exact lock and made
 * with O_EXCL, and the lock itself is swapped by rename, so there is never a moment without a lock
 * in which a newcomer could start writing over the dead writer's half-done changes.
 */
function takeOver(
  path: string,
  raw: string,
  stale: LockHolder | undefined,
  me: LockHolder,
): readonly string[] | undefined {
  const marker = `${path}.break-${createHash('sha1').update(raw).digest('hex').slice(0, 16)}`;
  try {
    writeFileSync(marker, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (ageMs(marker) > BREAK_MARKER_MAX_AGE_MS) rmSync(marker, { force: true });
    return undefined;
  }
  try {
    if (readLock(path)?.raw !== raw) return undefined; // someone else took it over first
    const paths = stale?.paths ?? [];
    replace(path, { ...me, paths });
    return paths;
  } finally {
    rmSync(marker, { force: true });
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
