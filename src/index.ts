/** The public surface of `import ... from '@secretstore/cli'`. */
export { openStore, type Store, type StoreApi } from './library.js';
export type { OpenStoreOptions } from './store/secret-store.js';
export type { Passphrase, PassphraseProvider, PassphraseRequest } from './crypto/passphrase.js';
export * from './model/api.js';
export * from './model/lifecycle.js';
export * from './model/listing.js';
export * from './model/rotation.js';
export * from './model/replication.js';
export * from './model/resource-policy.js';
export * from './errors.js';
