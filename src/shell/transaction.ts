/**
 * A mutating operation as exactly one git commit holding only its files, or nothing at all.
 *
 * The commit is built with plumbing in a temporary index, so whatever the user has staged stays
 * staged and out of it; HEAD moves by compare-and-swap. Anything that goes wrong between touching the
 * work tree and moving HEAD is undone by making the journaled paths match HEAD again, and the same
 * repair runs when a later command finds the lock of a killed process: either way the repository
 * holds the old state or the new one.
 *
 * Filling the temporary index from HEAD with `read-tree` reads every tree of the repository (over
 * 100 ms at 10,000 secrets), so the index each commit was built in is kept as the cached index of
 * that commit (see `cacheIndex`) and the next commit starts from a copy of it (see `copyCachedIndex`).
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { InternalServiceError, InvalidParameterException, InvalidRequestException } from '../errors.js';
import { faultPoint } from './fault.js';
import { GitCommandError, openGit, type Git, type GitRunOptions } from './git.js';
import { acquireLock, inspectLock } from './lock.js';
import { refuseSymlinks } from './symlinks.js';
import type { CommitSigner, FileChange, Plan, StoreLocation } from './types.js';

/** A change with its path made repo-relative. */
type RepoChange = FileChange;

export interface TransactOptions {
  /**
   * Store paths whose uncommitted edits the plan takes over instead of refusing them (`secretstore sign`
   * commits hand edits, signed). On failure they are brought back to HEAD like every journaled path, so
   * the caller keeps their edited text to write back.
   */
  readonly adopt?: readonly string[];
  /** Signs the new commit: gives its final message from its tree, parents and message. */
  readonly sign?: CommitSigner;
  /** Told the new commit's id once HEAD has moved to it (trust records it as authenticated). */
  readonly committed?: (commit: string) => void;
}

export async function transact<T>(loc: StoreLocation, work: () => Promise<Plan<T>>, opts: TransactOptions = {}): Promise<T> {
  const git = openGit(loc.repoRoot);
  const lock = await acquireLock(loc.gitDir, (paths) => restoreToHead(git, loc, paths));
  try {
    faultPoint('after-lock');
    const plan = await work();
    const planned = plan.changes.map((c) => toRepoChange(loc, c));
    const merging = plan.parents !== undefined && plan.parents.length > 0;
    if (planned.length === 0 && plan.commit === undefined && !merging) return plan.result;
    const paths = planned.map((c) => c.path);
    // Before anything reads or writes these paths: never through a link (issue 13.3).
    refuseSymlinks(loc.repoRoot, paths);
    const adopted = new Set((opts.adopt ?? []).map((p) => `${loc.prefix}${p}`));
    const head = paths.length > 0 ? await checkUntouched(git, paths, adopted) : await resolveHead(git);
    // Rewriting a file with the bytes it already has is not a change: no empty commits.
    // (An adopted path differs from HEAD whatever the work tree holds: it is always a change.)
    const changes = planned.filter((c) => adopted.has(c.path) || !isNoop(loc.repoRoot, c));
    if (changes.length === 0 && plan.commit === undefined && !merging) return plan.result;

    const journaled = changes.map((c) => c.path);
    lock.journal(journaled);
    faultPoint('after-journal');
    let commit: string;
    try {
      writeWorkTree(loc.repoRoot, changes);
      commit = await commitChanges(git, loc, journaled, head, plan.message, plan.commit, opts.sign, plan.parents);
    } catch (err) {
      await repairOrAbandon(git, loc, journaled, lock, err);
      throw err;
    }
    opts.committed?.(commit);
    try {
      // The real index learns the new content of exactly these paths, so `git status` is clean
      // and whatever else the user staged is left as it was.
      if (journaled.length > 0) await git.run(['update-index', '--add', '--remove', '--', ...journaled]);
      faultPoint('after-index');
    } catch (err) {
      // The commit has landed, so the operation succeeded: only the index is behind.
      await repairOrAbandon(git, loc, journaled, lock, err, commit);
    }
    removeTempIndex(loc);
    faultPoint('before-unlock');
    return plan.result;
  } finally {
    lock.release();
  }
}

/**
 * Recovers the journal of a killed writer, if one left its lock behind. A reader can call it first
 * so it never sees half-written files; it waits only if a live writer holds the lock.
 */
export async function recoverStale(loc: StoreLocation): Promise<boolean> {
  if (!inspectLock(loc.gitDir)?.stale) return false;
  await transact(loc, async () => ({ result: undefined, changes: [], message: '' }));
  return true;
}

/**
 * Makes `paths` in the index and work tree match HEAD, whatever HEAD is now (the old commit, or the
 * new one if update-ref had succeeded), and removes our temporary files. Safe because a path is only
 * journaled after it was checked to match HEAD, so no user change can be lost here.
 */
export async function restoreToHead(git: Git, loc: StoreLocation, paths: readonly string[]): Promise<void> {
  // The cached index needs nothing here: no file in it is ever half-written (see `cacheIndex`).
  removeTempIndex(loc);
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

async function repairOrAbandon(
  git: Git,
  loc: StoreLocation,
  paths: readonly string[],
  lock: { abandon(): void },
  cause: unknown,
  committed?: string,
): Promise<void> {
  try {
    await restoreToHead(git, loc, paths);
  } catch (repairError) {
    // Keep the journal so the next command repairs what we could not.
    lock.abandon();
    const landed = committed ? `commit ${committed} landed but ` : '';
    const error = new InternalServiceError(
      `${landed}${describe(cause)}; restoring ${paths.length} path(s) to HEAD also failed (${describe(repairError)}); the next secretstore command will retry`,
    );
    throw Object.assign(error, { cause });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toRepoChange(loc: StoreLocation, change: FileChange): RepoChange {
  const { path } = change;
  const segments = path.split('/');
  if (/[\0\\]/.test(path) || segments.some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git')) {
    throw new InvalidParameterException(`invalid store path ${JSON.stringify(path)}`);
  }
  return { ...change, path: loc.prefix + path };
}

/**
 * Refuses to touch a path whose index or work tree differs from HEAD, or that exists untracked (or
 * ignored): writing it would mix the user's change into our commit or destroy it on rollback.
 * Returns HEAD (undefined on an unborn branch), read in the same call, for the compare-and-swap.
 */
async function checkUntouched(git: Git, paths: readonly string[], adopted: ReadonlySet<string> = new Set()): Promise<string | undefined> {
  if (new Set(paths).size !== paths.length) {
    throw new InvalidParameterException('a plan changes the same path twice');
  }
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

function isNoop(repoRoot: string, change: RepoChange): boolean {
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
function writeWorkTree(repoRoot: string, changes: readonly RepoChange[]): void {
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

async function commitChanges(
  git: Git,
  loc: StoreLocation,
  paths: readonly string[],
  head: string | undefined,
  message: string,
  existing?: string,
  sign?: CommitSigner,
  merged: readonly string[] = [],
): Promise<string> {
  removeTempIndex(loc); // a killed git may have left it (or its .lock) behind
  const temp = { env: { GIT_INDEX_FILE: tempIndexPath(loc) } };
  const cached = head !== undefined && (await copyCachedIndex(git, loc, head));
  if (!cached) await git.run(head ? ['read-tree', head] : ['read-tree', '--empty'], temp);
  faultPoint('after-base-index');
  let tree: string;
  try {
    tree = await stageAndWriteTree(git, paths, temp);
  } catch (err) {
    if (!cached || head === undefined) throw err;
    // A cached index that passed our checks but not git's (an extension this git requires and
    // cannot read, a split index whose shared part is gone): it is only a shortcut, so drop it and
    // take the long way once. A failure that has nothing to do with the cache simply happens again.
    rmSync(cachedIndexPath(loc, head), { force: true });
    removeTempIndex(loc);
    await git.run(['read-tree', head], temp);
    tree = await stageAndWriteTree(git, paths, temp);
  }
  const parents = head ? [head, ...merged] : [];
  const commit = existing ?? (await git.commitTree(tree, parents, sign ? await sign({ tree, parents, message }) : message));
  if (existing !== undefined && (await git.run(['rev-parse', '--verify', '-q', `${existing}^{tree}`])).trim() !== tree) {
    throw new InternalServiceError(`the changes do not turn HEAD into commit ${existing}; nothing was committed`);
  }
  faultPoint('after-commit-tree');
  const expected = head ?? '0'.repeat(commit.length); // all zeros: "must not exist yet"
  const reflog = `secretstore: ${message.split('\n', 1)[0]}`;
  try {
    await git.run(['update-ref', '-m', reflog, 'HEAD', commit, expected]);
  } catch (err) {
    if (err instanceof GitCommandError && /but expected|already exists/.test(err.stderr)) {
      throw new InternalServiceError('HEAD moved while secretstore was committing; nothing was committed, try again');
    }
    throw err;
  }
  faultPoint('after-update-ref');
  cacheIndex(loc, commit);
  return commit;
}

/** The planned paths into the temporary index, then its tree (which also completes its cache-tree). */
async function stageAndWriteTree(git: Git, paths: readonly string[], temp: GitRunOptions): Promise<string> {
  await git.run(['update-index', '--add', '--remove', '--', ...paths], temp);
  faultPoint('after-update-index');
  const tree = (await git.run(['write-tree'], temp)).trim();
  faultPoint('after-write-tree');
  return tree;
}

/*
 * The cached index.
 *
 * `<gitDir>/secretstore-cache/<commit>.index` is an index holding exactly the tree of <commit>, with
 * a fully valid cache-tree: the temporary index of the transaction that made <commit>, after
 * `write-tree` computed <commit>'s tree from it (and wrote the cache-tree back). Copied into the
 * temporary index it replaces `read-tree HEAD`, and `write-tree` then only recomputes the trees that
 * `update-index` invalidated: the folders on the way to the planned paths.
 *
 * Why it can be trusted:
 * - It is put in place by rename, only after update-ref made <commit> HEAD, from the very file its
 *   tree was written from, so a kill leaves either no file for <commit> or the whole one (a kill
 *   before the rename leaves the temporary index, which recovery and the next commit delete). A
 *   commit's tree never changes, so a file named after a commit cannot go stale: when HEAD moves
 *   (a user's commit, pull or reset) no file has its name and `read-tree` runs as before.
 * - It is still checked before use, because it lives on across commands and a wrong one would be
 *   committed silently: its own trailing checksum (damage, truncation) and the tree its cache-tree
 *   records for the top level, against what git says HEAD's tree is (a file that holds some other
 *   tree, however it got that name). That is one `rev-parse` of a few ms, started before the file is
 *   read so the two overlap. A file that fails is deleted and `read-tree` runs instead.
 * - Recovery needs to do nothing about it: there is never a half-written file under a commit's name,
 *   and any file that is not the cached index of HEAD is never read and is deleted by the next commit.
 * - Only one writer at a time reads or changes the folder: the lock is held throughout.
 */

function cacheDir(loc: StoreLocation): string {
  return join(loc.gitDir, 'secretstore-cache');
}

function cachedIndexPath(loc: StoreLocation, commit: string): string {
  return join(cacheDir(loc), `${commit}.index`);
}

/** Fills the temporary index from the cached index of `head`, if there is a sound one. */
async function copyCachedIndex(git: Git, loc: StoreLocation, head: string): Promise<boolean> {
  const file = cachedIndexPath(loc, head);
  if (!exists(file)) return false;
  const headTree = git.run(['rev-parse', '--verify', '-q', `${head}^{tree}`]).then(
    (out) => out.trim(),
    () => undefined,
  );
  let bytes: Buffer | undefined;
  let mtimeSeconds = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      mtimeSeconds = Math.floor(fstatSync(fd).mtimeMs / 1000);
      bytes = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    bytes = undefined;
  }
  const recorded = bytes && indexTree(bytes, head.length / 2);
  if (!bytes || !recorded || recorded !== (await headTree)) {
    rmSync(file, { force: true });
    return false;
  }
  const temp = tempIndexPath(loc);
  writeFileSync(temp, bytes);
  // Git's racy-clean check compares entries' mtimes with the index file's: a copy dated now would make
  // a file rewritten in the same second as its entry, at the same size and inode, look unchanged to
  // `update-index`. Dated like the original (rounded down, which only makes git check more), the copy
  // is exactly as trustworthy as the original.
  utimesSync(temp, mtimeSeconds, mtimeSeconds);
  return true;
}

/**
 * Files the temporary index, which now holds exactly the tree of `commit`, as the cached index of
 * `commit`, and deletes all others. Only an accelerator: if it fails, the next commit runs read-tree.
 */
function cacheIndex(loc: StoreLocation, commit: string): void {
  const dir = cacheDir(loc);
  const keep = `${commit}.index`;
  try {
    mkdirSync(dir, { recursive: true });
    renameSync(tempIndexPath(loc), join(dir, keep));
    faultPoint('after-cache-rename');
    for (const name of readdirSync(dir)) {
      if (name !== keep) rmSync(join(dir, name), { recursive: true, force: true });
    }
  } catch {
    return;
  }
  faultPoint('after-cache-prune');
}

/**
 * The top-level tree an index file's cache-tree records, if the file is whole (its checksum holds)
 * and that record is valid and covers every entry; undefined otherwise. Reads index versions 2-4
 * (gitformat-index(5)); `hashLength` is the repository's: 20 (SHA-1) or 32 (SHA-256).
 */
function indexTree(bytes: Buffer, hashLength: number): string | undefined {
  const end = bytes.length - hashLength;
  if (end < 12 || bytes.toString('latin1', 0, 4) !== 'DIRC') return undefined;
  const trailer = bytes.subarray(end);
  // An all-zero trailer is git's own "no checksum" (index.skipHash): git does not check it either.
  if (trailer.some((b) => b !== 0)) {
    const sum = createHash(hashLength === 32 ? 'sha256' : 'sha1').update(bytes.subarray(0, end)).digest();
    if (!sum.equals(trailer)) return undefined;
  }
  const version = bytes.readUInt32BE(4);
  const count = bytes.readUInt32BE(8);
  if (version < 2 || version > 4) return undefined;
  const fixed = 40 + hashLength + 2; // stat data, object name, flags
  let pos = 12;
  for (let i = 0; i < count; i++) {
    if (pos + fixed > end) return undefined;
    const extended = version >= 3 && (bytes.readUInt16BE(pos + fixed - 2) & 0x4000) !== 0;
    let name = pos + fixed + (extended ? 2 : 0);
    if (version === 4) {
      // The path is the previous one cut by a varint, then a NUL-terminated suffix, without padding.
      while (name < end && (bytes[name] ?? 0) & 0x80) name++;
      name++;
    }
    const nul = bytes.indexOf(0, name);
    if (nul < 0 || nul >= end) return undefined;
    // v2/v3 entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
    pos = version === 4 ? nul + 1 : pos + ((nul - pos + 8) & ~7);
  }
  while (pos + 8 <= end) {
    const signature = bytes.toString('latin1', pos, pos + 4);
    const size = bytes.readUInt32BE(pos + 4);
    const data = pos + 8;
    if (data + size > end) return undefined;
    if (signature === 'TREE') {
      // The first record is the top level: an empty path, "<entries> <subtrees>\n", the tree's name.
      const newline = bytes.indexOf(0x0a, data);
      if (bytes[data] !== 0 || newline < 0 || newline + 1 + hashLength > data + size) return undefined;
      const [entries] = bytes.toString('latin1', data + 1, newline).split(' ');
      if (Number(entries) !== count) return undefined; // -1: invalidated
      return bytes.toString('hex', newline + 1, newline + 1 + hashLength);
    }
    pos = data + size;
  }
  return undefined;
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
