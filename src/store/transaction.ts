/**
 * A mutating operation as exactly one git commit holding only its files, or nothing at all.
 *
 * How atomicity is kept: the commit is built from its parent's trees (see tree-writer.ts: only the
 * changed blobs and the trees on their paths are written, no index is involved), so whatever the user
 * has staged stays staged and out of it, and HEAD moves by compare-and-swap (`update-ref <new> <old>`).
 * Before touching the work tree a writer journals the paths it is about to change in its lock; anything
 * that goes wrong before HEAD moves is undone by making those paths match HEAD again, and the same repair
 * runs when a later command finds the lock of a killed process: either way the repository holds the old
 * state or the new one. Objects written for a commit that never lands are unreachable and invisible.
 * The real index learns the new content of exactly the changed paths (`update-index`, which takes git's
 * own `index.lock`, so it never races the user's git commands; see work-tree.ts, which also checks the
 * paths against HEAD without a git process where it can) while HEAD moves; should HEAD not move, the
 * repair resets those index entries with the files.
 *
 * Transactions of one Node process on one repository queue in process instead of polling the lock
 * file. Consecutive ones that allow it (`TransactOptions.batch`) run under one hold of the lock: each
 * computes its plan on the previous one's commit and becomes its own commit, whose parent is that one,
 * and one `update-ref` moves HEAD over all of them (with one `update-index`). A kill before that update
 * leaves none of them, as for a single transaction. A plan does not wait for git to write the previous
 * commit of its batch: it reads it through the objects the batch made. Where git takes the blobs from
 * their bytes (fast-import), the batch's files reach the work tree, and its paths the journal, only
 * as it lands: one write per path and one journal per batch instead of per commit.
 */
import { InternalServiceError, InvalidParameterException } from '../errors.js';
import { faultPoint } from './fault.js';
import { GitCommandError, openGit, type Git } from '../git/client.js';
import { acquireLock, inspectLock, type Lock } from './lock.js';
import type { GitObject, Unwritten } from '../git/objects.js';
import { objectId } from '../git/object-id.js';
import { refUpdater } from '../git/ref-updater.js';
import { treeWriter, type TreeChange, type TreeWriter } from '../git/tree-writer.js';
import { refuseSymlinks } from './symlinks.js';
import type { CommitDraft, CommitSigner, FileChange, Plan, StoreLocation } from '../model/repository.js';
import { checkUntouched, isNoop, restoreToHead, updateIndex, writeWorkTree, type RepoChange } from './work-tree.js';

export interface TransactOptions {
  /**
   * Store paths whose uncommitted edits the plan takes over instead of refusing them (`secretstore sign`
   * commits hand edits, signed). On failure they are brought back to HEAD like every journaled path, so
   * the caller keeps their edited text to write back.
   */
  readonly adopt?: readonly string[];
  /** Signs the new commit: gives its final message from its tree, parents and message. */
  readonly sign?: CommitSigner;
  /**
   * Lets this transaction share a hold of the lock with others of this process (see the header): its
   * plan must be computed from `base`, never from what `HEAD` names (HEAD moves only after the last
   * commit of the batch) nor from the work tree (which may learn the batch's files only as it lands).
   * Not for plans that bring an existing commit.
   */
  readonly batch?: boolean;
  /**
   * Called with the new commit's id once HEAD has moved to it (or past it, in a batch) and before the
   * transaction resolves: where a caller records what it committed. Not called when nothing is committed.
   * `head` is where HEAD moved: this commit, or in a batch the last one's (a record of the branch's
   * head need only be written for that one).
   */
  readonly committed?: (commit: string, head: string) => void | Promise<void>;
  /**
   * Called as soon as the commit object is made (before HEAD moves, and whether or not it lands) with
   * objects of it under their names (`<commit>:<path>` trees, blobs by id), each checked to be exactly
   * what git holds or will hold, and `unwritten`, which says when git has them all: a caller reading that
   * commit next (the next plan of a batch, while git still writes this one) must take them from there
   * until then (ObjectReader.prime and expect).
   */
  readonly made?: (commit: string, objects: readonly { readonly spec: string; readonly obj: GitObject }[], unwritten: Unwritten) => void;
}

/** What the plan of a transaction is computed against. */
export interface TransactBase {
  /**
   * The commit the new commit will have as its parent (undefined on an unborn branch): HEAD, or in a
   * batch the previous transaction's commit. Reads for the plan should name it rather than `HEAD`.
   */
  readonly commit: string | undefined;
  /** True when `commit` is the previous transaction's of this batch: made in this process, HEAD not moved to it yet. */
  readonly unlanded: boolean;
}

interface Job {
  readonly loc: StoreLocation;
  readonly work: (base: TransactBase) => Promise<Plan<unknown>>;
  readonly opts: TransactOptions;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** At most this many transactions share one hold of the lock, so a waiting one is never starved. */
const MAX_BATCH = 64;

/** Per git directory: the transactions of this process waiting for it, and whether one is running. */
const queues = new Map<string, { jobs: Job[]; running: boolean }>();

export function transact<T>(loc: StoreLocation, work: (base: TransactBase) => Promise<Plan<T>>, opts: TransactOptions = {}): Promise<T> {
  let queue = queues.get(loc.gitDir);
  if (!queue) {
    queue = { jobs: [], running: false };
    queues.set(loc.gitDir, queue);
  }
  const q = queue;
  return new Promise<T>((resolve, reject) => {
    q.jobs.push({ loc, work, opts, resolve: resolve as (value: unknown) => void, reject });
    if (!q.running) void drain(loc.gitDir, q);
  });
}

async function drain(gitDir: string, q: { jobs: Job[]; running: boolean }): Promise<void> {
  q.running = true;
  try {
    while (q.jobs.length > 0) {
      const first = q.jobs[0]!;
      try {
        await runBatch(q.jobs);
      } catch (err) {
        // Whatever escaped a batch belongs to the job it was running; the queue goes on.
        if (q.jobs[0] === first) q.jobs.shift();
        first.reject(err);
      }
    }
  } finally {
    q.running = false;
    if (q.jobs.length === 0) queues.delete(gitDir);
  }
}

/** A transaction whose commit is made but HEAD not yet moved to it. */
interface Landing {
  readonly job: Job;
  readonly result: unknown;
  readonly commit: string;
  readonly message: string;
}

/**
 * Takes the lock and runs the first queued job, then, while the lock is held, each following job that
 * allows batching; then moves HEAD once. Jobs are taken off `jobs` as they start; a job that fails
 * alone (its work throws, it would touch a user's change) is rejected without ending the batch.
 */
async function runBatch(jobs: Job[]): Promise<void> {
  const first = jobs[0]!;
  const { loc } = first;
  const git = openGit(loc.repoRoot);
  let lock: Lock;
  try {
    lock = await acquireLock(loc.gitDir, (paths) => restoreToHead(git, loc, paths));
  } catch (err) {
    jobs.shift();
    first.reject(err);
    return;
  }
  const state: BatchState = {
    git,
    loc,
    lock,
    head: undefined,
    tip: undefined,
    written: new Set(),
    journaled: 0,
    unwritten: new Map(),
    indexedEarly: new Set(),
    landings: [],
  };
  // Callers hear their outcome only once the lock is released, so a resolved transaction has left nothing behind.
  const settlements: (() => void)[] = [];
  const deferred = (job: Job): Job => ({
    ...job,
    resolve: (value) => settlements.push(() => job.resolve(value)),
    reject: (err) => settlements.push(() => job.reject(err)),
  });
  try {
    faultPoint('after-lock');
    // Read once, before the first plan: the base it is told, and the compare-and-swap's old value.
    try {
      const writer = treeWriter(loc.repoRoot, loc.gitDir);
      // Trees sent for commits of an earlier batch that never landed: nothing waits for them any more.
      await writer.forget();
      state.head = state.tip = await writer.head();
    } catch (err) {
      jobs.shift();
      deferred(first).reject(err);
      return;
    }
    for (let n = 0; jobs.length > 0 && n < MAX_BATCH; n++) {
      const job = jobs[0]!;
      if (n > 0 && !(job.opts.batch && first.opts.batch)) break;
      jobs.shift();
      const outcome = await runJob(state, deferred(job));
      if (outcome === 'stop') break;
    }
    await land(state);
  } finally {
    lock.release();
    for (const settle of settlements) settle();
  }
}

interface BatchState {
  readonly git: Git;
  readonly loc: StoreLocation;
  readonly lock: Lock;
  /** HEAD when the batch began (undefined: unborn), the compare-and-swap's old value. */
  head: string | undefined;
  /** The last commit made in this batch (HEAD until one is). */
  tip: string | undefined;
  /** Repo-relative paths this batch changes (journaled before any is touched). */
  readonly written: Set<string>;
  /** How many of `written` the lock's journal lists. */
  journaled: number;
  /**
   * Changes of this batch's commits that are not in the work tree yet, by path (the last one). In the pack
   * lane git takes the blobs from their bytes (TreeWriter.takesContent), so the files are written once,
   * as the batch lands while git writes its commits, and the journal once with them.
   */
  readonly unwritten: Map<string, RepoChange>;
  /**
   * Where git reads the blobs from the files (not the pack lane), the index learns each job's paths as soon as
   * they are written, while the job's objects are: at 10,000 secrets git's `update-index` (a read and a rewrite
   * of the whole index) is the longest step of a CLI put. The paths it has learnt that way, and its outcome.
   */
  readonly indexedEarly: Set<string>;
  indexing?: Promise<IndexOutcome>;
  readonly landings: Landing[];
}

/** How an index update ended: undefined when it succeeded. */
type IndexOutcome = { readonly err: unknown } | undefined;

/** `updateIndex` of `paths` once `before` (an update already running) has ended; the first failure is the outcome. */
async function indexAfter(before: Promise<IndexOutcome> | undefined, loc: StoreLocation, paths: readonly string[]): Promise<IndexOutcome> {
  const earlier = await before;
  const outcome = await updateIndex(loc, paths).then(
    () => undefined,
    (err: unknown) => ({ err }),
  );
  return earlier ?? outcome;
}

/** One transaction of a batch: 'stop' when the batch must end here (its work tree needs repair). */
async function runJob(state: BatchState, job: Job): Promise<'next' | 'stop'> {
  const { git, loc } = state;
  let changes: RepoChange[];
  let plan: Plan<unknown>;
  // The plan reads the previous commit of the batch, which git may still be writing: the readers answer
  // from the objects `made` primed, or wait for git (ObjectReader.expect); land checks git's answers.
  try {
    plan = await job.work({ commit: state.tip, unlanded: state.tip !== state.head });
    const merging = plan.parents !== undefined && plan.parents.length > 0;
    if ((plan.commit !== undefined || merging) && state.landings.length > 0) {
      throw new InternalServiceError('a plan that brings an existing commit or merges cannot join a batch');
    }
    const planned = plan.changes.map((c) => toRepoChange(loc, c));
    if (planned.length === 0 && plan.commit === undefined && !merging) return settle(job, plan.result);
    const paths = planned.map((c) => c.path);
    // Before anything reads or writes these paths: never through a link (issue 13.3).
    refuseSymlinks(loc.repoRoot, paths);
    if (new Set(paths).size !== paths.length) throw new InvalidParameterException('a plan changes the same path twice');
    // Paths this batch already wrote are ours: only the others need checking against the user's changes.
    const unseen = paths.filter((p) => !state.written.has(p));
    const adopted = new Set((job.opts.adopt ?? []).map((p) => `${loc.prefix}${p}`));
    if (unseen.length > 0 && (await checkUntouched(git, loc, unseen, adopted, state.head)) !== state.head) {
      throw new InternalServiceError('HEAD moved while secretstore was committing; nothing was committed, try again');
    }
    // Rewriting a file with the bytes it already has is not a change: no empty commits.
    // (An adopted path differs from HEAD whatever the work tree holds: it is always a change.)
    changes = planned.filter((c) => adopted.has(c.path) || !isNoop(loc.repoRoot, c, state.unwritten.get(c.path)));
    if (changes.length === 0 && plan.commit === undefined && !merging) return settle(job, plan.result);
  } catch (err) {
    job.reject(err);
    return 'next';
  }

  const paths = changes.map((c) => c.path);
  for (const p of paths) state.written.add(p);
  const writer = treeWriter(loc.repoRoot, loc.gitDir);
  const onDisk = !writer.takesContent(state.tip?.length);
  try {
    if (onDisk) {
      // git reads the blobs from the files: they are written now, journaled first.
      journalAll(state);
      for (const p of paths) state.unwritten.delete(p);
      // A previous commit's blob may still be read by git from one of these files: not rewritten before it has.
      await writer.blobsRead(paths);
      writeWorkTree(loc.repoRoot, changes);
      state.indexing = indexAfter(state.indexing, loc, paths);
      for (const p of paths) state.indexedEarly.add(p);
    } else {
      for (const p of paths) state.indexedEarly.delete(p);
    }
    const commit = await makeCommit(state, changes, plan.message, plan.commit, job.opts.sign, plan.parents, job.opts.made, onDisk);
    if (!onDisk) for (const c of changes) state.unwritten.set(c.path, c);
    state.landings.push({ job, result: plan.result, commit, message: plan.message });
    return 'next';
  } catch (err) {
    return failBatch(state, job, err);
  }
}

/** Ends the batch at `job`, which fails with `err`: what came before lands, every journaled path goes back to HEAD. */
async function failBatch(state: BatchState, job: Job, err: unknown): Promise<'stop'> {
  try {
    await land(state, err);
  } catch (landError) {
    job.reject(landError);
    return 'stop';
  }
  job.reject(err);
  return 'stop';
}

/** The lock's journal lists every path the batch changes, before any of them is touched. */
function journalAll(state: BatchState): void {
  if (state.journaled === state.written.size) return;
  state.lock.journal([...state.written]);
  state.journaled = state.written.size;
  faultPoint('after-journal');
}

function settle(job: Job, result: unknown): 'next' {
  job.resolve(result);
  return 'next';
}

/** Blobs, trees and the commit object of one transaction, on top of the batch's tip. */
async function makeCommit(
  state: BatchState,
  changes: readonly RepoChange[],
  message: string,
  existing?: string,
  sign?: CommitSigner,
  merged: readonly string[] = [],
  made?: TransactOptions['made'],
  onDisk = true,
): Promise<string> {
  const { git, loc } = state;
  const writer = treeWriter(loc.repoRoot, loc.gitDir);
  const written = changes
    .filter((c): c is Extract<RepoChange, { content: unknown }> => !('delete' in c))
    .map((c) => ({ ...c, content: Buffer.from(c.content) }));
  const blobs = await writer.writeBlobs(written, state.tip?.length, { onDisk });
  faultPoint('after-blobs');
  const blobOf = new Map(written.map((c, i) => [c.path, blobs[i]!]));
  const treeChanges: TreeChange[] = changes.map((c) =>
    'delete' in c ? { path: c.path, delete: true } : { path: c.path, blob: blobOf.get(c.path)!, mode: c.executable ? '100755' : '100644' },
  );
  const tree = await writer.apply(state.tip, treeChanges);
  faultPoint('after-trees');
  let commit: string;
  if (existing !== undefined) {
    if ((await git.run(['rev-parse', '--verify', '-q', `${existing}^{tree}`])).trim() !== tree) {
      throw new InternalServiceError(`the changes do not turn HEAD into commit ${existing}; nothing was committed`);
    }
    commit = existing;
  } else {
    commit = await createCommit(git, writer, { tree, parents: state.tip === undefined ? [] : [state.tip, ...merged], message }, sign);
  }
  faultPoint('after-commit-tree');
  state.tip = commit;
  if (made) {
    // A blob whose bytes hash to git's id is exactly those bytes (no filter changed them).
    const blobs = written.flatMap((c) => {
      const oid = blobOf.get(c.path)!;
      const { content } = c;
      return objectId('blob', content, oid.length) === oid ? [{ spec: oid, obj: { oid, type: 'blob' as const, content } }] : [];
    });
    const { trees, written: gitHasThem } = writer.writtenOf(commit);
    made(commit, [...trees, ...blobs], gitHasThem);
  }
  return commit;
}

/**
 * The one place a secretstore commit object is made from its tree, parents and message: the signer,
 * when given, turns the draft into the final message (for each commit of a batch, with its own parent).
 */
async function createCommit(git: Git, writer: TreeWriter, draft: CommitDraft, sign?: CommitSigner): Promise<string> {
  return writer.writeCommit(git, { ...draft, message: sign ? await sign(draft) : draft.message });
}

/**
 * Moves HEAD from the batch's starting point to its last commit (compare-and-swap), reports each commit
 * to its caller, brings the real index up to date for the written paths and resolves the jobs. With
 * `failure`, the batch ends because a job failed mid-way: the jobs before it still land, and every
 * journaled path is then restored to (the new) HEAD. Throws only when that restoring fails too.
 */
async function land(state: BatchState, failure?: unknown): Promise<void> {
  const { git, loc, lock, landings } = state;
  const paths = [...state.written];
  let moved = false;
  // Every changed path is journaled before HEAD moves: a kill from here on leaves them to repair.
  try {
    journalAll(state);
  } catch (err) {
    // Nothing lands whose paths are not journaled: the batch fails whole, and the repair below brings
    // what it wrote (journaled) back to HEAD.
    for (const l of landings.splice(0)) l.job.reject(err);
    failure ??= err;
  }
  // Every tree of these commits is written, with the id its commit names (see TreeWriter.settle): git
  // works on it while the files not written yet, then the index, are brought up to date here. For those
  // few milliseconds they are ahead of HEAD: should HEAD not move, the repair below (or a killed writer's
  // recovery) resets those paths. Their outcome is read once HEAD has moved. (After a failure, the repair
  // brings the paths to HEAD: the files not written yet never are.)
  const settled = landings.length > 0 ? treeWriter(loc.repoRoot, loc.gitDir).settle() : undefined;
  const unwritten = [...state.unwritten.values()];
  state.unwritten.clear();
  let indexed = state.indexing;
  if (landings.length > 0 && failure === undefined && paths.length > 0) {
    try {
      writeWorkTree(loc.repoRoot, unwritten);
      const rest = paths.filter((p) => !state.indexedEarly.has(p));
      if (rest.length > 0) indexed = indexAfter(indexed, loc, rest);
    } catch (err) {
      // Files not written are an index behind: the paths are repaired once HEAD has moved (first failure kept, as in indexAfter).
      indexed = Promise.resolve(indexed).then((earlier) => earlier ?? { err });
    }
  }
  if (settled) {
    const tip = landings[landings.length - 1]!.commit;
    const expected = state.head ?? '0'.repeat(tip.length); // all zeros: "must not exist yet"
    try {
      // The compare-and-swap: HEAD moves from where the batch began, or nothing moves.
      // (Crash tests: a kill once the requests have left and before git's answers are read, fast-import's checkpoint among them.)
      queueMicrotask(() => faultPoint('during-settle'));
      await settled;
      await refUpdater(loc.repoRoot).update('HEAD', tip, expected, reflogOf(landings.map((l) => l.message)));
      moved = true;
    } catch (err) {
      const error =
        err instanceof GitCommandError && /but expected|already exists/.test(err.stderr)
          ? new InternalServiceError('HEAD moved while secretstore was committing; nothing was committed, try again')
          : err;
      for (const l of landings.splice(0)) l.job.reject(error);
      failure ??= error;
    }
  }
  if (moved) faultPoint('after-update-ref');
  if (failure !== undefined) {
    // Nothing more to land; the journaled paths go back to HEAD (which holds the landed commits, if any),
    // index entries included, once the update-index above is done.
    await indexed;
    state.written.clear();
    try {
      if (paths.length > 0) await repairOrAbandon(git, loc, paths, lock, failure, moved ? state.tip : undefined);
    } catch (repairError) {
      for (const l of landings.splice(0)) l.job.reject(repairError);
      throw repairError;
    }
    const head = state.tip!;
    for (const l of landings.splice(0)) await succeed(l, head);
    return;
  }
  if (!moved) return;
  try {
    // The real index has learnt the new content of exactly these paths (see work-tree.ts).
    const outcome = await indexed;
    if (outcome) throw outcome.err;
    faultPoint('after-index');
  } catch (err) {
    // The commits have landed, so the operations succeeded: only the index is behind.
    try {
      await repairOrAbandon(git, loc, paths, lock, err, state.tip);
    } catch (repairError) {
      for (const l of landings.splice(0)) l.job.reject(repairError);
      return;
    }
  }
  faultPoint('before-unlock');
  const head = state.tip!;
  for (const l of landings.splice(0)) await succeed(l, head);
}

/**
 * The reflog message of a batch: the operations of its commits (each message's first word), which the
 * commits' own subjects detail. A message per commit would cost a git process per update (see
 * git/ref-updater.ts); the same operations again reuse the warm one.
 */
function reflogOf(messages: readonly string[]): string {
  return `secretstore: ${[...new Set(messages.map((m) => m.split(/[\s:]/, 1)[0]))].join(', ')}`;
}

async function succeed(landing: Landing, head: string): Promise<void> {
  try {
    await landing.job.opts.committed?.(landing.commit, head);
    landing.job.resolve(landing.result);
  } catch (err) {
    landing.job.reject(err);
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
