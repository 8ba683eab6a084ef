export type { Identity, Recipient, SealBinding, Signer, WriterKey } from './types.js';
export { cryptoReady, loadSodium } from './sodium.js';
export { generateIdentity, identityFromText, parseRecipient, parseWriterKey, signerFromText } from './keys.js';
export type { GeneratedIdentity } from './keys.js';
export {
  disposeKeys,
  isProtectedIdentityFile,
  readIdentities,
  readIdentityFile,
  requireIdentities,
  resolveIdentityPath,
  setIdentityPassphrase,
  writeIdentityFile,
} from './identity-file.js';
export type { IdentityKeys, PassphraseChange, ReadIdentityOptions } from './identity-file.js';
export { DEFAULT_KDF_LIMITS, PASSPHRASE_ATTEMPTS } from './passphrase.js';
export type { KdfLimits, Passphrase, PassphraseProvider, PassphraseRequest } from './passphrase.js';
export {
  compareCommitment,
  ENVELOPE_FORMAT,
  ENVELOPE_FORMAT_COMMITTED,
  openValue,
  readEnvelopeHeader,
  rewrapEnvelope,
  sealValue,
} from './envelope.js';
export type { Commitment, EnvelopeFormat, EnvelopeHeader } from './envelope.js';
export { UnwrapCache } from './unwrap-cache.js';
