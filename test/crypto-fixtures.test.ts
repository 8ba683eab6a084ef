/**
 * Known-answer tests: envelopes sealed once to a committed test identity must keep opening (or keep
 * failing) exactly as cases.json says, so any change to the sealed format is caught.
 * Regenerate (only when the format changes on purpose): REGENERATE_FIXTURES=1 npx vitest run test/crypto-fixtures.test.ts
 */
import { copyFile, chmod, mkdtemp, readdir, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  compareCommitment,
  cryptoReady,
  generateIdentity,
  openValue,
  parseRecipient,
  readIdentities,
  readIdentityFile,
  sealValue,
  type Identity,
  type Signer,
  type SealBinding,
} from '../src/crypto/index.js';
import type { SecretValue } from '../src/model/value.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IDENTITY = join('fixtures', 'identities', 'test-identity-DO-NOT-USE');
const ENVELOPES = join(ROOT, 'fixtures', 'envelopes');
/** A write-only writer's identity (signing key only): the writer of the format /2 (committed) cases. */
const WRITER = join('fixtures', 'identities', 'test-writer-DO-NOT-USE');

type Expect = { type: 'string' | 'binary'; value: string } | { error: 'DecryptionFailure'; reason: string };
interface Case {
  file: string;
  rule: string;
  binding: SealBinding;
  expect: Expect;
}
interface Cases {
  comment: string;
  identity: string;
  cases: Case[];
}

/** The identity file is committed as 0644 (git keeps no 0600), so use a private copy. */
async function loadFixtureIdentities(): Promise<Identity[]> {
  const dir = await mkdtemp(join(tmpdir(), 'secretstore-fixture-'));
  try {
    const copy = join(dir, 'identity');
    await copyFile(join(ROOT, IDENTITY), copy);
    await chmod(copy, 0o600);
    return (await readIdentities(copy)).map((i) => ({
      publicKey: i.publicKey,
      source: IDENTITY,
      unwrap: (sealed: Uint8Array) => i.unwrap(sealed),
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadFixtureSigner(): Promise<Signer> {
  const dir = await mkdtemp(join(tmpdir(), 'secretstore-fixture-'));
  try {
    const copy = join(dir, 'identity');
    await copyFile(join(ROOT, WRITER), copy);
    await chmod(copy, 0o600);
    return (await readIdentityFile(copy)).signers[0]!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!process.env.REGENERATE_FIXTURES)('regenerate fixtures (REGENERATE_FIXTURES=1)', () => {
  test('writes the test identity (if missing), the envelopes and cases.json', async () => {
    await cryptoReady();
    const identityPath = join(ROOT, IDENTITY);
    if (!(await access(identityPath).then(() => true, () => false))) {
      const header =
        '# PUBLIC TEST KEY - DO NOT USE. This secret key is committed on purpose, for the known-answer\n' +
        '# tests in test/crypto-fixtures.test.ts: anything sealed to it is readable by anyone.\n';
      await writeFile(identityPath, header + generateIdentity().identityText, { mode: 0o600 });
    }
    const [me] = await loadFixtureIdentities();
    const other = parseRecipient(generateIdentity().publicKey); // its secret key is thrown away

    const binding: SealBinding = {
      storeId: 'fixture-store-7d1c4e',
      secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:fixtures/db-password-Fx7Kq2',
      versionId: '3f0e8a4c-5b1d-4e2f-9a6c-7d8e9f0a1b2c',
    };
    const v = (n: number) => ({ ...binding, versionId: `${binding.versionId.slice(0, -1)}${n}` });
    const cases: Case[] = [];
    const files = new Map<string, string>();
    const add = (file: string, text: string, rule: string, b: SealBinding, expected: Expect) => {
      files.set(file, text);
      cases.push({ file, rule, binding: b, expect: expected });
    };
    const sealed = (value: SecretValue, b: SealBinding, to = [parseRecipient(me!.publicKey)]) => sealValue(value, b, to);
    const ok = (value: SecretValue): Expect =>
      value.type === 'string'
        ? { type: 'string', value: value.text }
        : { type: 'binary', value: Buffer.from(value.bytes).toString('base64') };
    const fail = (reason: string): Expect => ({ error: 'DecryptionFailure', reason });
    const edit = (text: string, field: string, f: (v: string) => string) =>
      text.replace(new RegExp(`^(\\s*(?:- )?${field}: )(.*)$`, 'm'), (_m, h: string, x: string) => h + f(x));
    const flip = (b64: string, i: number) => {
      const b = Buffer.from(b64, 'base64');
      b[i] = b[i]! ^ 1;
      return b.toString('base64');
    };

    const values: [string, SecretValue, SealBinding][] = [
      ['string-ascii', { type: 'string', text: 'correct horse battery staple' }, binding],
      ['string-unicode', { type: 'string', text: 'pässwörd 🔑 密码' }, v(1)],
      ['string-json', { type: 'string', text: '{"username":"admin","password":"p@ss\\"w0rd"}' }, v(2)],
      ['binary-all-bytes', { type: 'binary', bytes: Uint8Array.from({ length: 256 }, (_, i) => i) }, v(3)],
    ];
    for (const [name, value, b] of values) add(`${name}.sealed`, sealed(value, b), `a ${name} value opens`, b, ok(value));
    const two: SecretValue = { type: 'string', text: 'shared by two' };
    add('two-recipients.sealed', sealed(two, v(4), [parseRecipient(me!.publicKey), other]), 'each recipient opens it', v(4), ok(two));
    add('not-a-recipient.sealed', sealed(two, v(5), [other]), 'a non-recipient cannot open it', v(5), fail('is a recipient of'));

    const base = files.get('string-ascii.sealed')!;
    add('tampered-payload.sealed', edit(base, 'payload', (x) => flip(x, 0)), 'one payload byte changed', binding, fail('failed authentication'));
    add('tampered-sealed-key.sealed', edit(base, 'sealed', (x) => flip(x, 40)), 'one sealed-key byte changed', binding, fail('does not open'));
    add('tampered-type.sealed', edit(base, 'type', () => 'binary'), 'type header changed', binding, fail('failed authentication'));
    add('swapped-version.sealed', edit(base, 'version', () => v(9).versionId), 'copied to another version, header edited to match', v(9), fail('failed authentication'));
    add('truncated.sealed', base.slice(0, base.indexOf('nonce:')), 'a truncated file', binding, fail('missing field nonce'));
    add('unknown-format.sealed', edit(base, 'format', () => 'secretstore.sealed/99'), 'an unknown format version', binding, fail('unknown format'));
    // Format /2: the same envelope plus a write-only writer's keyed commitment (in the associated data)
    const writerPath = join(ROOT, WRITER);
    if (!(await access(writerPath).then(() => true, () => false))) {
      const header =
        '# PUBLIC TEST KEY - DO NOT USE. This signing key is committed on purpose, for the known-answer\n' +
        '# tests of keyed commitments in test/crypto-fixtures.test.ts: anyone can forge its commitments.\n';
      await writeFile(writerPath, header + generateIdentity({ writeOnly: true }).identityText, { mode: 0o600 });
    }
    const committed: SecretValue = { type: 'string', text: 'written by CI' };
    const committedText = sealValue(committed, v(6), [parseRecipient(me!.publicKey)], await loadFixtureSigner());
    add('string-committed.sealed', committedText, 'a format /2 file (with a writer commitment) opens', v(6), ok(committed));
    add('tampered-commitment.sealed', edit(committedText, 'mac', (x) => flip(x, 0)), 'one commitment byte changed (the commitment is in the associated data)', v(6), fail('failed authentication'));
    cases.push({ file: 'string-ascii.sealed', rule: 'opened as another version', binding: v(8), expect: fail('belongs to version') });
    cases.push({ file: 'string-ascii.sealed', rule: 'opened in another store', binding: { ...binding, storeId: 'other-store' }, expect: fail('belongs to store') });

    for (const old of await readdir(ENVELOPES)) if (old.endsWith('.sealed')) await rm(join(ENVELOPES, old));
    for (const [file, text] of files) await writeFile(join(ENVELOPES, file), text);
    const doc: Cases = {
      comment: 'Known-answer cases for test/crypto-fixtures.test.ts, sealed to the identity below. Regenerate: REGENERATE_FIXTURES=1 npx vitest run test/crypto-fixtures.test.ts',
      identity: IDENTITY,
      cases,
    };
    await writeFile(join(ENVELOPES, 'cases.json'), `${JSON.stringify(doc, null, 2)}\n`);
  });
});

// Skipped while regenerating: cases.json is read before the generator runs. Run again without the variable.
describe.skipIf(!!process.env.REGENERATE_FIXTURES)('known-answer envelopes in fixtures/envelopes', async () => {
  const { cases }: Cases = JSON.parse(await readFile(join(ENVELOPES, 'cases.json'), 'utf8'));

  test('every envelope file is listed in cases.json', async () => {
    const listed = new Set(cases.map((c) => c.file));
    const present = (await readdir(ENVELOPES)).filter((f) => f.endsWith('.sealed'));
    expect(present.sort()).toEqual([...listed].sort());
  });

  test.each(cases.map((c) => [`${c.file}: ${c.rule}`, c] as const))('%s', async (_name, c) => {
    await cryptoReady();
    const identities = await loadFixtureIdentities();
    const text = await readFile(join(ENVELOPES, c.file), 'utf8');
    const path = `fixtures/envelopes/${c.file}`;
    if ('error' in c.expect) {
      let err: Error | undefined;
      try {
        openValue(text, c.binding, identities, path);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.name).toBe(c.expect.error);
      expect(err?.message).toContain(c.expect.reason);
      return;
    }
    const value = openValue(text, c.binding, identities, path);
    expect(value.type).toBe(c.expect.type);
    if (value.type === 'string') expect(value.text).toBe(c.expect.value);
    else expect(Buffer.from(value.bytes).toString('base64')).toBe(c.expect.value);
  });
});

describe.skipIf(!!process.env.REGENERATE_FIXTURES)('known-answer keyed commitment (write-only writers)', () => {
  test("string-committed.sealed: its writer recomputes the commitment from the plaintext it holds, without decrypting", async () => {
    await cryptoReady();
    const { cases }: Cases = JSON.parse(await readFile(join(ENVELOPES, 'cases.json'), 'utf8'));
    const c = cases.find((x) => x.file === 'string-committed.sealed')!;
    const text = await readFile(join(ENVELOPES, c.file), 'utf8');
    const writer = await loadFixtureSigner();
    const compare = (value: SecretValue, signers: Signer[]) => compareCommitment(text, c.binding, value, signers, c.file);
    expect(compare({ type: 'string', text: 'written by CI' }, [writer])).toBe('same');
    expect(compare({ type: 'string', text: 'written by CI!' }, [writer])).toBe('different');
    expect(compare({ type: 'binary', bytes: new TextEncoder().encode('written by CI') }, [writer])).toBe('different');
    // Another writer's key cannot test guesses against it
    const { signers } = await (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'secretstore-fixture-'));
      try {
        await writeFile(join(dir, 'id'), generateIdentity({ writeOnly: true }).identityText, { mode: 0o600 });
        return await readIdentityFile(join(dir, 'id'));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    expect(compare({ type: 'string', text: 'written by CI' }, [...signers])).toBe('unknown');
  });
});
