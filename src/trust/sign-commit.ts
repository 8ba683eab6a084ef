/**
 * Signing a commit this client makes: the identity's writer key must be one that the parent commit's
 * `.secretstore.yaml` authorises for every secret the plan touches (readers apply the same rule, so a
 * write they would refuse is refused here, before anything is written), and the signature goes into the
 * commit message as its trailer (src/core/commit-signature.ts).
 */
import { authorise, secretFolderOf, type StoreChanges } from '../core/authorise.js';
import { CONFIG_FILE, parseSecretIndex } from '../core/codec.js';
import { signedMessage } from '../core/commit-signature.js';
import { INDEX_FILE } from '../core/layout.js';
import type { Signer } from '../crypto/types.js';
import { AccessDeniedException } from '../errors.js';
import type { StoreConfig } from '../model/store.js';
import type { CommitSigner, FileChange } from '../model/repository.js';


/** What a plan changes, for authorisation: names from the plan's own indexes, else from the parent's. */
export async function planChanges(changes: readonly FileChange[], indexAtParent: (path: string) => Promise<string | undefined>): Promise<StoreChanges> {
  let storeWide = false;
  const folders = new Set<string>();
  for (const c of changes) {
    const folder = secretFolderOf(c.path);
    if (folder === undefined) storeWide = true;
    else folders.add(folder);
  }
  const byPath = new Map(changes.map((c) => [c.path, c]));
  const secrets: string[] = [];
  for (const folder of folders) {
    const file = `${folder}/${INDEX_FILE}`;
    const planned = byPath.get(file);
    const text = planned !== undefined && 'content' in planned ? String(planned.content) : await indexAtParent(file);
    if (text === undefined) {
      storeWide = true;
      continue;
    }
    secrets.push(parseSecretIndex(text, file).name);
  }
  return { storeWide, secrets };
}

/** The signer for a plan, or AccessDeniedException (one line) when the identity may not make it. */
export async function commitSignerFor(
  config: StoreConfig,
  signer: Signer | undefined,
  changes: () => Promise<StoreChanges>,
): Promise<CommitSigner> {
  if (signer === undefined) {
    throw new AccessDeniedException('the identity holds no signing key, and every change must be signed by a writer; make one with secretstore keygen');
  }
  const auth = await authorise(config.writers, signer.publicKey, changes);
  if (!auth.ok) {
    const who = `the identity's writer key ${signer.publicKey.slice(0, 24)}...`;
    const why =
      auth.reason === 'not-a-writer'
        ? `is not a writer in ${CONFIG_FILE}; ask a writer to add it (secretstore writers add)`
        : auth.reason === 'scoped'
          ? `(writer ${auth.writer}) has a scope, so it cannot change the store configuration`
          : `(writer ${auth.writer}) is not trusted for secret '${auth.secret}': it is outside the writer's scope`;
    throw new AccessDeniedException(`${who} ${why}`);
  }
  return async (draft) => signedMessage(draft, signer.publicKey, (bytes) => signer.sign(bytes));
}
