/**
 * The two capabilities of the operation context that touch keys on the write path (see `OpContext`):
 * sealing a new version to the recipients whose scope covers the secret, and telling whether a retried
 * put carries the same value (spec 2.8) by decrypting or, for a write-only writer, by its keyed commitment.
 */
import { nameOfArn } from '../core/arn.js';
import { versionPath } from '../core/layout.js';
import { requireRecipientsFor } from '../core/recipients.js';
import type { IdentityKeys } from '../crypto/identity-file.js';
import { Messages, ResourceExistsException } from '../errors.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';
import { sameValue, type SecretValue } from '../model/value.js';
import type { StoreView } from '../ops/context.js';
import { loadCrypto } from '../crypto/load.js';

/** Needs only public keys (and the signing key for the commitment): a write-only writer can put values. */
export async function sealVersion(
  config: StoreConfig,
  keys: () => Promise<IdentityKeys>,
  secretArn: string,
  versionId: string,
  value: SecretValue,
): Promise<string> {
  const crypto = await loadCrypto();
  const recipients = requireRecipientsFor(config, nameOfArn(secretArn)).map((r) => crypto.parseRecipient(r.publicKey));
  const signer = (await keys()).signers[0];
  return crypto.sealValue(value, { storeId: config.storeId, secretArn, versionId }, recipients, signer);
}

/**
 * Decrypts and compares when this identity is a recipient of the version; otherwise recomputes the
 * version's keyed commitment when this identity's writer key made it; otherwise it cannot tell, and
 * says so in a ResourceExistsException.
 */
export async function holdsValue(
  view: StoreView,
  keys: () => Promise<IdentityKeys>,
  index: SecretIndex,
  versionId: string,
  value: SecretValue,
): Promise<boolean> {
  const crypto = await loadCrypto();
  const { identities, signers } = await keys();
  const path = versionPath(index.name, versionId);
  const text = await view.readSealedText(index, versionId);
  const header = crypto.readEnvelopeHeader(text, path);
  if (identities.some((i) => header.recipients.includes(i.publicKey))) return sameValue(await view.openVersion(index, versionId), value);
  const binding = { storeId: view.config.storeId, secretArn: index.arn, versionId };
  const verdict = crypto.compareCommitment(text, binding, value, signers, path);
  if (verdict !== 'unknown') return verdict === 'same';
  throw new ResourceExistsException(
    `${Messages.tokenInUse(versionId, index.arn)} (This identity cannot compare values: it cannot decrypt that version, and no commitment of its writer key is on it.)`,
  );
}
