/**
 * `secretstore sign`: commits hand edits of the store (a label moved in an editor, a configuration
 * edited, a conflict resolved by hand), signed by the user's writer key like every write: through the
 * store client's transaction, authorised by HEAD's configuration for everything it changes (readers
 * apply the same rule). With a merge in progress (MERGE_HEAD), the commit concludes it: its parents are
 * HEAD and the merged commits, each of which must authenticate first (a writer never signs what the
 * remote brought without a writer's signature), and whatever else the merge staged comes along.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidParameterException, InvalidRequestException } from '../errors.js';
import { shortCommit } from '../core/authorise.js';
import { CONFIG_FILE } from '../core/codec.js';
import { INDEX_FILE, secretDir, SECRETS_DIR } from '../core/layout.js';
import { secretFolderOf } from '../core/authorise.js';
import { openGit } from '../git/client.js';
import type { SecretStore } from '../store/secret-store.js';
import type { FileChange } from '../model/repository.js';

export interface SignResult {
  /** Store-relative paths of the files committed. */
  Signed: string[];
  /** The signed commit. */
  Commit?: string;
  /** The commits a concluded merge joined (MERGE_HEAD). */
  Merged?: string[];
}

export async function signHandEdits(
  store: SecretStore,
  opts: { secretIds?: readonly string[]; config?: boolean; message?: string },
): Promise<SignResult> {
  const loc = store.location;
  const git = openGit(loc.repoRoot, store.options.env ?? process.env);
  const base = [`${loc.prefix}${SECRETS_DIR}`, `${loc.prefix}${CONFIG_FILE}`, `${loc.prefix}.secretstore`];
  const mergeHead = (await readFile(join(loc.gitDir, 'MERGE_HEAD'), 'utf8').catch(() => ''))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  const changed = [
    ...(await git.run(['diff', '--name-only', '-z', '--no-renames', 'HEAD', '--', ...base])).split('\0'),
    ...(await git.run(['ls-files', '-z', '--others', '--exclude-standard', '--', ...base])).split('\0'),
  ]
    .filter(Boolean)
    .map((p) => p.slice(loc.prefix.length));
  const folders = opts.secretIds?.map((id) => {
    if (id.startsWith('arn:')) throw new InvalidParameterException('secretstore sign takes secret names, not ARNs');
    return secretDir(id);
  });
  // A merge is concluded whole: every store path it changed, not a selection.
  const selected = mergeHead.length > 0 || (opts.secretIds === undefined && !opts.config);
  const wanted = (path: string) => selected || (path === CONFIG_FILE ? opts.config === true : folders?.includes(secretFolderOf(path) ?? '') === true);
  const paths = [...new Set(changed)].filter(wanted).sort();
  if (paths.length === 0 && mergeHead.length === 0) throw new InvalidRequestException('nothing to sign: no file of the store differs from HEAD');

  const merged: string[] = [];
  const others: FileChange[] = [];
  if (mergeHead.length > 0) {
    for (const commit of mergeHead) {
      const verdict = await store.trust.authenticate(commit);
      if (!verdict.ok) {
        throw new InvalidRequestException(
          `the merge in progress brings commit ${shortCommit(commit)}, which does not authenticate (commit ${shortCommit(verdict.commit)} ${verdict.why}); refusing to sign it: git merge --abort`,
        );
      }
      merged.push(commit);
    }
    others.push(...(await stagedOutsideStore(loc.repoRoot, loc.prefix, git, base)));
  }
  const edited = new Map<string, Buffer | undefined>();
  for (const path of paths) edited.set(path, await readFile(join(loc.root, path)).catch(() => undefined));
  for (const [path, content] of edited) {
    if (content !== undefined && /^(<<<<<<<|>>>>>>>) /m.test(content.toString('utf8')) && !path.endsWith('.sealed')) {
      throw new InvalidRequestException(`${loc.prefix}${path} still holds conflict markers; resolve them first`);
    }
  }
  const changes: FileChange[] = [
    ...paths.map((path): FileChange => {
      const content = edited.get(path);
      return content === undefined ? { path, delete: true } : { path, content: path.endsWith('.sealed') ? content : content.toString('utf8') };
    }),
    ...others,
  ];
  const signable = paths.filter((p) => p === CONFIG_FILE || p.endsWith(`/${INDEX_FILE}`));
  const mergeMsg = mergeHead.length > 0 ? (await readFile(join(loc.gitDir, 'MERGE_MSG'), 'utf8').catch(() => '')).split('\n').filter((l) => !l.startsWith('#')).join('\n').trim() : '';
  const subject = opts.message?.trim() || mergeMsg || `sign: ${paths.length} file(s) edited by hand, signed by their writer`;
  let commit: string | undefined;
  try {
    await store.commit(
      async () => ({
        result: undefined,
        changes,
        message: `${subject}\n\n${paths.map((p) => `signed: ${p}`).join('\n')}\n`,
        ...(merged.length > 0 ? { parents: merged } : {}),
      }),
      { adopt: [...paths, ...others.map((c) => c.path)] },
    );
    commit = (await git.run(['rev-parse', 'HEAD'])).trim();
  } catch (err) {
    // The transaction brought these paths back to HEAD: give the user their edits back.
    for (const [path, content] of edited) {
      const file = join(loc.root, path);
      if (content === undefined) rmSync(file, { force: true });
      else {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
    throw err;
  }
  if (merged.length > 0) {
    // The merge is concluded, as `git commit` would leave it.
    for (const f of ['MERGE_HEAD', 'MERGE_MSG', 'MERGE_MODE', 'AUTO_MERGE']) rmSync(join(loc.gitDir, f), { force: true });
  }
  return { Signed: signable.length > 0 ? signable : paths, ...(commit ? { Commit: commit } : {}), ...(merged.length > 0 ? { Merged: merged } : {}) };
}

/** What a merge staged outside the store's paths (but inside its folder), to come along in the merge commit. */
async function stagedOutsideStore(repoRoot: string, prefix: string, git: ReturnType<typeof openGit>, storePaths: readonly string[]): Promise<FileChange[]> {
  const unmerged = (await git.run(['diff', '--name-only', '-z', '--diff-filter=U'])).split('\0').filter(Boolean);
  const inStore = (p: string) => storePaths.some((s) => p === s || p.startsWith(`${s}/`));
  const open = unmerged.filter((p) => !inStore(p));
  if (open.length > 0) throw new InvalidRequestException(`${open[0]} still has a conflict; resolve it and git add it, then run secretstore sign again`);
  const staged = (await git.run(['diff', '--cached', '--name-status', '-z', '--no-renames', 'HEAD'])).split('\0').filter(Boolean);
  const changes: FileChange[] = [];
  for (let i = 0; i + 1 < staged.length; i += 2) {
    const [status, path] = [staged[i]!, staged[i + 1]!];
    if (inStore(path)) continue;
    if (!path.startsWith(prefix)) {
      throw new InvalidRequestException(`the merge changes ${path}, outside the store's folder; conclude it with git commit (readers recompute an unsigned merge)`);
    }
    const rel = path.slice(prefix.length);
    if (status.startsWith('D')) changes.push({ path: rel, delete: true });
    else changes.push({ path: rel, content: await readFile(join(repoRoot, path)) });
  }
  return changes;
}
