/**
 * Properties of the sealed envelope (src/crypto/envelope.ts) with real libsodium: a sealed value opens
 * to itself; any change to a sealed file (its text, a bit of its ciphertext, nonce or sealed key, a field,
 * its format) opens to the very same value or fails with DecryptionFailure, never to another value; and
 * any text is a header or a DecryptionFailure.
 */
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { beforeAll, describe, expect } from 'vitest';
import { compareCommitment, openValue, readEnvelopeHeader, rewrapEnvelope, sealValue } from '../../src/crypto/envelope.js';
import type { SealBinding } from '../../src/crypto/types.js';
import { sameValue } from '../../src/model/value.js';
import { anyText, applyEdits, property, resultOrNamedError, textEdits } from './fuzz.js';
import { makeKeys, type Keys } from './memory-store.js';
import { binding, secretValue } from './arbitraries.js';

const PATH = 'secrets/fuzz/versions/v.sealed';
/** Changes that keep the file well-formed, so they reach the authentication rather than the parser. */
const fieldChange = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), field: fc.constantFrom('payload', 'nonce', 'sealed', 'mac'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), field: fc.constantFrom('store', 'secret', 'version', 'type', 'format', 'key', 'writer'), to: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('retype' as const) }),
  fc.record({ kind: fc.constant('downgrade' as const) }),
  fc.record({ kind: fc.constant('truncate' as const), field: fc.constantFrom('payload', 'sealed'), by: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('duplicate-recipient' as const) }),
);
type FieldChange = typeof fieldChange extends fc.Arbitrary<infer C> ? C : never;

function changeField(text: string, change: FieldChange): string {
  const data = parseDocument(text).toJS() as Record<string, unknown> & { recipients: { key: string; sealed: string }[]; commitment?: { writer: string; mac: string } };
  const base64Of = (field: string): [get: () => string, set: (v: string) => void] => {
    if (field === 'sealed') return [() => data.recipients[0]!.sealed, (v) => (data.recipients[0]!.sealed = v)];
    if (field === 'mac') return data.commitment ? [() => data.commitment!.mac, (v) => (data.commitment!.mac = v)] : [() => data.nonce as string, (v) => (data.nonce = v)];
    return [() => data[field] as string, (v) => (data[field] = v)];
  };
  switch (change.kind) {
    case 'flip': {
      const [get, set] = base64Of(change.field);
      const bytes = Buffer.from(get(), 'base64');
      bytes[change.at % bytes.length]! ^= 1 << change.bit;
      set(bytes.toString('base64'));
      break;
    }
    case 'truncate': {
      const [get, set] = base64Of(change.field);
      const bytes = Buffer.from(get(), 'base64');
      set(bytes.subarray(0, Math.max(0, bytes.length - change.by)).toString('base64'));
      break;
    }
    case 'set':
      if (change.field === 'key') data.recipients[0]!.key = change.to;
      else if (change.field === 'writer') {
        if (data.commitment) data.commitment.writer = `secretstoresig1${change.to}`;
      } else data[change.field] = change.to;
      break;
    case 'retype':
      data.type = data.type === 'string' ? 'binary' : 'string';
      break;
    case 'downgrade':
      // strip the writer's commitment and claim the older format: the AEAD's associated data differs
      delete data.commitment;
      data.format = 'secretstore.sealed/1';
      break;
    case 'duplicate-recipient':
      data.recipients.push({ ...data.recipients[0]! });
      break;
  }
  return stringify(data, { lineWidth: 0 });
}

describe('envelope: sealed version files', () => {
  let keys: Keys;
  let other: Keys;
  beforeAll(async () => {
    keys = await makeKeys();
    other = await makeKeys();
  });
  const seal = (value: SecretValue, b: SealBinding, committed: boolean) => sealValue(value, b, [keys.recipient], committed ? keys.signer : undefined);
  const open = (text: string, b: SealBinding) => openValue(text, b, [keys.identity], PATH);

  property(
    'envelope: a sealed value opens to itself, and the header names its binding (both formats)',
    fc.property(secretValue, binding, fc.boolean(), (value, b, committed) => {
      const text = seal(value, b, committed);
      expect(sameValue(open(text, b), value)).toBe(true);
      const header = readEnvelopeHeader(text, PATH);
      expect([header.store, header.secret, header.version, header.type]).toEqual([b.storeId, b.secretArn, b.versionId, value.type]);
      expect(header.recipients).toEqual([keys.recipient.publicKey]);
      if (value.type === 'string' && value.text.length >= 16) expect(text).not.toContain(value.text);
    }),
    25,
    10,
  );

  property(
    'envelope: any change to the text of a sealed file opens to the same value or fails with DecryptionFailure, never to another value',
    fc.property(secretValue, binding, fc.boolean(), textEdits, (value, b, committed, edits) => {
      const damaged = applyEdits(seal(value, b, committed), edits);
      const outcome = resultOrNamedError(() => open(damaged, b));
      if ('error' in outcome) expect(outcome.error.name).toBe('DecryptionFailure');
      else expect(sameValue(outcome.value, value)).toBe(true);
    }),
    60,
    10,
  );

  property(
    'envelope: any change to a field, a bit of ciphertext, nonce, sealed key or commitment, or the format fails with DecryptionFailure or opens to the same value',
    fc.property(secretValue, binding, fc.boolean(), fc.array(fieldChange, { minLength: 1, maxLength: 3 }), (value, b, committed, changes) => {
      let text = seal(value, b, committed);
      for (const change of changes) text = changeField(text, change);
      const outcome = resultOrNamedError(() => open(text, b));
      if ('error' in outcome) expect(outcome.error.name).toBe('DecryptionFailure');
      else expect(sameValue(outcome.value, value)).toBe(true);
    }),
    60,
    10,
  );

  property(
    'envelope: a file opened for another store, secret or version, or by a key that is not a recipient, fails with DecryptionFailure',
    fc.property(secretValue, binding, binding, (value, b, elsewhere) => {
      fc.pre(b.storeId !== elsewhere.storeId || b.secretArn !== elsewhere.secretArn || b.versionId !== elsewhere.versionId);
      const text = seal(value, b, true);
      const moved = resultOrNamedError(() => open(text, elsewhere));
      expect('error' in moved && moved.error.name).toBe('DecryptionFailure');
      const stranger = resultOrNamedError(() => openValue(text, b, [other.identity], PATH));
      expect('error' in stranger && stranger.error.name).toBe('DecryptionFailure');
    }),
    25,
    10,
  );

  property(
    'envelope: re-keying keeps the value and the commitment; the commitment tells the same value from another',
    fc.property(secretValue, secretValue, binding, (value, guess, b) => {
      const text = seal(value, b, true);
      const rekeyed = rewrapEnvelope(text, b, [keys.identity], [other.recipient, keys.recipient], PATH);
      expect(sameValue(openValue(rekeyed, b, [other.identity], PATH), value)).toBe(true);
      expect(compareCommitment(rekeyed, b, value, [keys.signer], PATH)).toBe('same');
      expect(compareCommitment(rekeyed, b, guess, [keys.signer], PATH)).toBe(sameValue(guess, value) ? 'same' : 'different');
      expect(compareCommitment(rekeyed, b, value, [other.signer], PATH)).toBe('unknown');
    }),
    25,
    10,
  );

  property(
    'envelope: any text is a header or a DecryptionFailure naming the file',
    fc.property(anyText(fc.constant(0).map(() => seal({ type: 'string', text: 'x' }, { storeId: 's', secretArn: 'a', versionId: 'v' }, true))), (t) => {
      const outcome = resultOrNamedError(() => readEnvelopeHeader(t, PATH));
      if ('error' in outcome) {
        expect(outcome.error.name).toBe('DecryptionFailure');
        expect(outcome.error.message).toContain(PATH);
      }
    }),
    60,
    10,
  );
});
