export type { Identity, Recipient, SealBinding } from './types.js';
export { cryptoReady, loadSodium } from './sodium.js';
export { generateIdentity, identityFromText, parseRecipient } from './keys.js';
export { readIdentities, resolveIdentityPath, writeIdentityFile } from './identity-file.js';
export { ENVELOPE_FORMAT, openValue, readEnvelopeHeader, sealValue } from './envelope.js';
export type { EnvelopeHeader } from './envelope.js';
