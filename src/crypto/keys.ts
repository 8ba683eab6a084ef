import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { bech32 } from 'bech32';
import { InternalServiceError, InvalidParameterException } from '../errors.js';
import { sodiumSync, withRandomValues } from './sodium.js';
import type { Identity, Recipient, Signer, WriterKey } from './types.js';

const PUBLIC_HRP = 'secretstore';
const SECRET_HRP = 'secretstore-secret-key-';
/** Ed25519: a writer's public key and its 32-byte seed (the identity file line). */
const WRITER_HRP = 'secretstoresig';
const SIGNING_HRP = 'secretstore-signing-key-';
/** Context of the key a writer derives from its seed for value commitments (see `Signer.commit`). */
const COMMITMENT_CONTEXT = new TextEncoder().encode('secretstore commitment key v1');
const KEY_BYTES = 32;
/** The randomness one crypto_box_seal asks libsodium for: its ephemeral X25519 secret key (one value per byte). */
const SEAL_RANDOM_BYTES = 32;
/** DER SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410); the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
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
  const t = text.trim().toLowerCase();
  return t.startsWith(`${SECRET_HRP}1`) || t.startsWith(`${SIGNING_HRP}1`);
}

/** Which kind of line of an identity file this is, without decoding it (never echo it). */
export function keyLineKind(text: string): 'decryption' | 'signing' | 'other' {
  const t = text.trim().toLowerCase();
  if (t.startsWith(`${SECRET_HRP}1`)) return 'decryption';
  if (t.startsWith(`${SIGNING_HRP}1`)) return 'signing';
  return 'other';
}

/** Whether the text starts as a key of the other kind does (`hrp` then the bech32 separator), in either case. */
function isKeyOf(text: string, hrp: string): boolean {
  return text.trim().toLowerCase().startsWith(`${hrp}1`);
}

/** Messages never echo the input: a user may paste a secret key where a public key belongs. */
function recipientProblem(text: string, problem: KeyProblem): string {
  switch (problem) {
    case 'prefix':
      if (isSecretKeyText(text)) return 'a secret key was given where a public key (secretstore1...) was expected; keep it private';
      return isKeyOf(text, WRITER_HRP)
        ? 'this is a writer key (secretstoresig1...), not a public key: use secretstore writers add'
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
  // crypto_box_seal draws its ephemeral X25519 key (SEAL_RANDOM_BYTES) from libsodium's randomness hook.
  return Object.freeze({ publicKey, wrap: (fileKey: Uint8Array) => withRandomValues(SEAL_RANDOM_BYTES, () => sodiumSync().crypto_box_seal(fileKey, key)) });
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
  throw new InvalidParameterException(`${source}: not a valid secretstore secret key: ${secretKeyProblem(key, 'SECRETSTORE-SECRET-KEY-1', 'X25519 key')}`);
}

/** Why a secret key line is not one, for either kind; never the text itself. */
function secretKeyProblem(problem: KeyProblem, prefix: string, what: string): string {
  if (problem === 'prefix') return `it should start with ${prefix}`;
  return problem === 'checksum' ? 'it fails its checksum (mistyped or truncated?)' : `it does not hold a ${KEY_BYTES}-byte ${what}`;
}

/** Parses a writer's public key `secretstoresig1...` (trusted writers in `.secretstore.yaml`). */
export function parseWriterKey(text: string): WriterKey {
  const key = decodeKey(text.trim(), WRITER_HRP);
  if (typeof key === 'string') {
    const why =
      key === 'prefix'
        ? isSecretKeyText(text)
          ? 'a secret key was given where a writer public key (secretstoresig1...) was expected; keep it private'
          : isKeyOf(text, PUBLIC_HRP)
            ? 'this is a public key (secretstore1...), not a writer key: use secretstore recipients add'
            : 'not a secretstore writer key: it should start with secretstoresig1'
        : key === 'checksum'
          ? 'the secretstore writer key fails its checksum (mistyped or truncated?)'
          : `the secretstore writer key does not hold a ${KEY_BYTES}-byte Ed25519 key`;
    throw new InvalidParameterException(why);
  }
  const publicKey = encodeKey(WRITER_HRP, key);
  // Node's Ed25519 (OpenSSL), not libsodium: every read checks an index signature, and a read that
  // opens no value (describe, list) should not pay libsodium's start-up for it. Same algorithm, RFC 8032.
  let keyObject: KeyObject | undefined;
  return Object.freeze({
    publicKey,
    verify(message: Uint8Array, signature: Uint8Array): boolean {
      if (signature.length !== 64) return false; // not a signature by any Ed25519 key
      try {
        keyObject ??= createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key]), format: 'der', type: 'spki' });
        return verifySignature(null, message, keyObject, signature);
      } catch {
        return false; // a point that is not on the curve: no valid signature
      }
    },
  });
}

/**
 * An Ed25519 signing key; like X25519Identity, the key lives only in private fields. The key pair is
 * derived from the seed on first use: a read (a cold get) loads the identity file but never signs, and
 * the derivation is a scalar multiplication (~2 ms of a cold get in libsodium's baseline WebAssembly).
 * The commitment key too is derived when first used.
 */
class Ed25519Signer implements Signer {
  readonly source: string;
  /** libsodium's Ed25519 secret key begins with the seed, so keeping it exposes nothing more. */
  readonly #seed: Uint8Array;
  #pair?: { readonly secretKey: Uint8Array; readonly publicKey: string };
  #commitmentKey?: Uint8Array;
  #disposed = false;

  constructor(seed: Uint8Array, source: string) {
    this.#seed = seed;
    this.source = source;
  }

  /** Whether two signers hold the same key (an identity file that lists one twice), without deriving either. */
  static same(a: Signer, b: Signer): boolean {
    return a instanceof Ed25519Signer && b instanceof Ed25519Signer ? sodiumSync().memcmp(a.#seed, b.#seed) : a.publicKey === b.publicKey;
  }

  get publicKey(): string {
    return this.#derived().publicKey;
  }

  #derived(): { readonly secretKey: Uint8Array; readonly publicKey: string } {
    this.#check();
    if (this.#pair === undefined) {
      const pair = sodiumSync().crypto_sign_seed_keypair(this.#seed);
      this.#pair = { secretKey: pair.privateKey, publicKey: encodeKey(WRITER_HRP, pair.publicKey) };
    }
    return this.#pair;
  }

  #check(): void {
    if (this.#disposed) throw new InternalServiceError(`signing key from ${this.source} used after dispose()`);
  }

  sign(message: Uint8Array): Uint8Array {
    return sodiumSync().crypto_sign_detached(message, this.#derived().secretKey);
  }

  commit(message: Uint8Array): Uint8Array {
    this.#check();
    this.#commitmentKey ??= sodiumSync().crypto_generichash(32, COMMITMENT_CONTEXT, this.#seed);
    return sodiumSync().crypto_generichash(32, message, this.#commitmentKey);
  }

  dispose(): void {
    const sodium = sodiumSync();
    sodium.memzero(this.#seed);
    if (this.#pair) sodium.memzero(this.#pair.secretKey);
    if (this.#commitmentKey) sodium.memzero(this.#commitmentKey);
    this.#disposed = true;
  }
}

/** Whether two signing keys are the same key (see Ed25519Signer.same). */
export const sameSigner = (a: Signer, b: Signer): boolean => Ed25519Signer.same(a, b);

/** `SECRETSTORE-SIGNING-KEY-1...` (either case). Errors name `source` but never the text. */
export function signerFromText(signingKeyText: string, source: string): Signer {
  const seed = decodeKey(signingKeyText.trim(), SIGNING_HRP);
  if (typeof seed !== 'string') return new Ed25519Signer(seed, source);
  throw new InvalidParameterException(
    `${source}: not a valid secretstore signing key: ${secretKeyProblem(seed, 'SECRETSTORE-SIGNING-KEY-1', 'Ed25519 seed')}`,
  );
}

/** A whole identity file's text (comments plus the secret key line) and its public key. */
export interface GeneratedIdentity {
  identityText: string;
  /** The recipient key (`secretstore1...`); absent for a write-only writer's identity. */
  publicKey?: string;
  /** The writer key (`secretstoresig1...`) that signs this identity's changes. */
  writerKey: string;
}

/**
 * A whole identity file's text: a decryption key (X25519, to be a recipient) and a signing key
 * (Ed25519, to be a trusted writer). `writeOnly` leaves out the decryption key: a CI job that puts new
 * values with only the store's public keys and can read nothing back.
 */
export function generateIdentity(opts: { writeOnly?: boolean } = {}): GeneratedIdentity {
  const sodium = sodiumSync();
  const box = opts.writeOnly ? undefined : sodium.crypto_box_keypair();
  const seed = sodium.randombytes_buf(KEY_BYTES);
  const sign = sodium.crypto_sign_seed_keypair(seed);
  try {
    const publicKey = box && encodeKey(PUBLIC_HRP, box.publicKey);
    const writerKey = encodeKey(WRITER_HRP, sign.publicKey);
    const identityText = [
      opts.writeOnly ? '# secretstore identity (write-only: it signs and seals, it cannot decrypt)' : '# secretstore identity',
      `# created: ${new Date().toISOString()}`,
      ...(publicKey ? [`# public key: ${publicKey}`] : []),
      `# writer key: ${writerKey}`,
      ...(box ? [encodeKey(SECRET_HRP, box.privateKey).toUpperCase()] : []),
      encodeKey(SIGNING_HRP, seed).toUpperCase(),
      '',
    ].join('\n');
    return { identityText, ...(publicKey ? { publicKey } : {}), writerKey };
  } finally {
    if (box) sodium.memzero(box.privateKey);
    sodium.memzero(seed);
    sodium.memzero(sign.privateKey);
  }
}
