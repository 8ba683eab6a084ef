import { beforeAll, describe, expect, test, vi } from 'vitest';
import { bech32 } from 'bech32';
import {
  cryptoReady,
  generateIdentity,
  identityFromText,
  parseWriterKey,
  signerFromText,
  openValue,
  parseRecipient,
  readEnvelopeHeader,
  sealValue,
  type Identity,
  type SealBinding,
} from '../src/crypto/index.js';
import type { SecretValue } from '../src/model/value.js';
import { loadSodium, withRandomValues } from '../src/crypto/sodium.js';

const binding: SealBinding = {
  storeId: 'store-5f3a9c',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-password-AbCdEf',
  versionId: '6b4e1a52-2f0c-4c2e-9d7b-1f4a2c3e5d60',
};
const PATH = 'secrets/prod/db-password/6b4e1a52.sealed';

function newIdentity(source = 'test-identity'): { identity: Identity; secretLine: string } {
  const { identityText } = generateIdentity();
  const secretLine = identityText.split('\n').find((l) => l.startsWith('SECRETSTORE-SECRET-KEY-1'))!;
  return { identity: identityFromText(secretLine, source), secretLine };
}

/** Replaces one `field: value` line, passing the old value through `edit`. */
function editLine(text: string, field: string, edit: (v: string) => string): string {
  const re = new RegExp(`^(\\s*(?:- )?${field}: )(.*)$`, 'm');
  expect(text).toMatch(re);
  return text.replace(re, (_m, head: string, v: string) => head + edit(v));
}

function flipByte(b64: string, index = 0): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

let alice: Identity;
let bob: Identity;

beforeAll(async () => {
  await cryptoReady();
  alice = newIdentity('alice.key').identity;
  bob = newIdentity('bob.key').identity;
});

const seal = (value: SecretValue, b: SealBinding = binding, ids: Identity[] = [alice]) =>
  sealValue(value, b, ids.map((i) => parseRecipient(i.publicKey)));

describe('libsodium readiness', () => {
  test('sync crypto used before cryptoReady() throws a clear internal error', async () => {
    vi.resetModules();
    const fresh = await import('../src/crypto/index.js');
    const err = errorOf(() => fresh.generateIdentity());
    expect(err.name).toBe('InternalServiceError');
    expect(err.message).toMatch(/await cryptoReady\(\)/);
    await fresh.cryptoReady();
    expect(fresh.generateIdentity().publicKey).toMatch(/^secretstore1/);
    vi.resetModules();
  });

  test('loadSodium returns the same ready module every time', async () => {
    const { loadSodium } = await import('../src/crypto/sodium.js');
    const [a, b] = await Promise.all([loadSodium(), loadSodium()]);
    expect(a).toBe(b);
    expect(a.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES).toBe(24);
    expect(a.crypto_aead_xchacha20poly1305_ietf_ABYTES).toBe(16);
  });
});

describe('keys', () => {
  test('generated identity file has four comment lines, an uppercase secret key line and a signing key line', () => {
    const { identityText, publicKey, writerKey } = generateIdentity();
    const lines = identityText.trimEnd().split('\n');
    expect(lines[0]).toBe('# secretstore identity');
    expect(lines[1]).toMatch(/^# created: \d{4}-\d\d-\d\dT/);
    expect(lines[2]).toBe(`# public key: ${publicKey}`);
    expect(lines[3]).toBe(`# writer key: ${writerKey}`);
    expect(lines[4]).toMatch(/^SECRETSTORE-SECRET-KEY-1[0-9A-Z]+$/);
    expect(lines[5]).toMatch(/^SECRETSTORE-SIGNING-KEY-1[0-9A-Z]+$/);
    expect(publicKey).toMatch(/^secretstore1[0-9a-z]+$/);
    expect(writerKey).toMatch(/^secretstoresig1[0-9a-z]+$/);
    expect(identityFromText(lines[4]!, 'x').publicKey).toBe(publicKey);
    expect(signerFromText(lines[5]!, 'x').publicKey).toBe(writerKey);
  });

  test('a signature by the signing key verifies under its writer key and not under another, nor for another message', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const signer = signerFromText(a.identityText.trimEnd().split('\n').at(-1)!, 'x');
    const message = new TextEncoder().encode('index sha256');
    const signature = signer.sign(message);
    expect(parseWriterKey(a.writerKey).verify(message, signature)).toBe(true);
    expect(parseWriterKey(b.writerKey).verify(message, signature)).toBe(false);
    expect(parseWriterKey(a.writerKey).verify(new TextEncoder().encode('index sha257'), signature)).toBe(false);
    expect(parseWriterKey(a.writerKey).verify(message, signature.subarray(1))).toBe(false);
  });

  test('a write-only identity has a signing key and no decryption key', () => {
    const { identityText, publicKey, writerKey } = generateIdentity({ writeOnly: true });
    expect(publicKey).toBeUndefined();
    expect(identityText).not.toMatch(/SECRETSTORE-SECRET-KEY-1/);
    expect(identityText).toMatch(/^SECRETSTORE-SIGNING-KEY-1/m);
    expect(writerKey).toMatch(/^secretstoresig1/);
  });

  test('the value commitment is keyed: the same message gives the same MAC for one signer and a different one for another', () => {
    const line = (t: string) => t.trimEnd().split('\n').at(-1)!;
    const one = signerFromText(line(generateIdentity().identityText), 'x');
    const other = signerFromText(line(generateIdentity().identityText), 'y');
    const m = new TextEncoder().encode('value');
    expect(Buffer.from(one.commit(m))).toEqual(Buffer.from(one.commit(m)));
    expect(Buffer.from(one.commit(m))).not.toEqual(Buffer.from(other.commit(m)));
    expect(one.commit(m)).toHaveLength(32);
  });

  test('a writer key with a typo fails its checksum; a signing key given as a writer key is refused without echo', () => {
    const { writerKey, identityText } = generateIdentity();
    const typo = writerKey.slice(0, -1) + (writerKey.endsWith('q') ? 'p' : 'q');
    expect(() => parseWriterKey(typo)).toThrow(/checksum/);
    const seedLine = identityText.trimEnd().split('\n').at(-1)!;
    const err = (() => {
      try {
        parseWriterKey(seedLine);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/secret key was given/);
    expect(err?.message).not.toContain(seedLine.slice(26));
  });

  test('identity derives its public key from the secret key, in either letter case', () => {
    const { identity, secretLine } = newIdentity();
    expect(identityFromText(secretLine.toLowerCase(), 'x').publicKey).toBe(identity.publicKey);
  });

  test('parseRecipient round-trips a public key and accepts surrounding whitespace', () => {
    expect(parseRecipient(`  ${alice.publicKey}\n`).publicKey).toBe(alice.publicKey);
  });

  test('a public key with one character changed fails its checksum (InvalidParameterException)', () => {
    const key = alice.publicKey;
    const i = 20;
    const typo = key.slice(0, i) + (key[i] === 'q' ? 'p' : 'q') + key.slice(i + 1);
    const err = errorOf(() => parseRecipient(typo));
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toMatch(/checksum/);
    expect(err.message).not.toContain(typo);
  });

  test('a key with another prefix is refused as not a secretstore public key', () => {
    const age = bech32.encode('age', bech32.toWords(new Uint8Array(32)), 256);
    const err = errorOf(() => parseRecipient(age));
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toMatch(/should start with secretstore1/);
  });

  test('a secret key passed as a public key is refused without echoing it', () => {
    const { secretLine } = newIdentity();
    const err = errorOf(() => parseRecipient(secretLine));
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toMatch(/secret key/);
    expect(err.message.toUpperCase()).not.toContain(secretLine.slice(24, 40));
  });

  test('a well-formed bech32 key of the wrong length is refused', () => {
    const short = bech32.encode('secretstore', bech32.toWords(new Uint8Array(31)), 256);
    const err = errorOf(() => parseRecipient(short));
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toMatch(/32-byte/);
  });

  test('a mistyped secret key names its source and not its text', () => {
    const { secretLine } = newIdentity();
    const typo = secretLine.slice(0, 30) + (secretLine[30] === 'Q' ? 'P' : 'Q') + secretLine.slice(31);
    const err = errorOf(() => identityFromText(typo, '/home/me/.config/secretstore/identity'));
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toContain('/home/me/.config/secretstore/identity');
    expect(err.message).not.toContain(typo.slice(24, 40));
  });

  test('dispose() zeroes the key and the identity refuses further use', () => {
    const { identity } = newIdentity();
    const sealed = seal({ type: 'string', text: 'x' }, binding, [identity]);
    (identity as Identity & { dispose(): void }).dispose();
    expect(() => openValue(sealed, binding, [identity], PATH)).toThrow(/after dispose/);
  });

  test('the secret key is not visible when an identity is printed', async () => {
    const { identity, secretLine } = newIdentity();
    const { inspect } = await import('node:util');
    expect(inspect(identity, { showHidden: true }).toUpperCase()).not.toContain(secretLine.slice(24));
    expect(JSON.stringify(identity).toUpperCase()).not.toContain(secretLine.slice(24));
  });
});

describe('envelope round trips', () => {
  const invalidUtf8 = new Uint8Array([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff]);
  const cases: [string, SecretValue][] = [
    ['ASCII string', { type: 'string', text: 'correct horse battery staple' }],
    ['multi-byte Unicode string', { type: 'string', text: 'pässwörd 🔑 密码 — ﷽' }],
    ['string with a leading byte-order mark', { type: 'string', text: '\uFEFFbom' }],
    ['empty string', { type: 'string', text: '' }],
    ['65,536-byte string', { type: 'string', text: `${'x'.repeat(65_534)}é` }],
    ['binary of all 256 byte values', { type: 'binary', bytes: Uint8Array.from({ length: 256 }, (_, i) => i) }],
    ['binary of NUL bytes', { type: 'binary', bytes: new Uint8Array(17) }],
    ['binary that is invalid UTF-8', { type: 'binary', bytes: invalidUtf8 }],
  ];

  test.each(cases)('a %s round-trips exactly', (_name, value) => {
    const text = seal(value);
    const opened = openValue(text, binding, [alice], PATH);
    expect(opened.type).toBe(value.type);
    if (value.type === 'string') expect(opened).toEqual(value);
    else expect(Buffer.from((opened as { bytes: Uint8Array }).bytes).equals(Buffer.from(value.bytes))).toBe(true);
  });

  test('a 65,536-byte value is one unfolded payload line', () => {
    const text = seal({ type: 'string', text: 'z'.repeat(65_536) });
    const line = text.split('\n').find((l) => l.startsWith('payload: '))!;
    expect(line.length).toBeGreaterThan(87_000);
    expect(text.split('\n').length).toBeLessThan(15);
  });

  test('sealing does not zero or change a caller-owned binary value', () => {
    const bytes = Uint8Array.from([1, 2, 3]);
    seal({ type: 'binary', bytes });
    expect([...bytes]).toEqual([1, 2, 3]);
  });

  test('the file lists its fields in the documented order, behind the header comment', () => {
    const text = seal({ type: 'string', text: 'v' }, binding, [alice, bob]);
    const keys = text
      .split('\n')
      .filter((l) => /^[a-z]+:/.test(l))
      .map((l) => l.split(':')[0]);
    expect(text.startsWith('# secretstore sealed version: the value below is encrypted; this header is authenticated\n')).toBe(true);
    expect(keys).toEqual(['format', 'store', 'secret', 'version', 'type', 'cipher', 'recipients', 'nonce', 'payload']);
    expect(text).toContain(`  - key: ${alice.publicKey}\n    sealed: `);
  });

  test('the value never appears in the sealed text', () => {
    const text = seal({ type: 'string', text: 'hunter2-very-secret' });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(Buffer.from('hunter2-very-secret').toString('base64').slice(0, 12));
  });

  test('two recipients can each open the value', () => {
    const text = seal({ type: 'string', text: 'shared' }, binding, [alice, bob]);
    expect(openValue(text, binding, [alice], PATH)).toEqual({ type: 'string', text: 'shared' });
    expect(openValue(text, binding, [bob], PATH)).toEqual({ type: 'string', text: 'shared' });
  });

  test('the first identity that is a recipient opens it, whatever comes before it', () => {
    const text = seal({ type: 'string', text: 'v' }, binding, [bob]);
    expect(openValue(text, binding, [alice, bob], PATH)).toEqual({ type: 'string', text: 'v' });
  });

  test('sealing to the same recipient twice writes one stanza', () => {
    const text = seal({ type: 'string', text: 'v' }, binding, [alice, alice]);
    expect(readEnvelopeHeader(text, PATH).recipients).toEqual([alice.publicKey]);
  });

  test('readEnvelopeHeader reports the header without any identity', () => {
    const text = seal({ type: 'binary', bytes: new Uint8Array([1]) }, binding, [alice, bob]);
    expect(readEnvelopeHeader(text, PATH)).toEqual({
      format: 'secretstore.sealed/1',
      store: binding.storeId,
      secret: binding.secretArn,
      version: binding.versionId,
      type: 'binary',
      cipher: 'xchacha20poly1305-ietf',
      recipients: [alice.publicKey, bob.publicKey],
    });
  });

  test('header values that look like numbers or booleans stay strings', () => {
    const b = { storeId: '0123', secretArn: 'true', versionId: '1e5' };
    const text = seal({ type: 'string', text: 'v' }, b);
    expect(readEnvelopeHeader(text, PATH)).toMatchObject({ store: '0123', secret: 'true', version: '1e5' });
    expect(openValue(text, b, [alice], PATH)).toEqual({ type: 'string', text: 'v' });
  });
});

describe('sealing randomness', () => {
  /** libsodium's JavaScript randomness hook (one call per byte it needs), counted while `f` runs. */
  async function hookCalls(f: () => void): Promise<number> {
    const module = (await loadSodium()).libsodium as unknown as { getRandomValue: () => number };
    const original = module.getRandomValue;
    let calls = 0;
    module.getRandomValue = () => {
      calls += 1;
      return original();
    };
    try {
      f();
    } finally {
      module.getRandomValue = original;
    }
    return calls;
  }

  test("sealing takes the file key, the nonce and each sealed box's ephemeral key from Node's CSPRNG in bulk, never libsodium's per-byte hook", async () => {
    let text = '';
    expect(await hookCalls(() => (text = seal({ type: 'string', text: 'v' }, binding, [alice, bob])))).toBe(0);
    expect(openValue(text, binding, [alice], PATH)).toEqual({ type: 'string', text: 'v' });
    expect(openValue(text, binding, [bob], PATH)).toEqual({ type: 'string', text: 'v' });
  });

  test('two seals of one value share no nonce, file key stanza or ephemeral key', () => {
    const texts = Array.from({ length: 20 }, () => seal({ type: 'string', text: 'same' }));
    const field = (text: string, name: string) => new RegExp(`^\\s*(?:- )?${name}: (.*)$`, 'm').exec(text)![1]!;
    for (const name of ['nonce', 'sealed', 'payload']) expect(new Set(texts.map((t) => field(t, name))).size).toBe(texts.length);
    // a sealed box starts with its ephemeral public key
    expect(new Set(texts.map((t) => Buffer.from(field(t, 'sealed'), 'base64').subarray(0, 32).toString('hex'))).size).toBe(texts.length);
  });

  test("withRandomValues answers libsodium's hook for the values it was given, then the original hook, and restores it even when the call throws", async () => {
    const sodium = await loadSodium();
    expect(await hookCalls(() => withRandomValues(2, () => sodium.randombytes_buf(5)))).toBe(3);
    const module = sodium.libsodium as unknown as { getRandomValue: () => number };
    const before = module.getRandomValue;
    expect(() =>
      withRandomValues(4, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(module.getRandomValue).toBe(before);
  });
});

describe('envelope refusals', () => {
  const value: SecretValue = { type: 'string', text: 'hunter2-very-secret' };
  let sealed: string;
  beforeAll(() => {
    sealed = seal(value);
  });

  /** Every refusal is a one-line DecryptionFailure naming the file and holding no value or key. */
  function refusal(text: string, b: SealBinding = binding, ids: Identity[] = [alice]): string {
    const err = errorOf(() => openValue(text, b, ids, PATH));
    expect(err.name).toBe('DecryptionFailure');
    expect(err.message).toContain(PATH);
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toMatch(/SECRETSTORE-SECRET-KEY/i);
    return err.message;
  }

  test('a non-recipient gets DecryptionFailure naming the identities tried', () => {
    const msg = refusal(sealed, binding, [bob]);
    expect(msg).toBe(`none of the identities tried (bob.key ${bob.publicKey}) is a recipient of ${PATH}`);
  });

  test('opening with no identity at all is a DecryptionFailure', () => {
    expect(refusal(sealed, binding, [])).toMatch(/no identity/);
  });

  test('editing one byte of the payload fails authentication', () => {
    expect(refusal(editLine(sealed, 'payload', (v) => flipByte(v, 3)))).toMatch(/failed authentication/);
  });

  test('editing one byte of the authentication tag fails authentication', () => {
    const edited = editLine(sealed, 'payload', (v) => flipByte(v, Buffer.from(v, 'base64').length - 1));
    expect(refusal(edited)).toMatch(/failed authentication/);
  });

  test('editing one byte of the nonce fails authentication', () => {
    expect(refusal(editLine(sealed, 'nonce', (v) => flipByte(v, 5)))).toMatch(/failed authentication/);
  });

  test('editing one byte of a sealed key is a DecryptionFailure', () => {
    expect(refusal(editLine(sealed, 'sealed', (v) => flipByte(v, 40)))).toMatch(/does not open with alice.key/);
  });

  test("editing the header's version field is a DecryptionFailure", () => {
    const edited = editLine(sealed, 'version', () => 'another-version');
    expect(refusal(edited)).toMatch(/belongs to version another-version, not 6b4e1a52/);
  });

  test("editing the header's type field fails authentication", () => {
    const edited = editLine(sealed, 'type', () => 'binary');
    expect(refusal(edited)).toMatch(/failed authentication/);
  });

  test('editing a recipient key label is a DecryptionFailure', () => {
    const edited = editLine(sealed, 'key', () => bob.publicKey);
    refusal(edited, binding, [alice]);
  });

  test.each([
    ['versionId', { versionId: '0c6f0f3e-0000-4000-8000-000000000000' }, /belongs to version .*, not 0c6f0f3e/],
    ['secretArn', { secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/api-key-XyZ123' }, /belongs to secret/],
    ['storeId', { storeId: 'store-other' }, /belongs to store store-5f3a9c, not store-other/],
  ])('opening with another %s is a DecryptionFailure', (_what, change, message) => {
    expect(refusal(sealed, { ...binding, ...change })).toMatch(message);
  });

  test.each([
    ['version', 'versionId', 'another-version'],
    ['secret', 'secretArn', 'arn:aws:secretsmanager:us-east-1:000000000000:secret:other-AAAAAA'],
    ['store', 'storeId', 'store-other'],
  ] as const)('a file swapped in with its %s header edited to match still fails authentication', (field, key, to) => {
    const swapped = editLine(sealed, field, () => to);
    expect(refusal(swapped, { ...binding, [key]: to })).toMatch(/failed authentication/);
  });

  test('a truncated file is a DecryptionFailure', () => {
    for (const cut of [10, sealed.indexOf('recipients:'), sealed.indexOf('nonce:'), sealed.length - 10]) {
      refusal(sealed.slice(0, cut));
    }
  });

  test.each([
    ['not YAML', () => 'format: [unclosed', /not valid YAML/],
    ['a YAML list', () => '- a\n- b\n', /not a YAML mapping/],
    ['empty', () => '', /not a YAML mapping/],
    ['unknown format version', (t: string) => editLine(t, 'format', () => 'secretstore.sealed/3'), /unknown format secretstore.sealed\/3/],
    ['format /2 without its commitment', (t: string) => editLine(t, 'format', () => 'secretstore.sealed/2'), /missing field commitment/],
    ['missing field', (t: string) => t.replace(/^cipher: .*\n/m, ''), /missing field cipher/],
    ['extra field', (t: string) => `${t}comment: hello\n`, /unexpected field comment/],
    ['wrong-typed field', (t: string) => editLine(t, 'nonce', () => '[1, 2]'), /nonce is not base64/],
    ['unknown type', (t: string) => editLine(t, 'type', () => 'json'), /type must be string or binary/],
    ['unknown cipher', (t: string) => editLine(t, 'cipher', () => 'aes256gcm'), /unknown cipher aes256gcm/],
    ['bad base64', (t: string) => editLine(t, 'payload', (v) => `${v.slice(1)}!`), /payload is not base64/],
    ['wrong nonce length', (t: string) => editLine(t, 'nonce', () => Buffer.alloc(12).toString('base64')), /nonce is 12 bytes, not 24/],
    ['no recipients', (t: string) => t.replace(/^recipients:\n(  .*\n)+/m, 'recipients: []\n'), /recipients must be a non-empty list/],
    ['duplicate field', (t: string) => `${t}format: secretstore.sealed/1\n`, /not valid YAML/],
  ])('a malformed file (%s) is a DecryptionFailure saying what is wrong', (_name, mangle, message) => {
    const text = mangle(sealed);
    expect(refusal(text)).toMatch(message);
    expect(() => readEnvelopeHeader(text, PATH)).toThrow(message);
  });

  test('an unknown format tag holding odd text is not echoed', () => {
    expect(refusal(editLine(sealed, 'format', () => '"hunter2 with spaces"'))).toMatch(/unknown format \(unprintable\)/);
  });

  test('sealing with no recipients is an EncryptionFailure', () => {
    const err = errorOf(() => sealValue(value, binding, []));
    expect(err.name).toBe('EncryptionFailure');
    expect(err.message).not.toContain('hunter2');
  });

  test('a string with an unpaired surrogate is refused rather than silently changed', () => {
    const err = errorOf(() => seal({ type: 'string', text: 'a\uD800b' }));
    expect(err.name).toBe('InvalidParameterException');
  });
});
