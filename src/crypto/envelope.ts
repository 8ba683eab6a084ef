import { parseDocument, stringify } from 'yaml';
import { DecryptionFailure, EncryptionFailure, InvalidParameterException } from '../errors.js';
import type { SecretValue } from '../model/value.js';
import { sodiumSync } from './sodium.js';
import type { Identity, Recipient, SealBinding } from './types.js';

export const ENVELOPE_FORMAT = 'secretstore.sealed/1';
const CIPHER = 'xchacha20poly1305-ietf';
const HEADER_COMMENT = '# secretstore sealed version: the value below is encrypted; this header is authenticated';
const FILE_KEY_BYTES = 32;
// libsodium's crypto_aead_xchacha20poly1305_ietf_NPUBBYTES / _ABYTES; fixed by the format, and readEnvelopeHeader needs no sodium
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const FIELDS = ['format', 'store', 'secret', 'version', 'type', 'cipher', 'recipients', 'nonce', 'payload'] as const;

/** What a sealed file says about itself, readable without any key (e.g. for a `git diff` text converter). */
export interface EnvelopeHeader {
  readonly format: typeof ENVELOPE_FORMAT;
  readonly store: string;
  readonly secret: string;
  readonly version: string;
  readonly type: SecretValue['type'];
  readonly cipher: typeof CIPHER;
  /** Recipient public keys, in file order. */
  readonly recipients: readonly string[];
}

interface Envelope extends EnvelopeHeader {
  readonly stanzas: readonly { readonly key: string; readonly sealed: Uint8Array }[];
  readonly nonce: Uint8Array;
  readonly payload: Uint8Array;
}

/**
 * Computed from the binding the caller expects, never from the file, so a file swapped into another
 * store, secret or version fails authentication even if its header was edited to match.
 */
function associatedData(binding: SealBinding, type: SecretValue['type']): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify([ENVELOPE_FORMAT, binding.storeId, binding.secretArn, binding.versionId, type]),
  );
}

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Encrypts once under a fresh file key, and seals that key to each recipient. */
export function sealValue(value: SecretValue, binding: SealBinding, recipients: readonly Recipient[]): string {
  if (recipients.length === 0) {
    throw new EncryptionFailure(`cannot seal version ${binding.versionId} of ${binding.secretArn}: no recipients`);
  }
  if (!binding.storeId || !binding.secretArn || !binding.versionId) {
    throw new EncryptionFailure('cannot seal a value without a store id, secret ARN and version id to bind it to');
  }
  if (value.type === 'string' && /[\uD800-\uDFFF]/u.test(value.text)) {
    // UTF-8 cannot hold a lone surrogate; encoding would silently change the secret
    throw new InvalidParameterException('the secret string is not valid Unicode (it holds an unpaired surrogate)');
  }
  const sodium = sodiumSync();
  const plaintext = value.type === 'string' ? new TextEncoder().encode(value.text) : value.bytes;
  const fileKey = sodium.randombytes_buf(FILE_KEY_BYTES);
  try {
    const unique = [...new Map(recipients.map((r) => [r.publicKey, r])).values()];
    const stanzas = unique.map((r) => {
      let sealed: Uint8Array;
      try {
        sealed = r.wrap(fileKey);
      } catch {
        throw new EncryptionFailure(`cannot seal the file key to recipient ${r.publicKey}`);
      }
      return { key: r.publicKey, sealed: toBase64(sealed) };
    });
    const nonce = sodium.randombytes_buf(NONCE_BYTES);
    const payload = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      plaintext,
      associatedData(binding, value.type),
      null,
      nonce,
      fileKey,
    );
    const body = {
      format: ENVELOPE_FORMAT,
      store: binding.storeId,
      secret: binding.secretArn,
      version: binding.versionId,
      type: value.type,
      cipher: CIPHER,
      recipients: stanzas,
      nonce: toBase64(nonce),
      payload: toBase64(payload),
    };
    // lineWidth 0: a folded base64 line would still parse, but diffs and greps are clearer unfolded
    return `${HEADER_COMMENT}\n${stringify(body, { lineWidth: 0 })}`;
  } finally {
    sodium.memzero(fileKey);
    if (value.type === 'string') sodium.memzero(plaintext); // our copy; a caller's binary is theirs to keep
  }
}

/** Shows a field name or format tag in a message only if it looks like one (the file may hold anything). */
function show(v: unknown): string {
  return typeof v === 'string' && /^[\w./:-]{1,64}$/.test(v) ? v : '(unprintable)';
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseEnvelope(text: string, path: string): Envelope {
  const bad = (why: string) => new DecryptionFailure(`${path} is not a valid sealed version file: ${why}`);
  const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const base64 = (v: unknown, field: string): Uint8Array => {
    if (typeof v !== 'string' || !BASE64.test(v)) throw bad(`${field} is not base64`);
    const bytes = Buffer.from(v, 'base64');
    if (bytes.toString('base64') !== v) throw bad(`${field} is not canonical base64`);
    return new Uint8Array(bytes);
  };
  const string = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v === '') throw bad(`${field} must be a non-empty string`);
    return v;
  };

  // YAML errors quote the offending text, which could be anything; say only that it failed
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw bad('it is not valid YAML');
  const data: unknown = doc.toJS();
  if (!record(data)) throw bad('it is not a YAML mapping');
  if (data.format === undefined) throw bad('missing field format');
  if (data.format !== ENVELOPE_FORMAT) {
    throw bad(`unknown format ${show(data.format)}; this secretstore reads ${ENVELOPE_FORMAT}`);
  }
  for (const field of FIELDS) if (!(field in data)) throw bad(`missing field ${field}`);
  for (const field of Object.keys(data)) {
    if (!(FIELDS as readonly string[]).includes(field)) throw bad(`unexpected field ${show(field)}`);
  }
  if (data.type !== 'string' && data.type !== 'binary') throw bad('type must be string or binary');
  if (data.cipher !== CIPHER) throw bad(`unknown cipher ${show(data.cipher)}; this secretstore knows ${CIPHER}`);
  if (!Array.isArray(data.recipients) || data.recipients.length === 0) {
    throw bad('recipients must be a non-empty list');
  }
  const stanzas = data.recipients.map((r: unknown, i: number) => {
    const at = `recipients[${i}]`;
    if (!record(r)) throw bad(`${at} must be a mapping with key and sealed`);
    const extra = Object.keys(r).find((k) => k !== 'key' && k !== 'sealed');
    if (extra !== undefined) throw bad(`unexpected field ${at}.${show(extra)}`);
    return { key: string(r.key, `${at}.key`), sealed: base64(r.sealed, `${at}.sealed`) };
  });
  const nonce = base64(data.nonce, 'nonce');
  if (nonce.length !== NONCE_BYTES) throw bad(`nonce is ${nonce.length} bytes, not ${NONCE_BYTES}`);
  const payload = base64(data.payload, 'payload');
  if (payload.length < TAG_BYTES) throw bad(`payload is shorter than its ${TAG_BYTES}-byte authentication tag`);
  return {
    format: ENVELOPE_FORMAT,
    store: string(data.store, 'store'),
    secret: string(data.secret, 'secret'),
    version: string(data.version, 'version'),
    type: data.type,
    cipher: CIPHER,
    recipients: stanzas.map((s) => s.key),
    stanzas,
    nonce,
    payload,
  };
}

/** Validates the whole file, but decrypts nothing and needs no key (nor libsodium). */
export function readEnvelopeHeader(text: string, path: string): EnvelopeHeader {
  const { format, store, secret, version, type, cipher, recipients } = parseEnvelope(text, path);
  return { format, store, secret, version, type, cipher, recipients };
}

/** Opens a sealed version file with the first identity that is one of its recipients. */
export function openValue(
  text: string,
  binding: SealBinding,
  identities: readonly Identity[],
  path: string,
): SecretValue {
  const envelope = parseEnvelope(text, path);
  // A friendlier message than the AEAD failure the binding would cause anyway
  const mismatch = (
    [
      ['store', envelope.store, binding.storeId],
      ['secret', envelope.secret, binding.secretArn],
      ['version', envelope.version, binding.versionId],
    ] as const
  ).find(([, found, expected]) => found !== expected);
  if (mismatch) {
    const [what, found, expected] = mismatch;
    throw new DecryptionFailure(`${path} belongs to ${what} ${found}, not ${expected} (was it copied or moved?)`);
  }

  const sodium = sodiumSync();
  const fileKey = unwrapFileKey(envelope, identities, path);
  let plaintext: Uint8Array;
  try {
    plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      envelope.payload,
      associatedData(binding, envelope.type),
      envelope.nonce,
      fileKey,
    );
  } catch {
    throw new DecryptionFailure(
      `${path} failed authentication: it was tampered with, or swapped in from another store, secret or version`,
    );
  } finally {
    sodium.memzero(fileKey);
  }
  if (envelope.type === 'binary') return { type: 'binary', bytes: plaintext };
  try {
    // fatal: never hand back U+FFFD in place of bytes; ignoreBOM: a leading U+FEFF is part of the value
    return { type: 'string', text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plaintext) };
  } catch {
    throw new DecryptionFailure(`${path} holds a string value that is not valid UTF-8`);
  } finally {
    sodium.memzero(plaintext);
  }
}

/**
 * Tries an identity only on the stanzas labelled with its public key: it saves an X25519 operation per
 * stanza, and a stanza that opens has thereby had its label checked.
 */
function unwrapFileKey(envelope: Envelope, identities: readonly Identity[], path: string): Uint8Array {
  if (identities.length === 0) throw new DecryptionFailure(`no identity was given to open ${path}`);
  let corrupt: Identity | undefined;
  for (const identity of identities) {
    for (const stanza of envelope.stanzas) {
      if (stanza.key !== identity.publicKey) continue;
      const fileKey = identity.unwrap(stanza.sealed);
      if (fileKey?.length === FILE_KEY_BYTES) return fileKey;
      if (fileKey) sodiumSync().memzero(fileKey);
      corrupt ??= identity;
    }
  }
  if (corrupt) {
    throw new DecryptionFailure(
      `the sealed file key for ${corrupt.publicKey} in ${path} does not open with ${corrupt.source} (tampered or corrupt)`,
    );
  }
  const tried = identities.map((i) => `${i.source} ${i.publicKey}`).join(', ');
  throw new DecryptionFailure(`none of the identities tried (${tried}) is a recipient of ${path}`);
}
