import { InternalServiceError } from '../errors.js';

/**
 * The only importer of libsodium-wrappers (and of its sumo build, below). libsodium initialises
 * (WebAssembly) asynchronously once; after that every call is synchronous. So: callers `await cryptoReady()` once, and the rest of
 * src/crypto stays synchronous by reading the cached instance through `sodiumSync()`, which throws an
 * internal error (a programming mistake, not a user one) if nobody awaited readiness. The async entry
 * points (readIdentities, writeIdentityFile) await it themselves.
 *
 * The import is dynamic because loading the module is most of libsodium's start-up cost (~25 ms of
 * ~30 ms), and keyless work (readEnvelopeHeader, parseRecipient) should not pay it.
 */
export type Sodium = typeof import('libsodium-wrappers').default;

let loading: Promise<Sodium> | undefined;
let instance: Sodium | undefined;

export async function loadSodium(): Promise<Sodium> {
  loading ??= import('libsodium-wrappers').then(async ({ default: sodium }) => {
    await sodium.ready;
    return (instance = sodium);
  });
  return loading;
}

export async function cryptoReady(): Promise<void> {
  await loadSodium();
}

export function sodiumSync(): Sodium {
  if (!instance) throw new InternalServiceError('libsodium is not initialised: await cryptoReady() before using src/crypto');
  return instance;
}

/**
 * The sumo build of the same family: it adds crypto_pwhash (Argon2id), which the standard build lacks.
 * Loading it costs ~50 ms more and its own WebAssembly heap, so only a passphrase-protected identity
 * file loads it (src/crypto/passphrase.ts); every other command keeps the standard build alone.
 */
export type SodiumSumo = typeof import('libsodium-wrappers-sumo').default;

let loadingSumo: Promise<SodiumSumo> | undefined;

export async function loadSodiumSumo(): Promise<SodiumSumo> {
  loadingSumo ??= import('libsodium-wrappers-sumo').then(async ({ default: sodium }) => {
    await sodium.ready;
    return sodium;
  });
  return loadingSumo;
}
