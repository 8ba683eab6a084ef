/**
 * `secretstore sync`: fetch the branch's upstream, integrate it, push; a push that loses a race
 * fetches, merges and tries again, a bounded number of times.
 *
 * Integrating never touches the work tree until the whole result is known: the merge is computed from
 * the three commits (merge base, ours, theirs) with git plumbing, every label index changed on both
 * sides goes through the semantic merge (core/merge.ts), and only then is the outcome applied as one
 * transaction (transaction.ts, with its lock, journal and recovery): a fast-forward moves HEAD to the
 * upstream commit, a merge to a two-parent merge commit built beforehand. A contested label with no
 * preference stops before anything is written. Version files never conflict (their names are unique
 * tokens); any other path changed differently on both sides is left for git and a person.
 * Nothing is ever decrypted: sync reads only label indexes and the configuration.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import { CONFIG_FILE, parseConfig, serializeSecretIndex, parseSecretIndex } from '../core/codec.js';
import { INDEX_FILE, SECRETS_DIR, versionPath, VERSIONS_DIR } from '../core/layout.js';
import { describeDecision, mergeSecretIndex, type Contest, type Preference } from '../core/merge.js';
import type { Signer } from '../crypto/types.js';
import type { SecretIndex } from '../model/store.js';
import { GitCommandError, openGit, type Git, type GitRunOptions } from './git.js';
import { noProgress, type ProgressFactory } from './progress.js';
import { signChanges } from './signing.js';
import { transact } from './transaction.js';
import type { FileChange, StoreLocation } from './types.js';

export interface SyncOptions {
  readonly prefer?: Preference;
  /** The remote to sync with; default the branch's upstream remote. */
  readonly remote?: string;
  /** How many times a push that lost a race is retried after a new fetch and merge (default 3). */
  readonly maxRetries?: number;
  readonly now: Date;
  readonly env: NodeJS.ProcessEnv;
  /** The writer's key for the merged indexes; undefined leaves them unsigned. */
  readonly signer?: Signer;
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

export type SyncResult =
  | {
      readonly Status: 'UpToDate' | 'Pushed' | 'FastForwarded' | 'Merged';
      readonly Commit: string;
      readonly Upstream: string;
      readonly Decisions: readonly string[];
      readonly Pruned: readonly { Name: string; VersionIds: readonly string[] }[];
      /** Pushes that lost a race and were retried. */
      readonly Retries: number;
    }
  | { readonly Status: 'Contested'; readonly Upstream: string; readonly Contests: readonly ContestReport[] };

interface Upstream {
  readonly remote: string;
  /** The branch on the remote, e.g. `refs/heads/main`. */
  readonly ref: string;
  /** Where the fetched commit is kept, e.g. `refs/remotes/origin/main`. */
  readonly tracking: string;
}

/** A push that lost a race: refused as not a fast-forward, or beaten to the ref while the remote updated it. */
const REJECTED = /\[rejected\]|non-fast-forward|fetch first|cannot lock ref .* but expected/;

export async function syncStore(loc: StoreLocation, opts: SyncOptions): Promise<SyncResult> {
  const git = openGit(loc.repoRoot, opts.env);
  const upstream = await findUpstream(git, opts.remote);
  const name = `${upstream.remote}/${upstream.ref.replace(/^refs\/heads\//, '')}`;
  const maxRetries = opts.maxRetries ?? 3;
  let decisions: string[] = [];
  let pruned: { Name: string; VersionIds: string[] }[] = [];
  let status: 'UpToDate' | 'Pushed' | 'FastForwarded' | 'Merged' = 'UpToDate';
  for (let attempt = 0; ; attempt++) {
    const fetched = await git.run(['fetch', '-q', '--no-tags', upstream.remote, `+${upstream.ref}:${upstream.tracking}`]).then(
      () => true,
      (err: unknown) => {
        // An empty remote, or a branch not pushed yet: nothing to integrate, the push creates it.
        if (err instanceof GitCommandError && /couldn't find remote ref/i.test(err.stderr)) return false;
        throw err;
      },
    );
    const theirs = fetched ? await revParse(git, upstream.tracking) : undefined;
    const outcome = await integrate(loc, git, theirs, name, opts);
    if (outcome.kind === 'contested') return { Status: 'Contested', Upstream: name, Contests: outcome.contests };
    if (outcome.kind !== 'none') status = outcome.kind === 'merged' ? 'Merged' : 'FastForwarded';
    decisions = [...decisions, ...outcome.decisions];
    pruned = [...pruned, ...outcome.pruned];
    const head = await revParse(git, 'HEAD');
    if (head === undefined) throw new InvalidRequestException('the store branch has no commit yet');
    if (head === theirs) return { Status: status, Commit: head, Upstream: name, Decisions: decisions, Pruned: pruned, Retries: attempt };
    try {
      await git.run(['push', '-q', upstream.remote, `HEAD:${upstream.ref}`]);
      await git.run(['update-ref', '-m', 'secretstore sync: pushed', upstream.tracking, head]);
      return { Status: status === 'UpToDate' ? 'Pushed' : status, Commit: head, Upstream: name, Decisions: decisions, Pruned: pruned, Retries: attempt };
    } catch (err) {
      if (!(err instanceof GitCommandError && REJECTED.test(err.stderr))) throw err;
      if (attempt >= maxRetries) {
        throw new InvalidRequestException(
          `the push to ${name} was rejected ${attempt + 1} time(s) because others pushed first; your merge is committed locally, run sync again`,
        );
      }
    }
  }
}

async function findUpstream(git: Git, remote: string | undefined): Promise<Upstream> {
  const branch = (await git.run(['symbolic-ref', '-q', '--short', 'HEAD']).catch(() => '')).trim();
  if (branch === '') throw new InvalidRequestException('HEAD is not on a branch (detached HEAD); check out the store branch before sync');
  const config = async (key: string) => (await git.run(['config', '--get', key]).catch(() => '')).trim();
  const chosen = remote ?? (await config(`branch.${branch}.remote`));
  if (chosen === '' || chosen === '.') {
    throw new InvalidRequestException(`branch ${branch} has no upstream; give --remote REMOTE or run git push -u REMOTE ${branch} once`);
  }
  const merge = remote === undefined ? await config(`branch.${branch}.merge`) : '';
  const ref = merge !== '' ? merge : `refs/heads/${branch}`;
  if (!/^[A-Za-z0-9._-]+$/.test(chosen)) throw new InvalidRequestException(`--remote ${JSON.stringify(chosen)} is not a remote name`);
  return { remote: chosen, ref, tracking: `refs/remotes/${chosen}/${ref.replace(/^refs\/heads\//, '')}` };
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
  | { kind: 'none' | 'fast-forward' | 'merged'; decisions: string[]; pruned: { Name: string; VersionIds: string[] }[] }
  | { kind: 'contested'; contests: ContestReport[] };

/** Brings HEAD up to `theirs` (fast-forward or merge commit) in one transaction, or reports contests. */
async function integrate(loc: StoreLocation, git: Git, theirs: string | undefined, upstream: string, opts: SyncOptions): Promise<Integration> {
  // The whole repository moves (the store may be a folder of it): work with repository-relative paths.
  const repo: StoreLocation = { ...loc, root: loc.repoRoot, prefix: '' };
  return transact(repo, async () => {
    const none = { result: { kind: 'none', decisions: [], pruned: [] } as Integration, changes: [], message: '' };
    const ours = await revParse(git, 'HEAD');
    if (ours === undefined) throw new InvalidRequestException('the store branch has no commit yet');
    if (theirs === undefined || theirs === ours || (await isAncestor(git, theirs, ours))) return none;
    if (await isAncestor(git, ours, theirs)) {
      return {
        result: { kind: 'fast-forward', decisions: [], pruned: [] } as Integration,
        changes: await changesBetween(git, ours, theirs),
        message: `sync: fast-forward to ${upstream}`,
        commit: theirs,
      };
    }
    const merge = await computeMerge(loc, git, ours, theirs, upstream, opts);
    if (merge.kind === 'contested') return { ...none, result: merge };
    return {
      result: { kind: 'merged', decisions: merge.decisions, pruned: merge.pruned } as Integration,
      changes: await changesBetween(git, ours, merge.commit),
      message: merge.message,
      commit: merge.commit,
    };
  });
}

/** A change per path that differs between two commits, with the new contents read in one `cat-file --batch`. */
async function changesBetween(git: Git, from: string, to: string): Promise<FileChange[]> {
  const entries = parseDiffTree(await git.run(['diff-tree', '-r', '-z', '--no-renames', from, to]));
  for (const e of entries) {
    if (e.oid !== undefined && e.mode !== '100644' && e.mode !== '100755') {
      throw new InvalidRequestException(`${e.path} is a symbolic link or submodule (mode ${e.mode}); sync writes regular files only: merge with git`);
    }
  }
  const blobs = await git.readBlobs(entries.flatMap((e) => (e.oid === undefined ? [] : [e.oid])));
  return entries.map((e): FileChange => {
    if (e.oid === undefined) return { path: e.path, delete: true };
    const content = blobs.get(e.oid);
    if (content === undefined) throw new InvalidRequestException(`git has no object ${e.oid} for ${e.path}; fetch again`);
    return { path: e.path, content, ...(e.mode === '100755' ? { executable: true } : {}) };
  });
}

interface DiffEntry {
  readonly path: string;
  /** The new blob; undefined when the path was deleted. */
  readonly oid?: string;
  readonly mode?: string;
}

/** `git diff-tree -r -z` raw output: `:<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0`. */
function parseDiffTree(out: string): DiffEntry[] {
  const parts = out.split('\0');
  const entries: DiffEntry[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i]!;
    if (!meta.startsWith(':')) {
      i -= 1; // a commit id line (not printed for two trees, kept for safety)
      continue;
    }
    const [, newMode, , newOid, status] = meta.slice(1).split(' ');
    const path = parts[i + 1]!;
    entries.push(status === 'D' ? { path } : { path, oid: newOid!, mode: newMode! });
  }
  return entries;
}

interface ComputedMerge {
  readonly kind: 'merged';
  readonly commit: string;
  readonly message: string;
  readonly decisions: string[];
  readonly pruned: { Name: string; VersionIds: string[] }[];
}

/** The merge commit of `ours` and `theirs`, written to the object store only (no ref, no work tree). */
async function computeMerge(
  loc: StoreLocation,
  git: Git,
  ours: string,
  theirs: string,
  upstream: string,
  opts: SyncOptions,
): Promise<ComputedMerge | { kind: 'contested'; contests: ContestReport[] }> {
  const base = (await git.run(['merge-base', ours, theirs]).catch(() => '')).trim();
  if (base === '') throw new InvalidRequestException(`${upstream} shares no history with this branch; sync cannot merge unrelated histories`);
  const [dOurs, dTheirs] = await Promise.all([
    git.run(['diff-tree', '-r', '-z', '--no-renames', base, ours]).then(parseDiffTree),
    git.run(['diff-tree', '-r', '-z', '--no-renames', base, theirs]).then(parseDiffTree),
  ]);
  const oursByPath = new Map(dOurs.map((e) => [e.path, e]));
  const secretsRoot = `${loc.prefix}${SECRETS_DIR}/`;
  const take: DiffEntry[] = [];
  const indexes: string[] = [];
  for (const t of dTheirs) {
    const o = oursByPath.get(t.path);
    if (o === undefined) take.push(t);
    else if (o.oid === t.oid && o.mode === t.mode) continue;
    else if (t.path.startsWith(secretsRoot) && t.path.endsWith(`/${INDEX_FILE}`)) indexes.push(t.path);
    else {
      throw new InvalidRequestException(
        `${t.path} was changed differently on both sides; sync merges only label indexes: merge with git (the merge driver handles secret.yaml) and resolve it by hand`,
      );
    }
  }
  const configPath = `${loc.prefix}${CONFIG_FILE}`;
  const configSide = dTheirs.some((e) => e.path === configPath) ? theirs : ours;
  const config = parseConfig(await git.run(['show', `${configSide}:${configPath}`]), CONFIG_FILE);
  const read = async (commit: string, path: string): Promise<SecretIndex | undefined> => {
    const text = await git.run(['show', `${commit}:${path}`]).catch((err: unknown) => {
      if (err instanceof GitCommandError) return undefined; // no index on that side
      throw err;
    });
    return text === undefined ? undefined : parseSecretIndex(text, path);
  };

  const contests: ContestReport[] = [];
  const decisions: string[] = [];
  const pruned: { Name: string; VersionIds: string[] }[] = [];
  const written: FileChange[] = [];
  const folders: MergedFolder[] = [];
  const bar = (opts.progress ?? noProgress)('sync', indexes.length);
  try {
    for (const path of indexes) {
      const [b, o, t] = await Promise.all([read(base, path), read(ours, path), read(theirs, path)]);
      bar.tick();
      const outcome = mergeSecretIndex(b, o, t, { now: opts.now, policy: config.policy, ...(opts.prefer ? { prefer: opts.prefer } : {}) });
      if (outcome.kind === 'contested') {
        for (const c of outcome.contests) contests.push(await report(git, c, path, base, ours, theirs));
        continue;
      }
      decisions.push(...outcome.decisions.map(describeDecision));
      const folder = path.slice(0, -INDEX_FILE.length - 1);
      const index = outcome.index;
      const versionFiles = index ? Object.keys(index.versions).map((id) => `${loc.prefix}${versionPath(index.name, id)}`) : [];
      folders.push({ folder, versionFiles, gone: index === undefined });
      if (index === undefined) continue;
      if (outcome.pruned.length > 0) pruned.push({ Name: index.name, VersionIds: [...outcome.pruned] });
      written.push({ path: path.slice(loc.prefix.length), content: serializeSecretIndex(index) });
      written.push(...outcome.pruned.map((id): FileChange => ({ path: versionPath(index.name, id), delete: true })));
    }
  } finally {
    bar.done();
  }
  if (contests.length > 0) return { kind: 'contested', contests };

  // Every merged index is signed by whoever merges, as any other change (a stub until signing lands).
  // The signer sees the merge as a plan on top of ours: the indexes, the version files it brings in
  // (not yet in the work tree) and the ones it prunes, so it can hash every sealed file it names.
  written.push(...(await incomingVersionFiles(loc, git, ours, theirs, folders)));
  const signed = await signChanges({ location: loc, config, signer: opts.signer }, written);
  const tree = await buildTree(loc, git, [ours, theirs], take, signed, folders);
  const lines = [
    ...indexes.map((p) => `merged: ${p.slice(secretsRoot.length, -INDEX_FILE.length - 1)}`),
    ...decisions.map((d) => `decision: ${d}`),
    ...pruned.flatMap((p) => p.VersionIds.map((id) => `pruned: ${p.Name} ${id}`)),
  ];
  const message = `sync: merge ${upstream} (${indexes.length} label index(es) merged, ${decisions.length} decision(s))\n\n${lines.join('\n')}\n`;
  const commit = await git.commitTree(tree, [ours, theirs], message);
  return { kind: 'merged', commit, message, decisions, pruned };
}

/** The version files of merged secrets that ours lacks, with their content (from theirs), store-relative. */
async function incomingVersionFiles(loc: StoreLocation, git: Git, ours: string, theirs: string, folders: readonly MergedFolder[]): Promise<FileChange[]> {
  const wanted = folders.filter((f) => f.versionFiles.length > 0);
  if (wanted.length === 0) return [];
  // One ls-tree for every merged folder, one cat-file for every file ours lacks: not a process per file.
  const present = new Set(splitZ(await git.run(['ls-tree', '-r', '-z', '--name-only', ours, '--', ...wanted.map((f) => `${f.folder}/${VERSIONS_DIR}/`)])));
  const missing = wanted.flatMap((f) => f.versionFiles.filter((p) => !present.has(p)));
  const blobs = await git.readBlobs(missing.map((p) => `${theirs}:${p}`));
  return missing.flatMap((path) => {
    const content = blobs.get(`${theirs}:${path}`);
    return content === undefined ? [] : [{ path: path.slice(loc.prefix.length), content }];
  });
}

/** A secret folder the semantic merge decided: exactly these version files (none: the secret is gone). */
interface MergedFolder {
  readonly folder: string;
  readonly versionFiles: readonly string[];
  readonly gone: boolean;
}

/**
 * The tree of `ours` with theirs' one-sided changes and the merged indexes, built in a temporary
 * index. Each merged secret's version files are then made to match its merged index exactly: pruned
 * ones go, and one kept by the merge but deleted by a one-sided change (a secret purged on one side
 * and kept by the preference) comes back from whichever side still has it.
 */
async function buildTree(
  loc: StoreLocation,
  git: Git,
  [ours, theirs]: readonly [string, string],
  take: readonly DiffEntry[],
  written: readonly FileChange[],
  folders: readonly MergedFolder[],
): Promise<string> {
  const temp = mkdtempSync(join(loc.gitDir, 'secretstore-sync-'));
  try {
    const env = { env: { GIT_INDEX_FILE: join(temp, 'index') } };
    await git.run(['read-tree', ours], env);
    const contents = written.filter((c): c is Extract<FileChange, { content: unknown }> => 'content' in c);
    const files = contents.map((c, i) => {
      const file = join(temp, String(i));
      writeFileSync(file, c.content);
      return file;
    });
    const oids = files.length > 0 ? (await git.run(['hash-object', '-w', '--', ...files])).trim().split('\n') : [];
    const put = [
      ...take.filter((e) => e.oid !== undefined).map((e) => `${e.mode},${e.oid},${e.path}`),
      ...contents.map((c, i) => `100644,${oids[i]},${loc.prefix}${c.path}`),
    ];
    const drop = [...take.filter((e) => e.oid === undefined).map((e) => e.path)];
    await updateIndex(git, env, put, drop);
    const [fix, extra] = [[] as string[], [] as string[]];
    for (const { folder, versionFiles, gone } of folders) {
      const dir = `${folder}/${VERSIONS_DIR}/`;
      const present = new Set(splitZ(await git.run(['ls-files', '-z', '--', dir], env)));
      const wanted = new Set(versionFiles);
      extra.push(...[...present].filter((p) => !wanted.has(p)));
      if (gone) extra.push(`${folder}/${INDEX_FILE}`);
      for (const path of versionFiles) {
        if (present.has(path)) continue;
        const oid = (await blobOf(git, ours, path)) ?? (await blobOf(git, theirs, path));
        if (oid === undefined) throw new InvalidRequestException(`merge refused: ${path} is in the merged index but on neither side`);
        fix.push(`100644,${oid},${path}`);
      }
    }
    await updateIndex(git, env, fix, extra);
    return (await git.run(['write-tree'], env)).trim();
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

async function updateIndex(git: Git, env: GitRunOptions, put: readonly string[], drop: readonly string[]): Promise<void> {
  // In slices, so a sync after a long time offline stays within the command-line length limit.
  for (let i = 0; i < put.length; i += 200) {
    await git.run(['update-index', '--add', ...put.slice(i, i + 200).flatMap((p) => ['--cacheinfo', p])], env);
  }
  for (let i = 0; i < drop.length; i += 200) await git.run(['update-index', '--force-remove', '--', ...drop.slice(i, i + 200)], env);
}

async function blobOf(git: Git, commit: string, path: string): Promise<string | undefined> {
  const out = await git.run(['ls-tree', '-z', commit, '--', path]);
  const oid = out.split('\t')[0]?.split(' ')[2];
  return oid || undefined;
}

function splitZ(out: string): string[] {
  return out.split('\0').filter((s) => s !== '');
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

