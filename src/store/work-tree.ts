/**
 * The work tree and the real index of a transaction (see transaction.ts): checking that the paths a plan
 * changes hold no change of the user's, writing the planned files, and bringing journaled paths back to
 * HEAD after a failure or a killed writer.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InternalServiceError, InvalidRequestException } from '../errors.js';
import { treeEntries } from '../git/tree-entries.js';
import { debug } from '../debug.js';
import { faultPoint } from './fault.js';
import { GitCommandError, type Git } from '../git/client.js';
import { readIndexEntries } from '../git/index-file.js';
import { updateIndexPaths } from '../git/index-update.js';
import { lockTimeoutFromEnv } from './lock.js';
import { commitTempPath } from '../git/commit-writer.js';
import { treeSpec, treeWriter } from '../git/tree-writer.js';
import type { FileChange, StoreLocation } from '../model/repository.js';

/** A change with its path made repo-relative. */
export type RepoChange = FileChange;

/**
 * Makes `paths` in the index and work tree match HEAD, whatever HEAD is now (the old commit, or the
 * new one if update-ref had succeeded), and removes our temporary files. Safe because a path is only
 * journaled after it was checked to match HEAD, so no user change can be lost here.
 */
export async function restoreToHead(git: Git, loc: StoreLocation, paths: readonly string[]): Promise<void> {
  // The cached index needs nothing here: no file in it is ever half-written (see `cacheIndex`).
  removeTempIndex(loc);
  rmSync(commitTempPath(loc.gitDir), { force: true });
  for (const path of paths) removeFile(tempFileFor(join(loc.repoRoot, path)));
  if (paths.length === 0) return;
  await waitForIndexLock(loc);
  const head = await resolveHead(git);
  const inHead = head ? splitZ(await git.run(['ls-tree', '-r', '-z', '--name-only', head, '--', ...paths])) : [];
  if (head) await git.run(['reset', '-q', head, '--', ...paths]);
  else await git.run(['update-index', '--force-remove', '--', ...paths]);
  const kept = new Set(inHead);
  for (const path of paths) {
    if (kept.has(path)) continue;
    const file = join(loc.repoRoot, path);
    removeFile(file);
    pruneEmptyDirs(dirname(file), loc.repoRoot);
  }
  if (inHead.length > 0) await git.run(['checkout-index', '-f', '-u', '--', ...inHead]);
}

/**
 * Refuses to touch a path whose index or work tree differs from HEAD, or that exists untracked (or
 * ignored): writing it would mix the user's change into our commit or destroy it on rollback.
 * Returns HEAD (undefined on an unborn branch), read in the same call, for the compare-and-swap; with
 * `base` (the commit a batch builds on, read when it began), the paths are compared with that commit
 * instead of reading HEAD again: should HEAD have moved since, the compare-and-swap fails.
 *
 * Waits first for a git command of the user's that holds `index.lock` (its index is about to change).
 * Then, in the usual case, answers without a git process (`vouchUntouched`): `git status` of even two
 * paths reads and compares the whole index (148 ms at 100,000 secrets here); only when that cannot
 * vouch for every path does git decide, and name what is wrong.
 */
export async function checkUntouched(git: Git, loc: StoreLocation, paths: readonly string[], adopted: ReadonlySet<string> = new Set(), base?: string): Promise<string | undefined> {
  await waitForIndexLock(loc);
  if (adopted.size === 0) {
    const vouched = await vouchUntouched(loc, paths, base);
    if (vouched) return vouched.head;
  }
  return statusCheck(git, paths, adopted);
}

/**
 * `{ head }` when every path is exactly as HEAD has it, in the index and in the work tree, or absent from
 * all three; undefined when git must look. HEAD's ids and modes come from the trees holding the paths
 * (the trees the commit is built from next, so the reads are not wasted), the index's from its file, and
 * the work tree's files are hashed as `git hash-object` would: their bytes, not their stat data, so a
 * file changed within the index's timestamp granularity (racy git) is never taken for clean. A file that
 * only a filter or an attribute makes equal to HEAD hashes differently: git decides then.
 */
async function vouchUntouched(loc: StoreLocation, paths: readonly string[], base?: string): Promise<{ head: string } | undefined> {
  const writer = treeWriter(loc.repoRoot, loc.gitDir);
  const head = base ?? (await writer.head());
  if (head === undefined) return undefined;
  const hashLength = head.length / 2;
  const dirs = [...new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '')))];
  const trees = await writer.reader.readMany(dirs.map((d) => treeSpec(head, d)));
  const committed = new Map<string, { mode: string; oid: string }>();
  for (const [i, dir] of dirs.entries()) {
    const tree = trees[i];
    if (tree === undefined) continue; // a new folder
    if (tree.type !== 'tree') return undefined;
    for (const e of treeEntries(tree.content, hashLength)) committed.set(dir === '' ? e.name : `${dir}/${e.name}`, e);
  }
  const staged = readIndexEntries(join(loc.gitDir, 'index'), paths, hashLength);
  if (staged === undefined) return undefined;
  for (const path of paths) {
    const inHead = committed.get(path);
    const inIndex = staged.get(path);
    const file = join(loc.repoRoot, path);
    if (inHead === undefined) {
      if (inIndex !== undefined || exists(file)) return undefined;
      continue;
    }
    if (inIndex === undefined || inIndex.unusual || inIndex.oid !== inHead.oid || inIndex.mode !== inHead.mode) return undefined;
    if (inHead.mode !== '100644' && inHead.mode !== '100755') return undefined;
    try {
      const stat = lstatSync(file);
      if (!stat.isFile() || ((stat.mode & 0o100) !== 0) !== (inHead.mode === '100755')) return undefined;
      const content = readFileSync(file);
      const hash = createHash(hashLength === 20 ? 'sha1' : 'sha256');
      if (hash.update(`blob ${content.length}\0`).update(content).digest('hex') !== inHead.oid) return undefined;
    } catch {
      return undefined;
    }
  }
  return { head };
}

/** `git status` of the paths: the authority, and the words for what the user has changed. */
async function statusCheck(git: Git, paths: readonly string[], adopted: ReadonlySet<string>): Promise<string | undefined> {
  const out = await git.run([
    'status',
    '--porcelain=v2',
    '-z',
    '--branch',
    '--no-ahead-behind',
    '--untracked-files=all',
    '--ignored=matching',
    '--no-renames',
    '--',
    ...paths,
  ]);
  let head: string | undefined;
  for (const entry of out.split('\0')) {
    if (entry.startsWith('# branch.oid ')) {
      const oid = entry.slice('# branch.oid '.length);
      head = oid === '(initial)' ? undefined : oid;
    }
    if (entry === '' || entry.startsWith('#')) continue;
    // v2 entries: `1 <7 fields> <path>`, `u <9 fields> <path>`, `? <path>`, `! <path>`.
    const fields = entry.split(' ');
    const kind = fields[0];
    const path = (kind === '1' ? fields.slice(8) : kind === 'u' ? fields.slice(10) : fields.slice(1)).join(' ');
    // A tracked file edited by hand (or a conflict resolved by hand), taken over by the plan.
    if ((kind === '1' || kind === '?' || kind === 'u') && adopted.has(path)) continue;
    const why =
      kind === '?'
        ? 'is untracked; commit or delete it first'
        : kind === '!'
          ? 'exists but is ignored by git; move or delete it first'
          : 'has uncommitted changes; commit or discard them first';
    throw new InvalidRequestException(`${path} ${why}`);
  }
  return head;
}

/**
 * The real index learns the new content of exactly `paths` (`git update-index`, under git's own
 * `index.lock`), so `git status` is clean and whatever else the user staged stays as it was. Measured at
 * 100,000 secrets (37 MB index): paths as arguments or on `--stdin` cost the same (86-92 ms, a read and a
 * write of the index); `--index-info` more (270-300 ms: its entries carry no stat data); `core.splitIndex`
 * no less (the 10 MB cache-tree stays in the split part, and reads got slower). A user's git command
 * holding `index.lock` is waited for, as before the commit.
 */
export async function updateIndex(loc: StoreLocation, paths: readonly string[]): Promise<void> {
  for (;;) {
    try {
      await updateIndexPaths(loc.repoRoot, paths);
      return;
    } catch (err) {
      if (!(err instanceof GitCommandError && /index\.lock/.test(err.stderr) && /File exists/i.test(err.stderr))) throw err;
      await waitForIndexLock(loc);
    }
  }
}

/** How long a user's hold of `index.lock` is waited for: SECRETSTORE_LOCK_TIMEOUT_MS, else 10 s. */
const INDEX_LOCK_TIMEOUT_MS = 10_000;

/**
 * Returns once no git command holds the index (`<git dir>/index.lock` absent), polling with backoff;
 * throws when it stays held past the time-out (a git commit waiting for its editor, or a lock left by
 * a killed git, which git itself asks the user to remove).
 */
async function waitForIndexLock(loc: StoreLocation): Promise<void> {
  const lockFile = join(loc.gitDir, 'index.lock');
  if (!exists(lockFile)) return;
  const timeoutMs = lockTimeoutFromEnv() ?? INDEX_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  debug(`waiting for ${lockFile} (held by another git command)`);
  for (let delay = 5; exists(lockFile); delay = Math.min(delay * 2, 100)) {
    if (Date.now() >= deadline) {
      throw new InternalServiceError(
        `${lockFile} was held by another git command for ${timeoutMs} ms (if no git command is running, a killed one left it: remove it); try again`,
      );
    }
    await sleep(delay);
  }
}

/**
 * Whether `change` leaves its path as it is: as `current` (a change made earlier in the batch and not
 * written yet) has it, or else as the work tree holds it.
 */
export function isNoop(repoRoot: string, change: RepoChange, current?: RepoChange): boolean {
  if (current !== undefined) {
    if ('delete' in change || 'delete' in current) return 'delete' in change && 'delete' in current;
    return Buffer.from(change.content).equals(Buffer.from(current.content)) && (change.executable ?? false) === (current.executable ?? false);
  }
  const file = join(repoRoot, change.path);
  if ('delete' in change) return !exists(file);
  try {
    const current = readFileSync(file);
    const next = typeof change.content === 'string' ? Buffer.from(change.content) : change.content;
    const executable = (lstatSync(file).mode & 0o100) !== 0;
    return current.equals(next) && (change.executable ?? false) === executable;
  } catch {
    return false;
  }
}

/**
 * A file that exists goes in whole (temp file, then rename), so a kill never leaves it half-written; a new
 * one is written in place (nothing names it before the commit, and recovery removes it with the journal).
 * Whether it exists is asked first: a create refused because the file exists costs as much as one made
 * (up to 1 ms on a busy disk here), a stat a hundredth of that.
 */
export function writeWorkTree(repoRoot: string, changes: readonly RepoChange[]): void {
  changes.forEach((change, i) => {
    const file = join(repoRoot, change.path);
    if ('delete' in change) {
      removeFile(file);
      pruneEmptyDirs(dirname(file), repoRoot);
    } else {
      const mode = change.executable ? 0o777 : 0o666; // less the umask, as git checks out
      if (exists(file) || !writeNew(file, change.content, mode)) {
        const tmp = tempFileFor(file);
        writeFileSync(tmp, change.content, { mode });
        faultPoint(`after-temp-${i + 1}`);
        renameSync(tmp, file);
      } else faultPoint(`after-temp-${i + 1}`);
    }
    faultPoint(`after-write-${i + 1}`);
  });
}

async function resolveHead(git: Git): Promise<string | undefined> {
  try {
    return (await git.run(['rev-parse', '-q', '--verify', 'HEAD'])).trim();
  } catch (err) {
    // -q --verify: exit 1 and silence when HEAD names no commit yet (unborn branch).
    if (err instanceof GitCommandError && err.exitCode === 1 && err.stderr.trim() === '') return undefined;
    throw err;
  }
}

function tempIndexPath(loc: StoreLocation): string {
  return join(loc.gitDir, 'secretstore-index.tmp');
}

function removeTempIndex(loc: StoreLocation): void {
  const index = tempIndexPath(loc);
  rmSync(index, { force: true });
  rmSync(`${index}.lock`, { force: true });
}

/** Writes `file` if it does not exist yet (making its folder if needed); false when it exists. */
function writeNew(file: string, content: string | Uint8Array, mode: number): boolean {
  const create = () => writeFileSync(file, content, { mode, flag: 'wx' });
  try {
    create();
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A new folder: made only then (a recursive mkdir of an existing folder is a failing system call per level).
    if (code !== 'ENOENT') throw err;
    mkdirSync(dirname(file), { recursive: true });
    create();
    return true;
  }
}

/** Fixed per path (one writer at a time), so recovery knows what to clean up. */
function tempFileFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.secretstore-tmp`);
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A folder where a file was planned is git's to explain, not ours to delete.
    if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'ENOTDIR') throw err;
  }
}

/** Removes folders a deletion left empty, up to (not including) the repository's top level. */
function pruneEmptyDirs(dir: string, stop: string): void {
  for (; dir.startsWith(stop + sep); dir = dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}

function splitZ(out: string): string[] {
  return out.split('\0').filter((s) => s !== '');
}
