/**
 * The crypto module, loaded on first use: libsodium's start costs a command tens of milliseconds, so only
 * operations that seal, open or sign pay for it. Apart from index.ts, which it loads.
 */
let cryptoModule: Promise<typeof import('./index.js')> | undefined;

/** libsodium costs ~40 ms to start; only operations that seal or open a value pay for it. */
export function loadCrypto(): Promise<typeof import('./index.js')> {
  // Once per process: a long-lived client asks per request, and a dynamic import is not free.
  cryptoModule ??= import('./index.js').then(async (crypto) => {
    await crypto.cryptoReady();
    return crypto;
  });
  return cryptoModule;
}
