export type { Identity, Recipient, SealBinding, Signer, WriterKey } from './types.js';
export { cryptoReady, loadSodium } from './sodium.js';
export { generateIdentity, identityFromText, parseRecipient, parseWriterKey, signerFromText } from './keys.js';
export type { GeneratedIdentity } from './keys.js';
export { readIdentities, readIdentityFile, requireIdentities, resolveIdentityPath, writeIdentityFile } from './identity-file.js';
export type { IdentityKeys } from './identity-file.js';
export { ENVELOPE_FORMAT, openValue, readEnvelopeHeader, sealValue } from './envelope.js';
export type { EnvelopeHeader } from './envelope.js';
