import type { SecretValue } from '../model/value.js';

/**
 * Modelled on age: a Recipient wraps a file key, an Identity unwraps it. The rest of secretstore never
 * knows what kind of key sits behind either, so a KMS- or plugin-backed key later is one new file.
 */
export interface Recipient {
  /** Text form of the public key: `secretstore1...` (bech32, so a mistyped key fails its checksum). */
  readonly publicKey: string;
  /** Seal a 32-byte file key to this recipient. */
  wrap(fileKey: Uint8Array): Uint8Array;
}

export interface Identity {
  readonly publicKey: string;
  /** Where it came from (a file path), for "which identities were tried" in error messages. */
  readonly source: string;
  /** The file key, or null when the stanza was not sealed to this identity. */
  unwrap(sealedKey: Uint8Array): Uint8Array | null;
}

/**
 * A trusted writer's signing key (Ed25519). Every change secretstore commits is signed by one; the
 * same key derives the keyed commitment that lets a write-only writer recognise its own retried put.
 */
export interface Signer {
  /** Text form of the public key: `secretstoresig1...` (bech32). */
  readonly publicKey: string;
  readonly source: string;
  /** A detached Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
  /**
   * A 32-byte keyed BLAKE2b of `message` under a key derived from the signing seed: only the holder of
   * this key can recompute it, so it commits to a value without being an unkeyed (guessable) hash.
   */
  commit(message: Uint8Array): Uint8Array;
}

/** A writer's public key, parsed: checks signatures. */
export interface WriterKey {
  readonly publicKey: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/**
 * What a sealed version file is bound to. It goes into the AEAD's associated data, so a file copied,
 * renamed or swapped into another store, secret or version fails to open instead of returning a value.
 */
export interface SealBinding {
  readonly storeId: string;
  /** The secret's ARN: its name plus the random suffix, so a re-created secret of the same name differs. */
  readonly secretArn: string;
  readonly versionId: string;
}

export type { SecretValue };
