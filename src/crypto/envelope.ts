import { randomFillSync } from 'node:crypto';
import { writeStoreYaml } from '../core/store-yaml-write.js';
import { yamlLibrary, yamlValue } from '../core/yaml-value.js';
import { DecryptionFailure, EncryptionFailure, InvalidParameterException } from '../errors.js';
import type { SecretValue } from '../model/value.js';
import { sodiumSync } from './sodium.js';
import type { Identity, Recipient, SealBinding, Signer } from './types.js';

/** A version sealed without a writer's commitment (every file before write-only writers, and puts by identities without a signing key). */
export const ENVELOPE_FORMAT = 'secretstore.sealed/1';
/**
 * The same envelope plus `commitment` (see `Commitment`), which goes into the AEAD's associated data.
 * A new tag rather than an optional field, so an older secretstore says "unknown format" instead of
 * misreading the file, and a downgrade (strip the commitment, write /1) fails authentication.
 */
export const ENVELOPE_FORMAT_COMMITTED = 'secretstore.sealed/2';
export type EnvelopeFormat = typeof ENVELOPE_FORMAT | typeof ENVELOPE_FORMAT_COMMITTED;
const CIPHER = 'xchacha20poly1305-ietf';
const HEADER_COMMENT = '# secretstore sealed version: the value below is encrypted; this header is authenticated';
const FILE_KEY_BYTES = 32;
// libsodium's crypto_aead_xchacha20poly1305_ietf_NPUBBYTES / _ABYTES; fixed by the format, and readEnvelopeHeader needs no sodium
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const FIELDS = ['format', 'store', 'secret', 'version', 'type', 'cipher', 'recipients', 'nonce', 'payload'] as const;
const COMMITMENT_FIELDS = [...FIELDS.slice(0, 7), 'commitment', ...FIELDS.slice(7)] as const;
const MAC_BYTES = 32;

/**
 * A writer's keyed commitment to the value (format /2): `mac` = the writer's `Signer.commit` (keyed
 * BLAKE2b under a key derived from its signing seed) of the binding followed by the plaintext. Only that
 * writer can recompute it, and only from the plaintext it holds, so a write-only writer recognises its
 * own retried put without decrypting; to anyone else it is a random-looking string (no guessable hash).
 */
export interface Commitment {
  /** The writer key (`secretstoresig1...`) whose commitment key made `mac`. */
  readonly writer: string;
  readonly mac: Uint8Array;
}
/** What a sealed file says about itself, readable without any key (e.g. for a `git diff` text converter). */
export interface EnvelopeHeader {
  readonly format: EnvelopeFormat;
  readonly store: string;
  readonly secret: string;
  readonly version: string;
  readonly type: SecretValue['type'];
  readonly cipher: typeof CIPHER;
  /** Recipient public keys, in file order. */
  readonly recipients: readonly string[];
  /** Which writer committed to the value (format /2 only). */
  readonly committedBy?: string;
}

interface Envelope extends EnvelopeHeader {
  readonly commitment?: Commitment;
  readonly stanzas: readonly { readonly key: string; readonly sealed: Uint8Array }[];
  readonly nonce: Uint8Array;
  readonly payload: Uint8Array;
}

/**
 * Computed from the binding the caller expects, never from the file, so a file swapped into another
 * store, secret or version fails authentication even if its header was edited to match.
 */
function bindingFields(format: EnvelopeFormat, binding: SealBinding, type: SecretValue['type']): string[] {
  return [format, binding.storeId, binding.secretArn, binding.versionId, type];
}

/** Format /1: the binding. Format /2: the binding and the commitment, so neither can be swapped or stripped. */
function associatedData(binding: SealBinding, type: SecretValue['type'], commitment?: Commitment): Uint8Array {
  const fields = commitment
    ? [...bindingFields(ENVELOPE_FORMAT_COMMITTED, binding, type), commitment.writer, toBase64(commitment.mac)]
    : bindingFields(ENVELOPE_FORMAT, binding, type);
  return new TextEncoder().encode(JSON.stringify(fields));
}

/**
 * What a commitment's MAC is computed over: the binding (a JSON array, so self-delimiting) then the
 * plaintext. The binding makes the same value in two versions commit differently, so commitments do not
 * even show which versions repeat a value.
 */
function commitmentMessage(binding: SealBinding, value: SecretValue, plaintext: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(bindingFields(ENVELOPE_FORMAT_COMMITTED, binding, value.type)));
  const message = new Uint8Array(head.length + plaintext.length);
  message.set(head);
  message.set(plaintext, head.length);
  return message;
}

function commitTo(signer: Signer, binding: SealBinding, value: SecretValue, plaintext: Uint8Array): Commitment {
  const message = commitmentMessage(binding, value, plaintext);
  try {
    return { writer: signer.publicKey, mac: signer.commit(message) };
  } finally {
    sodiumSync().memzero(message);
  }
}

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/**
 * Encrypts once under a fresh file key, and seals that key to each recipient. With a `signer` (every
 * identity that has a signing key) the file also carries its keyed commitment to the value (format /2).
 */
export function sealValue(
  value: SecretValue,
  binding: SealBinding,
  recipients: readonly Recipient[],
  signer?: Signer,
): string {
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
  // The file key and the nonce in one call to Node's CSPRNG (the one libsodium's WebAssembly build reads
  // too, but a call per byte: 56 of them here).
  const fresh = randomFillSync(new Uint8Array(FILE_KEY_BYTES + NONCE_BYTES));
  const fileKey = fresh.subarray(0, FILE_KEY_BYTES);
  try {
    const commitment = signer && commitTo(signer, binding, value, plaintext);
    const nonce = fresh.subarray(FILE_KEY_BYTES);
    const payload = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      plaintext,
      associatedData(binding, value.type, commitment),
      null,
      nonce,
      fileKey,
    );
    return serialize(binding, value.type, wrapAll(fileKey, recipients), commitment, nonce, payload);
  } finally {
    sodium.memzero(fresh);
    if (value.type === 'string') sodium.memzero(plaintext); // our copy; a caller's binary is theirs to keep
  }
}

/** Seals the file key to each recipient (once per distinct key). */
function wrapAll(fileKey: Uint8Array, recipients: readonly Recipient[]): { key: string; sealed: string }[] {
  const unique = [...new Map(recipients.map((r) => [r.publicKey, r])).values()];
  return unique.map((r) => {
    let sealed: Uint8Array;
    try {
      sealed = r.wrap(fileKey);
    } catch {
      throw new EncryptionFailure(`cannot seal the file key to recipient ${r.publicKey}`);
    }
    return { key: r.publicKey, sealed: toBase64(sealed) };
  });
}

function serialize(
  binding: SealBinding,
  type: SecretValue['type'],
  stanzas: readonly { key: string; sealed: string }[],
  commitment: Commitment | undefined,
  nonce: Uint8Array,
  payload: Uint8Array,
): string {
  const body = {
    format: commitment ? ENVELOPE_FORMAT_COMMITTED : ENVELOPE_FORMAT,
    store: binding.storeId,
    secret: binding.secretArn,
    version: binding.versionId,
    type,
    cipher: CIPHER,
    recipients: stanzas,
    ...(commitment ? { commitment: { writer: commitment.writer, mac: toBase64(commitment.mac) } } : {}),
    nonce: toBase64(nonce),
    payload: toBase64(payload),
  };
  // lineWidth 0: a folded base64 line would still parse, but diffs and greps are clearer unfolded
  return `${HEADER_COMMENT}\n${writeStoreYaml(body) ?? yamlLibrary().stringify(body, { lineWidth: 0 })}`;
}

/**
 * Re-keying: the same file with its file key sealed to `recipients` instead. The file key is opened with
 * `identities` (DecryptionFailure naming `path` when none can), sealed to the recipients the file lacks
 * and zeroed; stanzas of recipients who stay are kept, those of others dropped; the nonce,
 * payload and commitment are kept byte for byte, so the value is never decrypted and the AEAD binding
 * stays valid. The binding is checked first, so a file moved from elsewhere is not blessed by a re-key.
 */
export function rewrapEnvelope(
  text: string,
  binding: SealBinding,
  identities: readonly Identity[],
  recipients: readonly Recipient[],
  path: string,
): string {
  if (recipients.length === 0) {
    throw new EncryptionFailure(`cannot re-key ${path}: no recipient covers version ${binding.versionId} of ${binding.secretArn}`);
  }
  const envelope = parseEnvelope(text, path);
  checkBinding(envelope, binding, path);
  const fileKey = unwrapFileKey(envelope, identities, path);
  try {
    // A recipient who stays keeps its stanza: sealing the same file key again would protect nothing more,
    // and X25519 is most of a re-key's cost. Only added recipients are sealed to.
    const kept = new Map(envelope.stanzas.map((st) => [st.key, toBase64(st.sealed)]));
    const added = wrapAll(fileKey, recipients.filter((r) => !kept.has(r.publicKey)));
    const fresh = new Map(added.map((st) => [st.key, st.sealed]));
    const unique = [...new Set(recipients.map((r) => r.publicKey))];
    const stanzas = unique.map((key) => ({ key, sealed: kept.get(key) ?? fresh.get(key)! }));
    return serialize(binding, envelope.type, stanzas, envelope.commitment, envelope.nonce, envelope.payload);
  } finally {
    sodiumSync().memzero(fileKey);
  }
}

/**
 * A retried put's value against a version's commitment, without decrypting: 'same' or 'different' when
 * one of `signers` made the commitment; 'unknown' when the file has none or another writer made it.
 * The MACs are compared in constant time.
 */
export function compareCommitment(
  text: string,
  binding: SealBinding,
  value: SecretValue,
  signers: readonly Signer[],
  path: string,
): 'same' | 'different' | 'unknown' {
  const envelope = parseEnvelope(text, path);
  checkBinding(envelope, binding, path);
  const { commitment } = envelope;
  const signer = commitment && signers.find((s) => s.publicKey === commitment.writer);
  if (!commitment || !signer) return 'unknown';
  if (envelope.type !== value.type) return 'different';
  const plaintext = value.type === 'string' ? new TextEncoder().encode(value.text) : value.bytes;
  const sodium = sodiumSync();
  try {
    const mine = commitTo(signer, binding, value, plaintext).mac;
    return sodium.memcmp(mine, commitment.mac) ? 'same' : 'different';
  } finally {
    if (value.type === 'string') sodium.memzero(plaintext);
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
  const read = yamlValue(text);
  if ('problem' in read) throw bad('it is not valid YAML');
  const data = read.value;
  if (!record(data)) throw bad('it is not a YAML mapping');
  if (data.format === undefined) throw bad('missing field format');
  if (data.format !== ENVELOPE_FORMAT && data.format !== ENVELOPE_FORMAT_COMMITTED) {
    throw bad(`unknown format ${show(data.format)}; this secretstore reads ${ENVELOPE_FORMAT} and ${ENVELOPE_FORMAT_COMMITTED}`);
  }
  const format: EnvelopeFormat = data.format;
  const fields: readonly string[] = format === ENVELOPE_FORMAT ? FIELDS : COMMITMENT_FIELDS;
  for (const field of fields) if (!(field in data)) throw bad(`missing field ${field}`);
  for (const field of Object.keys(data)) {
    if (!fields.includes(field)) throw bad(`unexpected field ${show(field)}`);
  }
  let commitment: Commitment | undefined;
  if (format === ENVELOPE_FORMAT_COMMITTED) {
    const c = data.commitment;
    if (!record(c)) throw bad('commitment must be a mapping with writer and mac');
    const extra = Object.keys(c).find((k) => k !== 'writer' && k !== 'mac');
    if (extra !== undefined) throw bad(`unexpected field commitment.${show(extra)}`);
    const writer = string(c.writer, 'commitment.writer');
    if (!writer.startsWith('secretstoresig1')) throw bad('commitment.writer is not a writer key (secretstoresig1...)');
    const mac = base64(c.mac, 'commitment.mac');
    if (mac.length !== MAC_BYTES) throw bad(`commitment.mac is ${mac.length} bytes, not ${MAC_BYTES}`);
    commitment = { writer, mac };
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
    format,
    store: string(data.store, 'store'),
    secret: string(data.secret, 'secret'),
    version: string(data.version, 'version'),
    type: data.type,
    cipher: CIPHER,
    recipients: stanzas.map((s) => s.key),
    ...(commitment ? { committedBy: commitment.writer, commitment } : {}),
    stanzas,
    nonce,
    payload,
  };
}

/** Validates the whole file, but decrypts nothing and needs no key (nor libsodium). */
export function readEnvelopeHeader(text: string, path: string): EnvelopeHeader {
  const { format, store, secret, version, type, cipher, recipients, committedBy } = parseEnvelope(text, path);
  return { format, store, secret, version, type, cipher, recipients, ...(committedBy ? { committedBy } : {}) };
}

/** Opens a sealed version file with the first identity that is one of its recipients. */
export function openValue(
  text: string,
  binding: SealBinding,
  identities: readonly Identity[],
  path: string,
): SecretValue {
  const envelope = parsedEnvelope(text, binding, path);
  checkBinding(envelope, binding, path);

  const sodium = sodiumSync();
  const fileKey = unwrapFileKey(envelope, identities, path);
  let plaintext: Uint8Array;
  try {
    plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      envelope.payload,
      associatedData(binding, envelope.type, envelope.commitment),
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
 * Envelopes parsed before, by the version they were read for: a long-lived client (serve, the agent)
 * opening the same version again skips the parse when the text is the same. Only public parts of a file
 * are kept (its header, sealed stanzas, nonce and ciphertext), for at most PARSED_MAX_CHARS of file text,
 * oldest dropped first.
 */
const parsed = new Map<string, { readonly text: string; readonly envelope: Envelope }>();
const PARSED_MAX_CHARS = 16 * 1024 * 1024;
let parsedChars = 0;

function parsedEnvelope(text: string, binding: SealBinding, path: string): Envelope {
  const key = `${binding.storeId}\n${binding.secretArn}\n${binding.versionId}`;
  const known = parsed.get(key);
  if (known !== undefined && known.text === text) return known.envelope;
  const envelope = parseEnvelope(text, path);
  forgetParsed(key);
  parsed.set(key, { text, envelope });
  parsedChars += text.length;
  for (const oldest of parsed.keys()) {
    if (parsedChars <= PARSED_MAX_CHARS) break;
    forgetParsed(oldest);
  }
  return envelope;
}

function forgetParsed(key: string): void {
  const entry = parsed.get(key);
  if (entry === undefined) return;
  parsed.delete(key);
  parsedChars -= entry.text.length;
}

/** A friendlier message than the AEAD failure a wrong binding would cause anyway. */
function checkBinding(envelope: Envelope, binding: SealBinding, path: string): void {
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
