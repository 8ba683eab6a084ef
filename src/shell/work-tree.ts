/**
 * The work tree and the real index of a transaction (see transaction.ts): checking that the paths a plan
 * changes hold no change of the user's, writing the planned files, and bringing journaled paths back to
 * HEAD after a failure or a killed writer.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import { faultPoint } from './fault.js';
import { GitCommandError, type Git } from './git.js';
import { commitTempPath } from './commit-writer.js';
import type { FileChange, StoreLocation } from './types.js';

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
 * Returns HEAD (undefined on an unborn branch), read in the same call, for the compare-and-swap.
 */
export async function checkUntouched(git: Git, paths: readonly string[], adopted: ReadonlySet<string> = new Set()): Promise<string | undefined> {
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

export function isNoop(repoRoot: string, change: RepoChange): boolean {
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

/** Each file goes in whole (temp file, then rename) so a kill never leaves one half-written. */
export function writeWorkTree(repoRoot: string, changes: readonly RepoChange[]): void {
  changes.forEach((change, i) => {
    const file = join(repoRoot, change.path);
    if ('delete' in change) {
      removeFile(file);
      pruneEmptyDirs(dirname(file), repoRoot);
    } else {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = tempFileFor(file);
      writeFileSync(tmp, change.content, { mode: change.executable ? 0o777 : 0o666 }); // less the umask, as git checks out
      faultPoint(`after-temp-${i + 1}`);
      renameSync(tmp, file);
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
