/**
 * The pre-commit hook: a commit made by hand (not through secretstore) that touches the store is
 * validated with the same codec and invariants as every read, and pruned with the same function as
 * put. It works on what is staged, since that is what the commit will hold. It refuses such a commit
 * when the committer holds no writer key that HEAD's configuration authorises for it (readers would
 * refuse it); the commit-msg hook (git-signing.ts) then signs it. The pre-merge-commit hook runs the
 * same validation on a merge made by plain git (`git pull`, `git merge`); merges are never signed by
 * hooks (readers recompute an unsigned merge). Indexes the hook rewrites are left unsigned: the
 * commit's signature covers them.
 */
import { existsSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { INDEX_FILE, SECRETS_DIR, secretDir, versionPath, VERSIONS_DIR } from '../core/layout.js';
import { applyPrune } from '../core/prune.js';
import { commitSignerFor, planChanges } from '../trust/sign-commit.js';
import type { FileChange, StoreLocation } from '../model/repository.js';
import { checkVersionFiles } from '../store/work-tree-view.js';
import { writerSigner } from '../store/writer-key.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

/** Runs git in the repository's top level and returns stdout. */
export type GitRunner = (args: string[]) => Promise<string>;

/** The secret folders (repo-relative) that the staged change touches. */
function touchedFolders(paths: readonly string[], base: string): Set<string> {
  const folders = new Set<string>();
  for (const path of paths) {
    const marker = path.lastIndexOf(`/${VERSIONS_DIR}/`);
    if (path.endsWith(`/${INDEX_FILE}`)) folders.add(path.slice(0, -INDEX_FILE.length - 1));
    else if (marker > 0) folders.add(path.slice(0, marker));
    else throw new InvalidRequestException(`${path} does not belong in ${base}: only secret.yaml and versions/*.sealed files live there`);
  }
  return folders;
}

/** Whose writer key the hooks sign with (the identity file's). */
export interface HookSigning {
  readonly identity?: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * `prune: false` (the pre-merge-commit hook) only validates: git writes an automatic merge commit from
 * the tree it merged before that hook runs, so a pruned index would not reach the commit; the
 * post-merge hook (`postMerge`) prunes right after, in a commit of its own.
 */
export async function preCommit(
  loc: StoreLocation,
  git: GitRunner,
  now: Date,
  signing?: HookSigning,
  opts: { prune?: boolean } = {},
): Promise<string[]> {
  const base = `${loc.prefix}${SECRETS_DIR}`;
  const merging = existsSync(join(loc.gitDir, 'MERGE_HEAD'));
  if (opts.prune !== false && !merging && signing) await requireWriter(loc, git, signing);
  const staged = (await git(['diff', '--cached', '--name-only', '-z', '--no-renames', '--', base])).split('\0').filter(Boolean);
  if (staged.length === 0) return [];
  const config = parseConfig(await git(['show', `:${loc.prefix}${CONFIG_FILE}`]), CONFIG_FILE);
  const notes: string[] = [];
  if (merging && opts.prune !== false) {
    notes.push('secretstore: this merge is committed unsigned: readers accept it only if it is exactly secretstore\'s own merge; a conflict resolved by hand needs secretstore sign instead of git commit');
  }
  for (const folder of touchedFolders(staged, base)) {
    const indexFile = `${folder}/${INDEX_FILE}`;
    const versionFiles = (await git(['ls-files', '-z', '--', `${folder}/${VERSIONS_DIR}/`]))
      .split('\0')
      .filter(Boolean)
      .map((p) => p.slice(folder.length + VERSIONS_DIR.length + 2));
    const text = await git(['show', `:${indexFile}`]).catch(() => undefined);
    if (text === undefined) {
      if (versionFiles.length > 0) throw new InvalidRequestException(`${folder}: version files are staged without a ${INDEX_FILE}`);
      continue; // the whole secret was removed
    }
    const index = parseSecretIndex(text, indexFile);
    if (`${loc.prefix}${secretDir(index.name)}` !== folder) {
      throw new InvalidRequestException(`${indexFile} names secret '${index.name}', which belongs in ${loc.prefix}${secretDir(index.name)}`);
    }
    checkVersionFiles(index, indexFile, versionFiles);
    const { index: after, pruned } = applyPrune(index, now, config.policy);
    if (pruned.length === 0) continue;
    if (opts.prune === false) {
      notes.push(`secretstore: the merge leaves ${pruned.length} version(s) of ${index.name} over the policy; pruning them after the merge commit`);
      continue;
    }
    const worktreeIndex = join(loc.repoRoot, indexFile);
    if ((await readFile(worktreeIndex, 'utf8').catch(() => undefined)) !== text) {
      throw new InvalidRequestException(`${indexFile} has unstaged changes; stage or discard them so the hook can prune`);
    }
    const removed = pruned.map((id) => `${loc.prefix}${versionPath(index.name, id)}`);
    await git(['rm', '-q', '--cached', '--', ...removed]);
    await Promise.all(removed.map((p) => unlink(join(loc.repoRoot, p)).catch(() => undefined)));
    await writeFile(worktreeIndex, serializeSecretIndex(after));
    await git(['add', '--', indexFile]);
    notes.push(`secretstore: pruned ${pruned.length} version(s) of ${index.name}: ${pruned.join(', ')}`);
  }
  return notes;
}

/** The store's paths under the repository (pathspecs). */
export function storePathspecs(loc: StoreLocation): string[] {
  return [`${loc.prefix}${CONFIG_FILE}`, `${loc.prefix}.secretstore`, `${loc.prefix}${SECRETS_DIR}`];
}

/**
 * What `git diff <args> --name-status` lists under the store, as store-relative changes for
 * authorisation (label indexes with their new text, read with `show <side>:path`).
 */
export async function storeChanges(loc: StoreLocation, git: GitRunner, diffArgs: readonly string[], side: string): Promise<FileChange[]> {
  const out = await git(['diff', ...diffArgs, '--name-status', '-z', '--no-renames', '--', ...storePathspecs(loc)]);
  const fields = out.split('\0').filter(Boolean);
  const changes: FileChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [status, full] = [fields[i]!, fields[i + 1]!];
    const path = full.slice(loc.prefix.length);
    if (status.startsWith('D')) changes.push({ path, delete: true });
    else if (path.endsWith(`/${INDEX_FILE}`)) changes.push({ path, content: await git(['show', `${side}:${full}`]) });
    else changes.push({ path, content: '' });
  }
  return changes;
}

/**
 * Refuses a commit that changes the store when the identity holds no writer key that HEAD's
 * configuration authorises for it: readers would refuse it (one line, and what to do).
 */
async function requireWriter(loc: StoreLocation, git: GitRunner, signing: HookSigning): Promise<void> {
  const head = (await git(['rev-parse', '-q', '--verify', 'HEAD^{commit}']).catch(() => '')).trim();
  if (head === '') return; // the first commit of a repository: init's, made by secretstore itself
  const changes = await storeChanges(loc, git, ['--cached', 'HEAD'], '');
  if (changes.length === 0) return;
  const configText = await git(['show', `HEAD:${loc.prefix}${CONFIG_FILE}`]).catch(() => undefined);
  const refuse = (why: string) =>
    new InvalidRequestException(
      `this commit changes the store, but ${why}, so readers would refuse it: ask a writer to make the change (or to add your key: secretstore writers add); git commit --no-verify commits it anyway, unsigned`,
    );
  if (configText === undefined) return; // no store at HEAD yet
  const config = parseConfig(configText, CONFIG_FILE);
  let signer;
  try {
    signer = await writerSigner(signing.identity, signing.env);
  } catch (err) {
    throw refuse(`the identity file cannot be read (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  const indexAtHead = (path: string) => git(['show', `HEAD:${loc.prefix}${path}`]).catch(() => undefined);
  try {
    await commitSignerFor(config, signer, () => planChanges(changes, indexAtHead));
  } catch (err) {
    throw refuse(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
}
