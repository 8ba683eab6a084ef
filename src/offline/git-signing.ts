/**
 * Signed commits made by plain git (docs/trust.md, "git paths"), through the hooks install-hooks sets up:
 *
 * - commit-msg: a `git commit` that changes the store gets the committer's signature trailer, when their
 *   writer key is authorised by HEAD's configuration (the pre-commit hook refused it otherwise). Merges
 *   are never signed by a hook: an unsigned merge is accepted exactly when it is secretstore's own merge;
 *   the hook only names the preference it was made with (`Secretstore-Merge`), so readers recompute it.
 * - post-merge: what a merge left over the policy is pruned in a commit of its own, signed, through the
 *   store client, when the user is a writer; otherwise it says so and leaves it.
 * - post-rewrite (`git pull --rebase`, `git rebase`, `commit --amend`): the rewritten commits that this
 *   user had signed with their own key (the old commit's signature valid) are signed again for their
 *   new parents, in order with `git commit-tree`, and the branch moves by compare-and-swap. Nobody
 *   else's commit and no unsigned commit is ever signed.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import { shortCommit } from '../core/authorise.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { findSignature, MERGE_TRAILER, mergePreference, parseCommitObject, payload, stripspace } from '../core/commit-signature.js';
import { INDEX_FILE, indexPath, versionPath } from '../core/layout.js';
import { PREFERENCES } from '../core/merge.js';
import { applyPrune } from '../core/prune.js';
import type { Signer } from '../crypto/types.js';
import { commitSignerFor, planChanges } from '../trust/sign-commit.js';
import { storeChanges, storePathspecs, type GitRunner, type HookSigning } from './hook.js';
import type { FileChange, StoreLocation } from '../model/repository.js';
import { loadCrypto } from '../crypto/load.js';
import { writerSigner } from '../store/writer-key.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

/** The commit-msg hook: signs the message in `file` for the commit about to be made, or leaves it. */
export async function commitMsg(loc: StoreLocation, git: GitRunner, file: string, signing: HookSigning): Promise<string[]> {
  const raw = await readFile(file, 'utf8');
  if (existsSync(join(loc.gitDir, 'MERGE_HEAD'))) return nameMergePreference(git, file, raw, signing.env);
  const head = (await git(['rev-parse', '-q', '--verify', 'HEAD^{commit}']).catch(() => '')).trim();
  if (head === '') return [];
  const changes = await storeChanges(loc, git, ['--cached', 'HEAD'], '');
  if (changes.length === 0) return [];
  const configText = await git(['show', `HEAD:${loc.prefix}${CONFIG_FILE}`]).catch(() => undefined);
  if (configText === undefined) return [];
  const signer = await writerSigner(signing.identity, signing.env);
  const indexAtHead = (path: string) => git(['show', `HEAD:${loc.prefix}${path}`]).catch(() => undefined);
  // Authorised by HEAD's configuration, as readers check it; the pre-commit hook refused otherwise.
  const sign = await commitSignerFor(parseConfig(configText, CONFIG_FILE), signer, () => planChanges(changes, indexAtHead));
  const tree = (await git(['write-tree'])).trim();
  // git cleans the message up after this hook; cleaned up first, the signed text is what git commits.
  await writeFile(file, await sign({ tree, parents: [head], message: stripspace(raw, true) }));
  return [];
}

/** A merge made with a preference names it in a trailer, so readers recompute the same merge. */
async function nameMergePreference(git: GitRunner, file: string, raw: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const prefer = env.SECRETSTORE_PREFER || (await git(['config', '--get', 'secretstore.prefer']).catch(() => '')).trim();
  if (!PREFERENCES.includes(prefer as never) || mergePreference(raw) !== undefined) return [];
  await writeFile(file, `${stripspace(raw, true).trimEnd()}\n\n${MERGE_TRAILER}: prefer=${prefer}\n`);
  return [];
}

/**
 * The post-merge hook: after git committed a merge (`git pull`, `git merge`), the secrets it touched are
 * pruned by the policy, in one commit of their own, signed, when the user is a writer. A fast-forward
 * needs nothing: each of its commits was pruned when it was made.
 */
export async function postMerge(loc: StoreLocation, git: GitRunner, now: Date, signing: HookSigning): Promise<string[]> {
  const merge = await git(['rev-parse', '-q', '--verify', 'HEAD^2']).catch(() => '');
  if (merge.trim() === '') return [];
  const changed = (await git(['diff', '--name-only', '-z', '--no-renames', 'HEAD^1', 'HEAD', '--', ...storePathspecs(loc)])).split('\0').filter(Boolean);
  const indexes = [...new Set(changed.filter((p) => p.endsWith(`/${INDEX_FILE}`)))];
  if (indexes.length === 0) return [];
  const over: { name: string; ids: readonly string[] }[] = [];
  const config = parseConfig(await git(['show', `HEAD:${loc.prefix}${CONFIG_FILE}`]), CONFIG_FILE);
  for (const path of indexes) {
    const text = await git(['show', `HEAD:${path}`]).catch(() => undefined);
    if (text === undefined) continue;
    const { pruned } = applyPrune(parseSecretIndex(text, path), now, config.policy);
    if (pruned.length > 0) over.push({ name: parseSecretIndex(text, path).name, ids: pruned });
  }
  if (over.length === 0) return [];
  const total = over.reduce((n, o) => n + o.ids.length, 0);
  const signer = await writerSigner(signing.identity, signing.env).catch(() => undefined);
  const leave = (why: string) => [`secretstore: the merge leaves ${total} version(s) over the policy; not pruned: ${why} (a writer's secretstore prune does it)`];
  if (signer === undefined) return leave('you hold no writer key');
  const { SecretStore } = await import('../store/secret-store.js');
  let store;
  try {
    store = await SecretStore.open({ store: loc.root, env: signing.env, ...(signing.identity ? { identity: signing.identity } : {}), warn: () => undefined });
  } catch (err) {
    return leave(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  try {
    const lines: string[] = [];
    await store.commit(async (ctx) => {
      const changes: FileChange[] = [];
      for (const { name } of over) {
        const index = await ctx.store.readSecret(name);
        if (index === undefined) continue;
        const { index: after, pruned } = applyPrune(index, now, ctx.store.config.policy);
        if (pruned.length === 0) continue;
        changes.push({ path: indexPath(name), content: serializeSecretIndex(after) }, ...pruned.map((id): FileChange => ({ path: versionPath(name, id), delete: true })));
        lines.push(...pruned.map((id) => `pruned: ${name} ${id}`));
      }
      return { result: undefined, changes, message: `prune: after merge, ${lines.length} version(s)\n\n${lines.join('\n')}\n` };
    });
    return [`secretstore: pruned ${lines.length} version(s) after the merge, in a signed commit of its own`];
  } catch (err) {
    return leave(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  } finally {
    store.close();
  }
}

/** One commit as `git cat-file commit` shows it, with what commit-tree needs to make it again. */
interface RawCommit {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
  readonly env: Record<string, string>;
}

async function readCommit(git: GitRunner, commit: string): Promise<RawCommit> {
  const raw = await git(['cat-file', 'commit', commit]);
  const obj = parseCommitObject(raw);
  const header = raw.slice(0, raw.indexOf('\n\n'));
  const env: Record<string, string> = {};
  for (const [field, prefix] of [
    ['author', 'GIT_AUTHOR'],
    ['committer', 'GIT_COMMITTER'],
  ] as const) {
    const m = new RegExp(`^${field} (.*) <([^>]*)> (\\d+ [+-]\\d{4})$`, 'm').exec(header);
    if (m) Object.assign(env, { [`${prefix}_NAME`]: m[1]!, [`${prefix}_EMAIL`]: m[2]!, [`${prefix}_DATE`]: m[3]! });
  }
  return { ...obj, env };
}

/** Whether `commit` carries a valid signature by `signer`'s own key (for its own tree and parents). */
async function signedBy(git: GitRunner, commit: string, signer: Signer): Promise<boolean> {
  const obj = parseCommitObject(await git(['cat-file', 'commit', commit]).catch(() => ''));
  const sig = findSignature(obj.message);
  if (sig === undefined || sig.key.toLowerCase() !== signer.publicKey.toLowerCase()) return false;
  const crypto = await loadCrypto();
  try {
    return crypto.parseWriterKey(sig.key).verify(payload(obj.tree, obj.parents, obj.message), sig.sig);
  } catch {
    return false;
  }
}

export type CommitTreeRunner = (tree: string, parents: readonly string[], message: string, env: Record<string, string>) => Promise<string>;

/**
 * The post-rewrite hook. `pairs` are git's "<old> <new>" lines. Commits whose old version this user had
 * signed are signed again for their new place; the commits above them are rewritten onto the re-signed
 * ones (trees and messages kept), and the branch moves from the old tip to the new one by
 * compare-and-swap. The branch's trust record follows it when it named a commit this rewrite replaced.
 */
export async function postRewrite(loc: StoreLocation, git: GitRunner, commitTree: CommitTreeRunner, input: string, signing: HookSigning): Promise<string[]> {
  const pairs = input
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length >= 2 && /^[0-9a-f]{40,64}$/.test(p[0]!) && /^[0-9a-f]{40,64}$/.test(p[1]!));
  if (pairs.length === 0) return [];
  const signer = await writerSigner(signing.identity, signing.env).catch(() => undefined);
  const notes: string[] = [];
  const resign = new Set<string>();
  if (signer !== undefined) {
    for (const [old, now] of pairs) if (await signedBy(git, old!, signer)) resign.add(now!);
  }
  const tip = (await git(['rev-parse', '-q', '--verify', 'HEAD^{commit}'])).trim();
  let newTip = tip;
  if (resign.size > 0 && signer !== undefined) {
    const rewritten = new Set(pairs.map((p) => p[1]!));
    const outside = new Set<string>();
    for (const c of rewritten) for (const p of (await readCommit(git, c)).parents) if (!rewritten.has(p)) outside.add(p);
    const list = (await git(['rev-list', '--reverse', '--topo-order', '--parents', tip, ...(outside.size > 0 ? ['--not', ...outside] : [])]))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '));
    const moved = new Map<string, string>();
    let count = 0;
    for (const [commit, ...oldParents] of list) {
      const c = await readCommit(git, commit!);
      const parents = oldParents.map((p) => moved.get(p) ?? p);
      let message = c.message;
      if (resign.has(commit!)) {
        try {
          const configText = await git(['show', `${parents[0]}:${loc.prefix}${CONFIG_FILE}`]);
          const changes = await storeChanges(loc, git, [parents[0]!, commit!], commit!);
          const indexAt = (path: string) => git(['show', `${parents[0]}:${loc.prefix}${path}`]).catch(() => undefined);
          const sign = await commitSignerFor(parseConfig(configText, CONFIG_FILE), signer, () => planChanges(changes, indexAt));
          message = await sign({ tree: c.tree, parents, message: c.message });
          count += 1;
        } catch (err) {
          notes.push(`secretstore: ${shortCommit(commit!)} is not signed again: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        }
      }
      if (message === c.message && parents.every((p, i) => p === oldParents[i])) continue;
      moved.set(commit!, await commitTree(c.tree, parents, message, c.env));
    }
    newTip = moved.get(tip) ?? tip;
    if (newTip !== tip) {
      const ref = (await git(['symbolic-ref', '-q', 'HEAD']).catch(() => '')).trim() || 'HEAD';
      try {
        await git(['update-ref', '-m', 'secretstore: re-signed rewritten commits', ref, newTip, tip]);
      } catch {
        throw new InvalidRequestException(`HEAD moved while secretstore was re-signing the rewritten commits; nothing was changed (they are unsigned: run git rebase again, or secretstore sign)`);
      }
      notes.push(`secretstore: signed ${count} rewritten commit(s) of yours again for their new parents`);
    }
  }
  await followRecord(loc, pairs.map((p) => p[0]!), newTip, signing.env);
  return notes;
}

/** The branch's never-backwards record moves to the rewritten tip when it named a commit the rewrite replaced and the tip authenticates. */
async function followRecord(loc: StoreLocation, olds: readonly string[], tip: string, env: NodeJS.ProcessEnv): Promise<void> {
  const [{ Authenticator }, { ObjectReader }, { currentBranch }] = await Promise.all([
    import('../trust/authenticate.js'),
    import('../git/objects.js'),
    import('../trust/records.js'),
  ]);
  const objects = new ObjectReader(loc.repoRoot, env);
  const trust = new Authenticator(loc, objects, env, () => undefined);
  try {
    const branch = currentBranch(loc.gitDir);
    const seen = branch === undefined ? undefined : trust.records.head(branch);
    if (branch === undefined || seen === undefined || !olds.includes(seen)) return;
    if ((await trust.authenticate(tip).catch(() => ({ ok: false }))).ok) trust.records.setHead(branch, tip);
  } finally {
    objects.close();
    trust.close();
  }
}
