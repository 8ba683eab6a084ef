/**
 * The writer's signing key for commands that sign what they merge or prune (sync, the merge driver,
 * the git hooks) but must still work without one: a hook or driver run by git cannot ask for help.
 */
import type { Signer } from '../crypto/types.js';
import { loadCrypto } from './view.js';

export interface OptionalSigner {
  readonly signer: Signer | undefined;
  /** Why there is none, one line, for a note on stderr. */
  readonly why?: string;
}

export async function optionalSigner(identity: string | undefined, env: NodeJS.ProcessEnv): Promise<OptionalSigner> {
  try {
    const crypto = await loadCrypto();
    const keys = await crypto.readIdentityFile(crypto.resolveIdentityPath({ flag: identity, env }));
    const signer = keys.signers[0];
    return signer ? { signer } : { signer, why: 'the identity file holds no signing key' };
  } catch (err) {
    return { signer: undefined, why: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}
