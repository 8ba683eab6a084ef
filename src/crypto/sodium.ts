import { InternalServiceError } from '../errors.js';

/**
 * The only importer of libsodium-wrappers. libsodium initialises (WebAssembly) asynchronously once;
 * after that every call is synchronous. So: callers `await cryptoReady()` once, and the rest of
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
