/**
 * `secretstore sign`: the escape hatch after a hand edit (a conflict resolved by hand, a label moved in an
 * editor). It signs the indexes and configuration edited in the work tree, as they are, and commits them
 * with the sealed files edited beside them in one commit. The writer vouches for what it signs: every
 * sealed file of a signed secret is hashed as it is now, and `previous` is HEAD's state. It refuses, like
 * every write, a key that is not a trusted writer of the last trusted configuration (HEAD's if it passes the
 * configuration check, else the one this clone pinned), so a hand edit cannot vouch for itself.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidParameterException, InvalidRequestException } from '../errors.js';
import { CONFIG_FILE } from '../core/codec.js';
import { INDEX_FILE, secretDir, SECRETS_DIR } from '../core/layout.js';
import { openGit } from './git.js';
import { secretFolderOf } from '../trust/sign-commit.js';
import type { SecretStore } from './store.js';
import { transact } from './transaction.js';
import type { FileChange } from './types.js';

export interface SignResult {
  /** Store-relative paths of the files signed. */
  Signed: string[];
}

export async function signHandEdits(
  store: SecretStore,
  opts: { secretIds?: readonly string[]; config?: boolean; message?: string },
): Promise<SignResult> {
  const loc = store.location;
  const git = openGit(loc.repoRoot, store.options.env ?? process.env);
  const base = [`${loc.prefix}${SECRETS_DIR}`, `${loc.prefix}${CONFIG_FILE}`];
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
  const selected = opts.secretIds === undefined && !opts.config;
  const wanted = (path: string) =>
    selected ||
    (path === CONFIG_FILE ? opts.config === true : folders?.includes(secretFolderOf(path) ?? '') === true);
  const paths = [...new Set(changed)].filter(wanted).sort();
  // A named secret whose index was not edited is re-signed as it is (its signature may be the problem).
  for (const folder of folders ?? []) if (!paths.some((p) => secretFolderOf(p) === folder)) paths.push(`${folder}/${INDEX_FILE}`);
  if (opts.config && !paths.includes(CONFIG_FILE)) paths.push(CONFIG_FILE);
  if (paths.length === 0) throw new InvalidRequestException('nothing to sign: no index or configuration differs from HEAD');

  const edited = new Map<string, string | Buffer | undefined>();
  for (const path of paths) edited.set(path, await readFile(join(loc.root, path)).catch(() => undefined));
  const signable = paths.filter((p) => p === CONFIG_FILE || p.endsWith(`/${INDEX_FILE}`));
  const changes: FileChange[] = paths.map((path) => {
    const content = edited.get(path);
    return content === undefined ? { path, delete: true } : { path, content: path.endsWith('.sealed') ? content : content.toString('utf8') };
  });
  const signer = (await store.keys()).signers[0];
  // Authorised by HEAD's authenticated configuration (the store refuses to open an unauthenticated HEAD).
  const config = store.config;
  const { commitSignerFor, planChanges } = await import('../trust/sign-commit.js');
  const atHead = async (path: string) => (await store.objects.read(`${store.commitId}:${loc.prefix}${path}`))?.content.toString('utf8');
  try {
    await transact(
      loc,
      async () => ({
        result: undefined,
        changes,
        message: `${opts.message?.trim() || `sign: ${signable.length} file(s) edited by hand, signed by their writer`}\n\nsigned: ${paths.join('\nsigned: ')}\n`,
      }),
      {
        adopt: paths,
        sign: async (draft) => (await commitSignerFor(config, signer, () => planChanges(changes, atHead)))(draft),
        committed: (commit) => store.trust.wrote(commit),
      },
    );
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
  return { Signed: signable };
}
