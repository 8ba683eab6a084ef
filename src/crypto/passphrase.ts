/**
 * Passphrase-protected identity files. The key lines are encrypted with XChaCha20-Poly1305 under a key
 * derived from the passphrase with Argon2id; comments, including the public and writer keys, stay
 * readable, so `recipients add` and `writers` can be fed from the file without the passphrase:
 *
 *     # secretstore identity
 *     # public key: secretstore1...
 *     # writer key: secretstoresig1...
 *     -----BEGIN SECRETSTORE PROTECTED IDENTITY-----
 *     kdf: argon2id13 opslimit=3 memlimit=67108864 salt=<base64, 16 bytes>
 *     aead: xchacha20poly1305-ietf nonce=<base64, 24 bytes> check=<base64, 16 bytes>
 *     <base64 of the ciphertext, 64 characters a line>
 *     -----END SECRETSTORE PROTECTED IDENTITY-----
 *
 * Argon2id gives a 32-byte master key; BLAKE2b keyed by it gives the cipher key and a 16-byte check value,
 * so a wrong passphrase ("wrong passphrase") is told apart from a damaged ciphertext ("damaged"). The
 * check value gives an offline guesser nothing the ciphertext does not: each guess still costs an Argon2id
 * run. The kdf line is the cipher's associated data, and the limits sit in the file, so they can be raised
 * later (`identity protect` re-encrypts with the current defaults) without breaking old files.
 *
 * Argon2id needs libsodium's sumo build, loaded here only, when such a file is read or written.
 * The crypto layer never prompts: whoever reads a protected file passes a `PassphraseProvider`.
 */
import { InvalidRequestException } from '../errors.js';
import { loadSodiumSumo, type SodiumSumo } from './sodium.js';

export const PROTECTED_BEGIN = '-----BEGIN SECRETSTORE PROTECTED IDENTITY-----';
const PROTECTED_END = '-----END SECRETSTORE PROTECTED IDENTITY-----';
const KDF_NAME = 'argon2id13';
const AEAD_NAME = 'xchacha20poly1305-ietf';
const AD_PREFIX = 'secretstore protected identity v1\n';
const KEY_CONTEXT = new TextEncoder().encode('secretstore identity key v1');
const CHECK_CONTEXT = new TextEncoder().encode('secretstore passphrase check v1');
const CHECK_BYTES = 16;
const BASE64_WIDTH = 64;

/** Argon2id cost: `opslimit` passes over `memlimit` bytes. */
export interface KdfLimits {
  readonly opslimit: number;
  readonly memlimit: number;
}

/**
 * Between libsodium's INTERACTIVE (2 passes, 64 MiB) and MODERATE (3, 256 MiB): 3 passes over 64 MiB took
 * 0.22-0.46 s in the WebAssembly build on the 2-core development machine (MODERATE took 1.6 s), once per
 * command, or once at the start of `secretstore serve`.
 */
export const DEFAULT_KDF_LIMITS: KdfLimits = Object.freeze({ opslimit: 3, memlimit: 64 * 1024 * 1024 });

/** What a file may ask for: libsodium's SENSITIVE memory (1 GiB) and a generous number of passes at most. */
const MAX_OPSLIMIT = 16;
const MAX_MEMLIMIT = 1024 * 1024 * 1024;

/** One request for the passphrase of a protected identity file; `attempt` counts from 1. */
export interface PassphraseRequest {
  readonly path: string;
  readonly attempt: number;
}

/**
 * A passphrase as bytes, which the reader zeroes once the key is derived. `retry`: the source may be asked
 * again after a wrong one (a person at a terminal), up to PASSPHRASE_ATTEMPTS; an automated source is not.
 */
export interface Passphrase {
  readonly bytes: Uint8Array;
  readonly retry: boolean;
}

/** Supplied by the shell or CLI (environment, askpass command, terminal): the crypto layer never prompts. */
export type PassphraseProvider = (request: PassphraseRequest) => Promise<Passphrase>;

export const PASSPHRASE_ATTEMPTS = 3;

/** Whether an identity file's text is passphrase-protected (its marker line is present). */
export function isProtectedIdentityText(text: string): boolean {
  return text.split(/\r?\n/).some((line) => line.trim() === PROTECTED_BEGIN);
}

/** The `# public key:` and `# writer key:` comments of an identity file's text (readable without a passphrase). */
export function publicKeyComments(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^#\s*(?:public|writer) key:\s*(\S+)\s*$/i.exec(line.trim());
    if (m) keys.push(m[1]!.toLowerCase());
  }
  return keys;
}

const damaged = (path: string, why: string) => new InvalidRequestException(`identity file ${path} is damaged: ${why}`);

interface ProtectedBlock {
  readonly kdfLine: string;
  readonly limits: KdfLimits;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
  readonly check: Uint8Array;
  readonly ciphertext: Uint8Array;
}

function decodeBase64(text: string | undefined, path: string, what: string, bytes?: number): Uint8Array {
  if (text === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw damaged(path, `its ${what} is not base64`);
  const value = new Uint8Array(Buffer.from(text, 'base64'));
  if (bytes !== undefined && value.length !== bytes) throw damaged(path, `its ${what} is not ${bytes} bytes`);
  return value;
}

/** `name=value` fields of a header line after its leading word. */
function fields(line: string | undefined, label: string, name: string, path: string): Map<string, string> {
  const words = (line ?? '').trim().split(/\s+/);
  if (words[0] !== `${label}:`) throw damaged(path, `the line after ${PROTECTED_BEGIN} should start with "${label}:"`);
  if (words[1] !== name) throw new InvalidRequestException(`identity file ${path} uses ${label} ${words[1] ?? '(none)'}, which this secretstore does not know (only ${name})`);
  return new Map(words.slice(2).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] as const));
}

function parseBlock(text: string, path: string, sodium: SodiumSumo): ProtectedBlock {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const begin = lines.indexOf(PROTECTED_BEGIN);
  const end = lines.indexOf(PROTECTED_END);
  if (end < begin) throw damaged(path, `its "${PROTECTED_END}" line is missing (truncated?)`);
  const outside = [...lines.slice(0, begin), ...lines.slice(end + 1)];
  if (outside.some((l) => l !== '' && !l.startsWith('#'))) throw damaged(path, 'it holds text outside its protected block besides comments');
  const kdfLine = lines[begin + 1]!;
  const kdf = fields(kdfLine, 'kdf', KDF_NAME, path);
  const aead = fields(lines[begin + 2], 'aead', AEAD_NAME, path);
  const opslimit = Number(kdf.get('opslimit'));
  const memlimit = Number(kdf.get('memlimit'));
  if (!Number.isSafeInteger(opslimit) || opslimit < sodium.crypto_pwhash_OPSLIMIT_MIN || opslimit > MAX_OPSLIMIT) {
    throw damaged(path, `its opslimit must be a whole number from ${sodium.crypto_pwhash_OPSLIMIT_MIN} to ${MAX_OPSLIMIT}`);
  }
  if (!Number.isSafeInteger(memlimit) || memlimit < sodium.crypto_pwhash_MEMLIMIT_MIN || memlimit > MAX_MEMLIMIT) {
    throw damaged(path, `its memlimit must be a whole number of bytes from ${sodium.crypto_pwhash_MEMLIMIT_MIN} to ${MAX_MEMLIMIT}`);
  }
  const body = lines.slice(begin + 3, end).join('');
  const ciphertext = decodeBase64(body, path, 'ciphertext');
  if (ciphertext.length <= sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES) throw damaged(path, 'its ciphertext is too short (truncated?)');
  return {
    kdfLine,
    limits: { opslimit, memlimit },
    salt: decodeBase64(kdf.get('salt'), path, 'salt', sodium.crypto_pwhash_SALTBYTES),
    nonce: decodeBase64(aead.get('nonce'), path, 'nonce', sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES),
    check: decodeBase64(aead.get('check'), path, 'check value', CHECK_BYTES),
    ciphertext,
  };
}

/** The cipher key and the check value from a passphrase; the passphrase bytes are zeroed. */
function deriveKeys(sodium: SodiumSumo, passphrase: Uint8Array, salt: Uint8Array, limits: KdfLimits): { key: Uint8Array; check: Uint8Array } {
  let master: Uint8Array | undefined;
  try {
    master = sodium.crypto_pwhash(32, passphrase, salt, limits.opslimit, limits.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
    return {
      key: sodium.crypto_generichash(32, KEY_CONTEXT, master),
      check: sodium.crypto_generichash(CHECK_BYTES, CHECK_CONTEXT, master),
    };
  } finally {
    if (master) sodium.memzero(master);
    sodium.memzero(passphrase);
  }
}

const associatedData = (kdfLine: string) => new TextEncoder().encode(`${AD_PREFIX}${kdfLine}\n`);

/**
 * Decrypts the key lines of a protected identity file's text and hands them to `use` (which parses them);
 * the decrypted bytes are zeroed when `use` returns. Asks `provider` again after a wrong passphrase only if
 * it said it may be asked again, up to PASSPHRASE_ATTEMPTS times.
 */
export async function openProtectedIdentity<T>(text: string, path: string, provider: PassphraseProvider | undefined, use: (keyText: string) => T): Promise<T> {
  const sodium = await loadSodiumSumo();
  const block = parseBlock(text, path, sodium);
  if (!provider) throw new InvalidRequestException(`identity file ${path} is passphrase-protected and no passphrase source was given`);
  let key: Uint8Array | undefined;
  for (let attempt = 1; !key; attempt++) {
    const passphrase = await provider({ path, attempt });
    const derived = deriveKeys(sodium, passphrase.bytes, block.salt, block.limits);
    if (sodium.memcmp(derived.check, block.check)) {
      key = derived.key;
      break;
    }
    sodium.memzero(derived.key);
    if (!passphrase.retry || attempt >= PASSPHRASE_ATTEMPTS) {
      const tries = attempt > 1 ? ` (${attempt} attempts)` : '';
      throw new InvalidRequestException(`wrong passphrase for identity file ${path}${tries}`);
    }
  }
  let plain: Uint8Array | undefined;
  try {
    plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, block.ciphertext, associatedData(block.kdfLine), block.nonce, key);
  } catch {
    throw damaged(path, 'its encrypted keys fail authentication (edited or corrupted)');
  } finally {
    sodium.memzero(key);
  }
  try {
    return use(new TextDecoder('utf-8', { fatal: false }).decode(plain));
  } finally {
    sodium.memzero(plain);
  }
}

/**
 * The text of a protected identity file: `comments` (each starting with `#`) as they are, then the key
 * lines of `keyText` encrypted under `passphrase`, which is zeroed.
 */
export async function protectIdentityText(comments: readonly string[], keyText: string, passphrase: Uint8Array, limits: KdfLimits = DEFAULT_KDF_LIMITS): Promise<string> {
  const sodium = await loadSodiumSumo();
  const salt = sodium.randombytes_buf(sodium.crypto_pwhash_SALTBYTES);
  const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const kdfLine = `kdf: ${KDF_NAME} opslimit=${limits.opslimit} memlimit=${limits.memlimit} salt=${Buffer.from(salt).toString('base64')}`;
  const { key, check } = deriveKeys(sodium, passphrase, salt, limits);
  const plain = new TextEncoder().encode(keyText);
  let ciphertext: Uint8Array;
  try {
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, associatedData(kdfLine), null, nonce, key);
  } finally {
    sodium.memzero(key);
    sodium.memzero(plain);
  }
  const body = Buffer.from(ciphertext).toString('base64');
  return [
    ...comments,
    PROTECTED_BEGIN,
    kdfLine,
    `aead: ${AEAD_NAME} nonce=${Buffer.from(nonce).toString('base64')} check=${Buffer.from(check).toString('base64')}`,
    ...(body.match(new RegExp(`.{1,${BASE64_WIDTH}}`, 'g')) ?? []),
    PROTECTED_END,
    '',
  ].join('\n');
}
