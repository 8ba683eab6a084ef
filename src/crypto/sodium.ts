import { randomFillSync } from 'node:crypto';
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
 * libsodium's WebAssembly build takes its randomness from JavaScript, one `Module.getRandomValue()`
 * call (a 32-bit value from the platform CSPRNG) per byte it needs: a sealed box's 32-byte ephemeral
 * key costs 32 crossings and 32 `getRandomValues` calls. `getRandomValue` is the hook libsodium's
 * randombytes.c reads (it installs its own only when the host has not), and the wrappers expose it.
 * This runs `f` with that hook answering from one `randomFillSync` (the same CSPRNG getRandomValues
 * reads) of 4 bytes per value, for the `values` calls `f` is known to make; past them it asks the
 * original hook. The buffer is zeroed and the hook restored when `f` returns or throws, so no
 * randomness outlives the call. Without the hook (another build), `f` just runs.
 */
export function withRandomValues<T>(values: number, f: () => T): T {
  const module = (sodiumSync() as unknown as { libsodium?: { getRandomValue?: () => number } }).libsodium;
  const original = module?.getRandomValue;
  if (module === undefined || typeof original !== 'function') return f();
  const pool = randomFillSync(new Uint32Array(values));
  let next = 0;
  module.getRandomValue = () => (next < values ? pool[next++]! : original());
  try {
    return f();
  } finally {
    module.getRandomValue = original;
    pool.fill(0);
  }
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
