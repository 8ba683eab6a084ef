/**
 * The user's writer key for what git paths sign on their behalf (sync's merge commit, the commit-msg and
 * post-rewrite hooks, the post-merge prune): undefined when there is no identity file at all, so a
 * reader-only clone still syncs and pulls (its merges stay unsigned, and readers recompute them).
 */
import { existsSync } from 'node:fs';
import type { Signer } from '../crypto/types.js';
import { loadCrypto } from '../crypto/load.js';

export async function writerSigner(identity: string | undefined, env: NodeJS.ProcessEnv): Promise<Signer | undefined> {
  const crypto = await loadCrypto();
  const path = crypto.resolveIdentityPath({ flag: identity, env });
  if (!existsSync(path)) return undefined;
  const { askPassphrase } = await import('../terminal/passphrase.js');
  const keys = await crypto.readIdentityFile(path, { passphrase: (request) => askPassphrase(request, env) });
  return keys.signers[0];
}
