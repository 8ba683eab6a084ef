/**
 * File keys a long-lived client (serve, the agent, the library) has unwrapped, so reading the same
 * sealed version again costs one symmetric decryption instead of an X25519 operation as well.
 *
 * Keyed by the identity's public key and the sealed stanza's bytes: a stanza opens to the same file key
 * under the same key pair every time, and a changed identity file (another key) never hits an entry it
 * did not make. The keys are zeroed when dropped (oldest first past `max`) and on `clear()`; each caller
 * gets a copy, which openValue zeroes after use as it does an unwrapped key.
 */
import type { Identity } from './types.js';
import { sodiumSync } from './sodium.js';

const DEFAULT_MAX = 4096;

export class UnwrapCache {
  private readonly keys = new Map<string, Uint8Array>();
  private readonly wrapped = new WeakMap<Identity, Identity>();

  constructor(private readonly max = DEFAULT_MAX) {}

  /** `identity` with its unwrapping remembered here (the same wrapper for the same identity object). */
  wrap(identity: Identity): Identity {
    let wrapper = this.wrapped.get(identity);
    if (wrapper === undefined) {
      const keys = this.keys;
      const remember = (key: string, fileKey: Uint8Array) => this.remember(key, fileKey);
      wrapper = {
        publicKey: identity.publicKey,
        source: identity.source,
        unwrap(sealed: Uint8Array): Uint8Array | null {
          const key = `${identity.publicKey}:${Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).toString('base64')}`;
          const known = keys.get(key);
          if (known !== undefined) return known.slice();
          const fileKey = identity.unwrap(sealed);
          if (fileKey !== null) remember(key, fileKey.slice());
          return fileKey;
        },
      };
      this.wrapped.set(identity, wrapper);
    }
    return wrapper;
  }

  /** Zeroes and forgets every key (a client's close). */
  clear(): void {
    for (const fileKey of this.keys.values()) sodiumSync().memzero(fileKey);
    this.keys.clear();
  }

  get size(): number {
    return this.keys.size;
  }

  private remember(key: string, fileKey: Uint8Array): void {
    this.keys.set(key, fileKey);
    for (const [old, oldKey] of this.keys) {
      if (this.keys.size <= this.max) break;
      sodiumSync().memzero(oldKey);
      this.keys.delete(old);
    }
  }
}
