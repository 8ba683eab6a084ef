/**
 * Hand edits of the store, as a writer makes them: with trust v2 nothing is signed per file, so a hand
 * edit needs no re-signing; the commit that records it is signed by the commit-msg hook (install-hooks,
 * run by init) with the committer's writer key, as for any user. `resign` only checks, as the pre-commit
 * hook would, that the identity is a writer HEAD's configuration authorises for those files (so a test can
 * still expect a refusal), and leaves the work tree as it is.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/codec.js';
import { signedMessage } from '../../src/core/commit-signature.js';
import { cryptoReady } from '../../src/crypto/sodium.js';
import { readIdentityFile } from '../../src/crypto/identity-file.js';
import { commitSignerFor, planChanges } from '../../src/trust/sign-commit.js';
import type { TestStore } from './store.js';

export async function resign(t: Pick<TestStore, 'dir' | 'identity'>, paths: readonly string[], opts: { identity?: string } = {}): Promise<void> {
  const [signer] = (await readIdentityFile(opts.identity ?? t.identity)).signers;
  const show = (path: string) => {
    try {
      return execFileSync('git', ['show', `HEAD:${path}`], { cwd: t.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  };
  const config = parseConfig(show('.secretstore.yaml') ?? '', '.secretstore.yaml');
  const changes = paths.map((path) => ({ path, content: readFileSync(join(t.dir, path), 'utf8') }));
  await commitSignerFor(config, signer, () => planChanges(changes, async (p) => show(p)));
}

/**
 * Commits everything in the work tree with git plumbing (no hooks run), signed with a valid signature by
 * the writer key of `identity` (default the store's): a writer's commit when that key is a writer, a
 * well-formed forgery when it is not. Moves HEAD (the branch) to it and returns its id.
 */
export async function commitSigned(t: Pick<TestStore, 'dir' | 'identity' | 'env'>, subject: string, opts: { identity?: string } = {}): Promise<string> {
  await cryptoReady();
  const [signer] = (await readIdentityFile(opts.identity ?? t.identity)).signers;
  if (signer === undefined) throw new Error('the identity holds no signing key');
  const git = (args: readonly string[], input?: string) => execFileSync('git', args, { cwd: t.dir, env: t.env, encoding: 'utf8', input }).trim();
  git(['add', '-A']);
  const tree = git(['write-tree']);
  const parent = git(['rev-parse', 'HEAD']);
  const message = signedMessage({ tree, parents: [parent], message: subject }, signer.publicKey, (b) => signer.sign(b));
  const commit = git(['commit-tree', tree, '-p', parent, '-F', '-'], message);
  git(['update-ref', 'HEAD', commit]);
  return commit;
}
