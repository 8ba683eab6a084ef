import { bech32 } from 'bech32';
import { InternalServiceError, InvalidParameterException } from '../errors.js';
import { sodiumSync } from './sodium.js';
import type { Identity, Recipient } from './types.js';

const PUBLIC_HRP = 'secretstore';
const SECRET_HRP = 'secretstore-secret-key-';
const KEY_BYTES = 32;
/** bech32's default limit (90, from BIP-173) is about addresses, not keys; ours are shorter but need not depend on it. */
const BECH32_LIMIT = 256;

type KeyProblem = 'prefix' | 'checksum' | 'length';

function encodeKey(hrp: string, bytes: Uint8Array): string {
  const words = bech32.toWords(bytes);
  try {
    return bech32.encode(hrp, words, BECH32_LIMIT);
  } finally {
    words.fill(0); // the 5-bit words are the key too
  }
}

function decodeKey(text: string, hrp: string): Uint8Array | KeyProblem {
  if (!text.toLowerCase().startsWith(`${hrp}1`)) return 'prefix';
  const decoded = bech32.decodeUnsafe(text, BECH32_LIMIT);
  if (!decoded) return 'checksum';
  try {
    if (decoded.prefix !== hrp) return 'checksum';
    const bytes = bech32.fromWordsUnsafe(decoded.words);
    if (!bytes) return 'length';
    const key = new Uint8Array(bytes);
    bytes.fill(0);
    if (key.length !== KEY_BYTES) {
      key.fill(0);
      return 'length';
    }
    return key;
  } finally {
    decoded.words.fill(0);
  }
}

function isSecretKeyText(text: string): boolean {
  return text.trim().toLowerCase().startsWith(`${SECRET_HRP}1`);
}

/** Messages never echo the input: a user may paste a secret key where a public key belongs. */
function recipientProblem(text: string, problem: KeyProblem): string {
  switch (problem) {
    case 'prefix':
      return isSecretKeyText(text)
        ? 'a secret key was given where a public key (secretstore1...) was expected; keep it private'
        : 'not a secretstore public key: it should start with secretstore1';
    case 'checksum':
      return 'the secretstore public key fails its checksum (mistyped or truncated?)';
    case 'length':
      return `the secretstore public key does not hold a ${KEY_BYTES}-byte X25519 key`;
  }
}

/** Parses `secretstore1...`; needs no libsodium until `wrap` is called. */
export function parseRecipient(text: string): Recipient {
  const key = decodeKey(text.trim(), PUBLIC_HRP);
  if (typeof key === 'string') throw new InvalidParameterException(recipientProblem(text, key));
  const publicKey = encodeKey(PUBLIC_HRP, key); // canonical (lowercase) form, so keys compare as strings
  return Object.freeze({ publicKey, wrap: (fileKey: Uint8Array) => sodiumSync().crypto_box_seal(fileKey, key) });
}

/**
 * The secret key lives only in this object's private fields (not shown by console.log/util.inspect).
 * `dispose()` zeroes it; it is an extra, since the Identity interface has no such method.
 */
class X25519Identity implements Identity {
  readonly publicKey: string;
  readonly source: string;
  readonly #secretKey: Uint8Array;
  readonly #publicKey: Uint8Array;
  #disposed = false;

  constructor(secretKey: Uint8Array, source: string) {
    this.#secretKey = secretKey;
    this.#publicKey = sodiumSync().crypto_scalarmult_base(secretKey);
    this.publicKey = encodeKey(PUBLIC_HRP, this.#publicKey);
    this.source = source;
  }

  unwrap(sealedKey: Uint8Array): Uint8Array | null {
    if (this.#disposed) throw new InternalServiceError(`identity from ${this.source} used after dispose()`);
    const sodium = sodiumSync();
    try {
      return sodium.crypto_box_seal_open(sealedKey, this.#publicKey, this.#secretKey);
    } catch {
      return null; // sealed to someone else, or corrupt: the caller tells the two apart
    }
  }

  dispose(): void {
    sodiumSync().memzero(this.#secretKey);
    this.#disposed = true;
  }
}

/** `SECRETSTORE-SECRET-KEY-1...` (either case). Errors name `source` but never the text. */
export function identityFromText(secretKeyText: string, source: string): Identity {
  const key = decodeKey(secretKeyText.trim(), SECRET_HRP);
  if (typeof key !== 'string') return new X25519Identity(key, source);
  const why =
    key === 'prefix'
      ? 'it should start with SECRETSTORE-SECRET-KEY-1'
      : key === 'checksum'
        ? 'it fails its checksum (mistyped or truncated?)'
        : `it does not hold a ${KEY_BYTES}-byte X25519 key`;
  throw new InvalidParameterException(`${source}: not a valid secretstore secret key: ${why}`);
}

/** A whole identity file's text (comments plus the secret key line) and its public key. */
export function generateIdentity(): { identityText: string; publicKey: string } {
  const sodium = sodiumSync();
  const pair = sodium.crypto_box_keypair();
  try {
    const publicKey = encodeKey(PUBLIC_HRP, pair.publicKey);
    const identityText = [
      '# secretstore identity',
      `# created: ${new Date().toISOString()}`,
      `# public key: ${publicKey}`,
      encodeKey(SECRET_HRP, pair.privateKey).toUpperCase(),
      '',
    ].join('\n');
    return { identityText, publicKey };
  } finally {
    sodium.memzero(pair.privateKey);
  }
}
