/**
 * The pre-commit hook: a commit made by hand (not through secretstore) that touches the store is
 * validated with the same codec and invariants as every read, and pruned with the same function as
 * put. It works on what is staged, since that is what the commit will hold. The pre-merge-commit hook
 * runs the same check on a merge made by plain git (`git pull`, `git merge`), so a merge that leaves
 * more versions than the policy allows is pruned too. An index the hook rewrites is signed like any
 * other change (signChanges).
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, secretDir, versionPath, VERSIONS_DIR } from '../core/layout.js';
import { applyPrune } from '../core/prune.js';
import { signWhenKeyed } from './signing.js';
import type { FileChange, StoreLocation } from './types.js';
import { checkVersionFiles } from './view.js';
import { optionalSigner, type OptionalSigner } from './writer-key.js';

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

/** Whose key signs an index the hook rewrites: loaded only when there is something to prune. */
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
  const staged = (await git(['diff', '--cached', '--name-only', '-z', '--no-renames', '--', base])).split('\0').filter(Boolean);
  if (staged.length === 0) return [];
  const config = parseConfig(await git(['show', `:${loc.prefix}${CONFIG_FILE}`]), CONFIG_FILE);
  const notes: string[] = [];
  // The identity file is read once, when the first index needs pruning (a protected one costs an Argon2id run).
  let signerOnce: Promise<OptionalSigner> | undefined;
  const hookSigner = () => (signerOnce ??= signing ? optionalSigner(signing.identity, signing.env) : Promise.resolve<OptionalSigner>({ signer: undefined, why: 'no identity given' }));
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
    const changes: FileChange[] = [
      { path: indexPath(index.name), content: serializeSecretIndex(after) },
      ...pruned.map((id): FileChange => ({ path: versionPath(index.name, id), delete: true })),
    ];
    const signer = await hookSigner();
    if (signer.signer === undefined) notes.push(`secretstore: the pruned index of ${index.name} is unsigned (${signer.why ?? 'no signing key'})`);
    const signed = await signWhenKeyed({ location: loc, config, signer: signer.signer }, changes);
    const content = signed.find((c) => c.path === indexPath(index.name));
    if (content === undefined || !('content' in content)) throw new InvalidRequestException(`signing dropped ${indexFile}`);
    await git(['rm', '-q', '--cached', '--', ...removed]);
    await Promise.all(removed.map((p) => unlink(join(loc.repoRoot, p)).catch(() => undefined)));
    await writeFile(worktreeIndex, content.content);
    await git(['add', '--', indexFile]);
    notes.push(`secretstore: pruned ${pruned.length} version(s) of ${index.name}: ${pruned.join(', ')}`);
  }
  return notes;
}

/**
 * The post-merge hook: after git committed a merge (`git pull`, `git merge`), the secrets it touched
 * are pruned by the same rule, in one commit of their own, signed like any other change. A
 * fast-forward needs nothing: each of its commits was pruned when it was made.
 */
export async function postMerge(loc: StoreLocation, git: GitRunner, now: Date, signing: HookSigning): Promise<string[]> {
  const merge = await git(['rev-parse', '-q', '--verify', 'HEAD^2']).catch(() => '');
  if (merge.trim() === '') return [];
  const base = `${loc.prefix}${SECRETS_DIR}`;
  const changed = (await git(['diff', '--name-only', '-z', '--no-renames', 'HEAD^1', 'HEAD', '--', base])).split('\0').filter(Boolean);
  const folders = [...touchedFolders(changed, base)];
  if (folders.length === 0) return [];
  const [{ transact }, { readConfig, WorkTreeView }] = await Promise.all([import('./transaction.js'), import('./view.js')]);
  return transact(loc, async () => {
    const config = await readConfig(loc.root);
    const view = new WorkTreeView(loc.root, config, async () => []);
    const changes: FileChange[] = [];
    const lines: string[] = [];
    for (const folder of folders) {
      const text = await git(['show', `HEAD:${folder}/${INDEX_FILE}`]).catch(() => undefined);
      if (text === undefined) continue; // the merge removed the secret
      const name = parseSecretIndex(text, `${folder}/${INDEX_FILE}`).name;
      const index = await view.readSecret(name);
      if (index === undefined) continue;
      const { index: after, pruned } = applyPrune(index, now, config.policy);
      if (pruned.length === 0) continue;
      changes.push(
        { path: indexPath(name), content: serializeSecretIndex(after) },
        ...pruned.map((id): FileChange => ({ path: versionPath(name, id), delete: true })),
      );
      lines.push(...pruned.map((id) => `pruned: ${name} ${id}`));
    }
    if (changes.length === 0) return { result: [], changes: [], message: '' };
    const { signer, why } = await optionalSigner(signing.identity, signing.env);
    const notes = [`secretstore: pruned ${lines.length} version(s) after the merge, in a commit of its own`];
    if (signer === undefined) notes.push(`secretstore: the pruned indexes are unsigned (${why ?? 'no signing key'})`);
    return {
      result: notes,
      changes: await signWhenKeyed({ location: loc, config, signer }, changes),
      message: `prune: after merge, ${lines.length} version(s)\n\n${lines.join('\n')}\n`,
    };
  });
}
