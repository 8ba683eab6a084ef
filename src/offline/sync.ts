/**
 * `secretstore sync`: fetch the branch's upstream, authenticate it, integrate it, push; a push that loses
 * a race fetches, merges and tries again, a bounded number of times.
 *
 * Nothing from the remote is taken before its head authenticates (src/trust/authenticate.ts): an
 * unauthenticated commit stops the sync with one line per refused commit, and neither clone changes
 * (the fetch lands in a private ref, dropped again). Integrating never touches the work tree until the
 * whole result is known: the merge is secretstore's one merge of the two commits (trust/store-merge.ts,
 * the same code a reader runs to accept an unsigned merge), applied as one transaction (transaction.ts,
 * with its lock, journal and recovery). A writer signs the merge commit; anyone else leaves it unsigned,
 * with the preference that decided something named in its `Secretstore-Merge` trailer, so readers
 * recompute it. A contested label with no preference stops before anything is written. Nothing is ever
 * decrypted: sync reads only label indexes and the configuration.
 */
import { InvalidRequestException } from '../errors.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { shortCommit } from '../core/authorise.js';
import { MERGE_TRAILER } from '../core/commit-signature.js';
import { INDEX_FILE, SECRETS_DIR, versionPath } from '../core/layout.js';
import { describeDecision, type Contest, type Preference } from '../core/merge.js';
import { applyPrune } from '../core/prune.js';
import type { Signer } from '../crypto/types.js';
import { Authenticator, META_DIR } from '../trust/authenticate.js';
import { commitSignerFor, planChanges } from '../trust/sign-commit.js';
import { diff, mergeTrees, type Planned } from '../trust/store-merge.js';
import { GitCommandError, openGit, type Git } from '../git/client.js';
import { ObjectReader } from '../git/objects.js';
import { noProgress, type ProgressFactory } from '../terminal/progress.js';
import { transact } from '../store/transaction.js';
import type { CommitSigner, FileChange, StoreLocation } from '../model/repository.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

export interface SyncOptions {
  readonly prefer?: Preference;
  /** The remote to sync with; default the branch's upstream remote (or the only remote). */
  readonly remote?: string;
  /** How many times a push that lost a race is retried after a new fetch and merge (default 3). */
  readonly maxRetries?: number;
  readonly now: Date;
  readonly env: NodeJS.ProcessEnv;
  /** The user's writer key, asked for only when there is a merge to sign; undefined leaves it unsigned. */
  readonly signer?: () => Promise<Signer | undefined>;
  /** One line for stderr (a merge left unsigned, and why). */
  readonly warn?: (line: string) => void;
  readonly progress?: ProgressFactory;
}

/** One side of a contest, with the commit that last changed that secret's index on that side. */
export interface Candidate {
  readonly Value: string;
  readonly Author: string;
  readonly Date: string;
}

export interface ContestReport {
  readonly Secret: string;
  readonly What: string;
  readonly Ours: Candidate;
  readonly Theirs: Candidate;
  /** False when no --prefer can settle it (the same name created twice, ...). */
  readonly Preferable: boolean;
  readonly Line: string;
}

/** A commit of the remote that does not authenticate. */
export interface RefusedCommit {
  readonly Commit: string;
  readonly Why: string;
}

export type SyncResult =
  | {
      readonly Status: 'UpToDate' | 'Pushed' | 'FastForwarded' | 'Merged';
      readonly Commit: string;
      readonly Upstream: string;
      readonly Decisions: readonly string[];
      readonly Pruned: readonly { Name: string; VersionIds: readonly string[] }[];
      /** Whether the merge commit (if any) is signed by this user's writer key. */
      readonly Signed?: boolean;
      /** Pushes that lost a race and were retried. */
      readonly Retries: number;
    }
  | { readonly Status: 'Contested'; readonly Upstream: string; readonly Contests: readonly ContestReport[] }
  | { readonly Status: 'Refused'; readonly Upstream: string; readonly Refused: readonly RefusedCommit[] };

interface Upstream {
  readonly branch: string;
  readonly remote: string;
  /** The branch on the remote, e.g. `refs/heads/main`. */
  readonly ref: string;
  /** Where the fetched commit is kept, e.g. `refs/remotes/origin/main`. */
  readonly tracking: string;
  /** Whether the branch has an upstream configured (the first push sets it: `push -u`). */
  readonly configured: boolean;
}

/** A push that lost a race: refused as not a fast-forward, or beaten to the ref while the remote updated it. */
const REJECTED = /\[rejected\]|non-fast-forward|fetch first|cannot lock ref .* but expected/;
/** Where a fetch lands until it authenticates: no ref the user sees moves before that (`--refmap=` stops git from updating the remote-tracking ref on its own). */
const INCOMING = 'refs/secretstore/sync-incoming';

export async function syncStore(loc: StoreLocation, opts: SyncOptions): Promise<SyncResult> {
  const git = openGit(loc.repoRoot, opts.env);
  const upstream = await findUpstream(git, opts.remote);
  const name = `${upstream.remote}/${upstream.ref.replace(/^refs\/heads\//, '')}`;
  const maxRetries = opts.maxRetries ?? 3;
  const objects = new ObjectReader(loc.repoRoot, opts.env);
  const trust = new Authenticator(loc, objects, opts.env, opts.warn);
  let signer: Promise<Signer | undefined> | undefined;
  const writerKey = () => (signer ??= opts.signer ? opts.signer() : Promise.resolve(undefined));
  let decisions: string[] = [];
  let pruned: { Name: string; VersionIds: string[] }[] = [];
  let status: 'UpToDate' | 'Pushed' | 'FastForwarded' | 'Merged' = 'UpToDate';
  let signed: boolean | undefined;
  try {
    // Ours first: sync never builds on, or pushes, a history this clone does not trust.
    await trust.head();
    for (let attempt = 0; ; attempt++) {
      const theirs = await fetchIncoming(git, upstream);
      try {
        if (theirs !== undefined) {
          const refused = await refusals(trust, theirs, opts.env);
          if (refused.length > 0) return { Status: 'Refused', Upstream: name, Refused: refused };
          await git.run(['update-ref', '-m', 'secretstore sync: fetched (authenticated)', upstream.tracking, theirs]);
        }
      } finally {
        await git.run(['update-ref', '-d', INCOMING]).catch(() => undefined);
      }
      const outcome = await integrate(loc, git, objects, trust, theirs, name, opts, writerKey);
      if (outcome.kind === 'contested') return { Status: 'Contested', Upstream: name, Contests: outcome.contests };
      if (outcome.kind !== 'none') status = outcome.kind === 'merged' ? 'Merged' : 'FastForwarded';
      if (outcome.kind === 'merged') signed = outcome.signed;
      decisions = [...decisions, ...outcome.decisions];
      if (outcome.kind === 'merged' && outcome.indexes.length > 0) {
        const key = await writerKey();
        if (key !== undefined) pruned = [...pruned, ...(await pruneMerged(loc, git, objects, trust, outcome.indexes, key, opts.now).catch(() => []))];
      }
      const head = await revParse(git, 'HEAD');
      if (head === undefined) throw new InvalidRequestException('the store branch has no commit yet');
      const done = { Commit: head, Upstream: name, Decisions: decisions, Pruned: pruned, ...(signed === undefined ? {} : { Signed: signed }), Retries: attempt };
      if (head === theirs) return { Status: status, ...done };
      try {
        await git.run(['push', '-q', ...(upstream.configured ? [] : ['-u']), upstream.remote, `HEAD:${upstream.ref}`]);
        await git.run(['update-ref', '-m', 'secretstore sync: pushed', upstream.tracking, head]);
        return { Status: status === 'UpToDate' ? 'Pushed' : status, ...done };
      } catch (err) {
        if (!(err instanceof GitCommandError && REJECTED.test(err.stderr))) throw err;
        if (attempt >= maxRetries) {
          throw new InvalidRequestException(
            `the push to ${name} was rejected ${attempt + 1} time(s) because others pushed first; your merge is committed locally, run sync again`,
          );
        }
      }
    }
  } finally {
    objects.close();
    trust.close();
  }
}

/** Fetches the upstream branch into a private ref; undefined when the remote has no such branch yet. */
async function fetchIncoming(git: Git, upstream: Upstream): Promise<string | undefined> {
  const fetched = await git.run(['fetch', '-q', '--no-tags', '--no-write-fetch-head', '--refmap=', upstream.remote, `+${upstream.ref}:${INCOMING}`]).then(
    () => true,
    (err: unknown) => {
      // An empty remote, or a branch not pushed yet: nothing to integrate, the push creates it.
      if (err instanceof GitCommandError && /couldn't find remote ref/i.test(err.stderr)) return false;
      throw err;
    },
  );
  return fetched ? revParse(git, INCOMING) : undefined;
}

/** Every commit the remote brings that does not authenticate on its own account: commit and why. */
async function refusals(trust: Authenticator, theirs: string, env: NodeJS.ProcessEnv): Promise<RefusedCommit[]> {
  const verdict = await trust.authenticate(theirs);
  if (verdict.ok) return [];
  const git = openGit(trust.loc.repoRoot, env);
  const incoming = (await git.run(['rev-list', '--topo-order', '--reverse', theirs, '--not', 'HEAD'])).split('\n').filter(Boolean);
  const refused: RefusedCommit[] = [];
  for (const commit of incoming) {
    const v = await trust.authenticate(commit);
    if (!v.ok && v.commit === commit) refused.push({ Commit: commit, Why: `commit ${shortCommit(commit)} ${v.why}` });
  }
  if (refused.length === 0) refused.push({ Commit: verdict.commit, Why: `commit ${shortCommit(verdict.commit)} ${verdict.why}` });
  return refused;
}

async function findUpstream(git: Git, remote: string | undefined): Promise<Upstream> {
  const branch = (await git.run(['symbolic-ref', '-q', '--short', 'HEAD']).catch(() => '')).trim();
  if (branch === '') throw new InvalidRequestException('HEAD is not on a branch (detached HEAD); check out the store branch before sync');
  const config = async (key: string) => (await git.run(['config', '--get', key]).catch(() => '')).trim();
  const configured = await config(`branch.${branch}.remote`);
  let chosen = remote ?? configured;
  if (chosen === '') {
    // No upstream yet: the only remote, if there is exactly one (a first push sets the upstream).
    const remotes = (await git.run(['remote'])).split('\n').filter(Boolean);
    if (remotes.length === 1) chosen = remotes[0]!;
  }
  if (chosen === '' || chosen === '.') {
    throw new InvalidRequestException(`branch ${branch} has no upstream; give --remote REMOTE or run git push -u REMOTE ${branch} once`);
  }
  const merge = remote === undefined || remote === configured ? await config(`branch.${branch}.merge`) : '';
  const ref = merge !== '' ? merge : `refs/heads/${branch}`;
  if (!/^[A-Za-z0-9._-]+$/.test(chosen)) throw new InvalidRequestException(`--remote ${JSON.stringify(chosen)} is not a remote name`);
  return { branch, remote: chosen, ref, tracking: `refs/remotes/${chosen}/${ref.replace(/^refs\/heads\//, '')}`, configured: configured !== '' };
}

async function revParse(git: Git, rev: string): Promise<string | undefined> {
  const out = await git.run(['rev-parse', '-q', '--verify', `${rev}^{commit}`]).catch(() => '');
  return out.trim() || undefined;
}

async function isAncestor(git: Git, a: string, b: string): Promise<boolean> {
  return git.run(['merge-base', '--is-ancestor', a, b]).then(
    () => true,
    (err: unknown) => {
      if (err instanceof GitCommandError && err.exitCode === 1) return false;
      throw err;
    },
  );
}

type Integration =
  | { kind: 'none' | 'fast-forward'; decisions: string[] }
  | { kind: 'merged'; decisions: string[]; indexes: readonly string[]; signed: boolean }
  | { kind: 'contested'; contests: ContestReport[] };

/**
 * Brings HEAD up to `theirs` (authenticated already) in one transaction, or reports contests: a
 * fast-forward, or a merge commit signed by the user's writer key when it may sign it, else unsigned.
 */
async function integrate(
  loc: StoreLocation,
  git: Git,
  objects: ObjectReader,
  trust: Authenticator,
  theirs: string | undefined,
  upstream: string,
  opts: SyncOptions,
  writerKey: () => Promise<Signer | undefined>,
): Promise<Integration> {
  // The whole repository moves (the store may be a folder of it): work with repository-relative paths.
  const repo: StoreLocation = { ...loc, root: loc.repoRoot, prefix: '' };
  let sign: CommitSigner | undefined;
  const result = await transact(
    repo,
    async () => {
      const none = { result: { kind: 'none', decisions: [] } as Integration, changes: [], message: '' };
      const ours = await revParse(git, 'HEAD');
      if (ours === undefined) throw new InvalidRequestException('the store branch has no commit yet');
      if (theirs === undefined || theirs === ours || (await isAncestor(git, theirs, ours))) return none;
      if (await isAncestor(git, ours, theirs)) {
        return {
          result: { kind: 'fast-forward', decisions: [] } as Integration,
          changes: await changesBetween(git, ours, theirs),
          message: `sync: fast-forward to ${upstream}`,
          commit: theirs,
        };
      }
      const merge = await computeMerge(loc, git, objects, [ours, theirs], upstream, opts);
      if (merge.kind === 'contested') return { ...none, result: merge };
      sign = await mergeSigner(loc, objects, trust, ours, merge.changes, writerKey, opts.warn);
      return {
        result: { kind: 'merged', decisions: merge.decisions, indexes: merge.indexes, signed: sign !== undefined } as Integration,
        changes: merge.changes,
        message: merge.message,
        parents: [theirs],
      };
    },
    {
      sign: async (draft) => (sign ? sign(draft) : draft.message),
      committed: (commit) => trust.wrote(commit),
    },
  );
  return result;
}

/** The user's signer for a merge when their writer key may sign every change it makes against ours; else undefined (and a note why). */
async function mergeSigner(
  loc: StoreLocation,
  objects: ObjectReader,
  trust: Authenticator,
  ours: string,
  changes: readonly FileChange[],
  writerKey: () => Promise<Signer | undefined>,
  warn: ((line: string) => void) | undefined,
): Promise<CommitSigner | undefined> {
  const inStore = changes
    .filter((c) => c.path.startsWith(loc.prefix))
    .map((c) => ({ ...c, path: c.path.slice(loc.prefix.length) }))
    .filter((c) => c.path === CONFIG_FILE || c.path.startsWith(`${META_DIR}/`) || c.path.startsWith(`${SECRETS_DIR}/`));
  const config = await trust.configAt(ours);
  let key: Signer | undefined;
  try {
    key = await writerKey();
  } catch (err) {
    warn?.(`secretstore: sync: the merge commit is left unsigned (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); readers recompute it`);
    return undefined;
  }
  if (config === undefined || key === undefined) {
    warn?.('secretstore: sync: the merge commit is left unsigned (no writer key); readers recompute it');
    return undefined;
  }
  const indexAt = async (path: string) => (await objects.read(`${ours}:${loc.prefix}${path}`))?.content.toString('utf8');
  try {
    return await commitSignerFor(config, key, () => planChanges(inStore, indexAt));
  } catch (err) {
    warn?.(`secretstore: sync: the merge commit is left unsigned (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); readers recompute it`);
    return undefined;
  }
}

/** A change per path that differs between two commits, with the new contents read in one `cat-file --batch`. */
async function changesBetween(git: Git, from: string, to: string): Promise<FileChange[]> {
  return toFileChanges(git, await diff(git, from, to, []));
}

/** Planned entries as changes the transaction writes: blobs read in one `cat-file --batch`, merged indexes as text. */
async function toFileChanges(git: Git, entries: ReadonlyMap<string, Planned>): Promise<FileChange[]> {
  const blobs: string[] = [];
  for (const [path, e] of entries) {
    if (e === null || 'text' in e) continue;
    if (e.mode !== '100644' && e.mode !== '100755') {
      throw new InvalidRequestException(`${path} is a symbolic link or submodule (mode ${e.mode}); sync writes regular files only: merge with git`);
    }
    blobs.push(e.oid);
  }
  const contents = await git.readBlobs(blobs);
  return [...entries].map(([path, e]): FileChange => {
    if (e === null) return { path, delete: true };
    if ('text' in e) return { path, content: e.text };
    const content = contents.get(e.oid);
    if (content === undefined) throw new InvalidRequestException(`git has no object ${e.oid} for ${path}; fetch again`);
    return { path, content, ...(e.mode === '100755' ? { executable: true } : {}) };
  });
}

interface ComputedMerge {
  readonly kind: 'merged';
  readonly changes: FileChange[];
  readonly message: string;
  readonly indexes: readonly string[];
  readonly decisions: string[];
}

/**
 * The merge of `ours` and `theirs` as changes against ours: secretstore's one merge (trust/store-merge.ts,
 * the same code a reader runs to accept an unsigned merge), never pruned (see there).
 */
async function computeMerge(
  loc: StoreLocation,
  git: Git,
  objects: ObjectReader,
  [ours, theirs]: readonly [string, string],
  upstream: string,
  opts: SyncOptions,
): Promise<ComputedMerge | { kind: 'contested'; contests: ContestReport[] }> {
  const config = parseConfig(await git.run(['show', `${ours}:${loc.prefix}${CONFIG_FILE}`]), CONFIG_FILE);
  const bar = (opts.progress ?? noProgress)('sync', 1);
  let merged;
  try {
    merged = await mergeTrees(git, objects, loc.prefix, { ours, theirs, policy: config.policy, ...(opts.prefer ? { prefer: opts.prefer } : {}) });
    bar.tick();
  } finally {
    bar.done();
  }
  if (merged.kind === 'unrelated') throw new InvalidRequestException(`${upstream} shares no history with this branch; sync cannot merge unrelated histories`);
  if (merged.kind === 'conflict') {
    throw new InvalidRequestException(
      `${merged.path} was changed differently on both sides (${merged.why}); sync merges only label indexes: merge with git (the merge driver handles secret.yaml) and resolve it by hand`,
    );
  }
  if (merged.kind === 'contested') {
    const contests: ContestReport[] = [];
    for (const { path, contest } of merged.contests) contests.push(await report(git, contest, path, merged.base, ours, theirs));
    return { kind: 'contested', contests };
  }
  const decisions = merged.decisions.map(describeDecision);
  const secretsRoot = `${loc.prefix}${SECRETS_DIR}/`;
  const lines = [...merged.indexes.map((p) => `merged: ${p.slice(secretsRoot.length, -INDEX_FILE.length - 1)}`), ...decisions.map((d) => `decision: ${d}`)];
  // A reader recomputes an unsigned merge: the preference that decided something is part of it.
  const trailer = opts.prefer && decisions.length > 0 ? `\n${MERGE_TRAILER}: prefer=${opts.prefer}\n` : '';
  const message = `sync: merge ${upstream} (${merged.indexes.length} label index(es) merged, ${decisions.length} decision(s))\n\n${lines.join('\n')}\n${trailer}`;
  return { kind: 'merged', changes: await toFileChanges(git, merged.changes), message, indexes: merged.indexes, decisions };
}

/**
 * Prunes the secrets a merge touched, by the policy of the merged configuration, in a signed commit of
 * its own (an unsigned merge must stay recomputable, so pruning is never part of it).
 */
async function pruneMerged(loc: StoreLocation, git: Git, objects: ObjectReader, trust: Authenticator, indexes: readonly string[], signer: Signer, now: Date) {
  const pruned: { Name: string; VersionIds: string[] }[] = [];
  await transact(
    loc,
    async () => {
      const head = (await revParse(git, 'HEAD'))!;
      const config = parseConfig(await git.run(['show', `${head}:${loc.prefix}${CONFIG_FILE}`]), CONFIG_FILE);
      const changes: FileChange[] = [];
      for (const path of indexes) {
        const text = (await objects.read(`${head}:${path}`))?.content.toString('utf8');
        if (text === undefined) continue;
        const { index, pruned: ids } = applyPrune(parseSecretIndex(text, path), now, config.policy);
        if (ids.length === 0) continue;
        pruned.push({ Name: index.name, VersionIds: [...ids] });
        changes.push({ path: path.slice(loc.prefix.length), content: serializeSecretIndex(index) }, ...ids.map((id): FileChange => ({ path: versionPath(index.name, id), delete: true })));
      }
      const lines = pruned.flatMap((p) => p.VersionIds.map((id) => `pruned: ${p.Name} ${id}`));
      return { result: undefined, changes, message: `prune: after sync's merge, ${lines.length} version(s)\n\n${lines.join('\n')}\n` };
    },
    {
      sign: async (draft) => {
        const config = (await trust.configAt(draft.parents[0]!))!;
        return (await commitSignerFor(config, signer, async () => ({ storeWide: false, secrets: pruned.map((p) => p.Name) })))(draft);
      },
      committed: (commit) => trust.wrote(commit),
    },
  );
  return pruned;
}

/** A contest with, for each side, the commit that last changed the secret's index there. */
async function report(git: Git, c: Contest, path: string, base: string, ours: string, theirs: string): Promise<ContestReport> {
  const who = async (tip: string, value: string): Promise<Candidate> => {
    const out = await git.run(['log', '-1', '--format=%an%x00%aI', `${base}..${tip}`, '--', path]).catch(() => '');
    const [author = '(unknown)', date = '(unknown)'] = out.trim().split('\0');
    return { Value: value, Author: author || '(unknown)', Date: date || '(unknown)' };
  };
  const [o, t] = await Promise.all([who(ours, c.ours), who(theirs, c.theirs)]);
  const line = `${c.secret} ${c.what}: ours ${o.Value} (${o.Author}, ${o.Date}) vs theirs ${t.Value} (${t.Author}, ${t.Date})${
    c.preferable ? '' : ` (cannot be settled by --prefer: ${c.why ?? 'resolve by hand'})`
  }`;
  return { Secret: c.secret, What: c.what, Ours: o, Theirs: t, Preferable: c.preferable, Line: line };
}

