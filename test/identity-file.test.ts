import { mkdtemp, readdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  cryptoReady,
  disposeKeys,
  generateIdentity,
  openValue,
  parseRecipient,
  parseWriterKey,
  readIdentities,
  readIdentityFile,
  resolveIdentityPath,
  sealValue,
  signerFromText,
  writeIdentityFile,
} from '../src/crypto/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secretstore-identity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

async function writeWithMode(path: string, text: string, mode: number): Promise<void> {
  await writeFile(path, text);
  await chmod(path, mode);
}

const secretLineOf = (identityText: string) => identityText.split('\n').find((l) => l.startsWith('SECRETSTORE-'))!;

describe('resolveIdentityPath', () => {
  test('the --identity flag wins over everything', () => {
    const env = { SECRETSTORE_IDENTITY: '/env/id', XDG_CONFIG_HOME: '/xdg' };
    expect(resolveIdentityPath({ flag: '/flag/id', env })).toBe('/flag/id');
  });
  test('then $SECRETSTORE_IDENTITY', () => {
    expect(resolveIdentityPath({ env: { SECRETSTORE_IDENTITY: '/env/id', XDG_CONFIG_HOME: '/xdg' } })).toBe('/env/id');
  });
  test('then $XDG_CONFIG_HOME/secretstore/identity', () => {
    expect(resolveIdentityPath({ env: { XDG_CONFIG_HOME: '/xdg' } })).toBe('/xdg/secretstore/identity');
  });
  test('then ~/.config/secretstore/identity; empty variables count as unset', () => {
    const expected = join(homedir(), '.config', 'secretstore', 'identity');
    expect(resolveIdentityPath({ env: {} })).toBe(expected);
    expect(resolveIdentityPath({ flag: '', env: { SECRETSTORE_IDENTITY: '', XDG_CONFIG_HOME: '' } })).toBe(expected);
  });
});

describe('readIdentities', () => {
  beforeEach(async () => {
    await cryptoReady();
  });

  test('an identity file with mode 0600 is accepted', async () => {
    const { identityText, publicKey } = generateIdentity();
    const path = join(dir, 'identity');
    await writeWithMode(path, identityText, 0o600);
    const [identity, ...rest] = await readIdentities(path);
    expect(rest).toHaveLength(0);
    expect(identity!.publicKey).toBe(publicKey);
    expect(identity!.source).toBe(path);
  });

  test.each([0o644, 0o640, 0o604, 0o660])('an identity file others can access (mode %o) is refused with the fix', async (mode) => {
    const path = join(dir, 'identity');
    await writeWithMode(path, generateIdentity().identityText, mode);
    const err = await rejection(readIdentities(path));
    expect(err.name).toBe('InvalidRequestException');
    expect(err.message).toContain(path);
    expect(err.message).toContain(mode.toString(8));
    expect(err.message).toContain(`chmod 600 ${path}`);
  });

  test('a missing file says where it looked and how to make one', async () => {
    const path = join(dir, 'nope', 'identity');
    const err = await rejection(readIdentities(path));
    expect(err.name).toBe('InvalidRequestException');
    expect(err.message).toContain(`no identity was found at ${path}`);
    expect(err.message).toContain('secretstore keygen');
    expect(err.message).toContain('--identity');
  });

  test('a directory is refused', async () => {
    const err = await rejection(readIdentities(dir));
    expect(err.name).toBe('InvalidRequestException');
  });

  test('a file may hold several keys; comments, blank lines and CRLF are ignored', async () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const text = `# two keys\r\n\r\n${secretLineOf(a.identityText)}\r\n   \n  # indented comment\n${secretLineOf(b.identityText)}  \n`;
    const path = join(dir, 'identity');
    await writeWithMode(path, text, 0o600);
    expect((await readIdentities(path)).map((i) => i.publicKey)).toEqual([a.publicKey, b.publicKey]);
  });

  test('a malformed line is named by number without echoing its content', async () => {
    const { identityText } = generateIdentity();
    const line = secretLineOf(identityText);
    const typo = line.slice(0, 40) + (line[40] === 'Q' ? 'P' : 'Q') + line.slice(41);
    const path = join(dir, 'identity');
    await writeWithMode(path, `# comment\n\n${typo}\n`, 0o600);
    const err = await rejection(readIdentities(path));
    expect(err.name).toBe('InvalidRequestException');
    expect(err.message).toContain(`${path} line 3`);
    expect(err.message).not.toContain(typo.slice(24, 40));
  });

  test('a public key in an identity file is named as such', async () => {
    const path = join(dir, 'identity');
    await writeWithMode(path, `${generateIdentity().publicKey!}\n`, 0o600);
    expect((await rejection(readIdentities(path))).message).toMatch(/line 1 .*public key, not a secret key/);
  });

  test('a file with only comments holds no identity', async () => {
    const path = join(dir, 'identity');
    await writeWithMode(path, '# nothing here\n', 0o600);
    const err = await rejection(readIdentities(path));
    expect(err.name).toBe('InvalidRequestException');
    expect(err.message).toContain('holds no secret key');
  });
});

describe('writeIdentityFile', () => {
  test('creates missing parent folders with mode 0700 and the file with mode 0600', async () => {
    const path = join(dir, 'config', 'secretstore', 'identity');
    const { publicKey } = await writeIdentityFile(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'config', 'secretstore'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'config'))).mode & 0o777).toBe(0o700);
    expect(await readFile(path, 'utf8')).toContain(`# public key: ${publicKey}`);
    expect(await readdir(join(dir, 'config', 'secretstore'))).toEqual(['identity']); // no temp file left behind
  });

  test('the written identity opens what is sealed to its public key', async () => {
    const path = join(dir, 'identity');
    const { publicKey } = await writeIdentityFile(path);
    const binding = { storeId: 's', secretArn: 'arn', versionId: 'v' };
    const text = sealValue({ type: 'string', text: 'ok' }, binding, [parseRecipient(publicKey!)]);
    expect(openValue(text, binding, await readIdentities(path), 'f')).toEqual({ type: 'string', text: 'ok' });
  });

  test('refuses to overwrite an existing file, leaving it unchanged', async () => {
    const path = join(dir, 'identity');
    await writeIdentityFile(path);
    const before = await readFile(path, 'utf8');
    const err = await rejection(writeIdentityFile(path));
    expect(err.name).toBe('ResourceExistsException');
    expect(err.message).toContain(path);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['identity']);
  });

  test('two concurrent writes to one path: exactly one wins', async () => {
    const path = join(dir, 'identity');
    const results = await Promise.allSettled([writeIdentityFile(path), writeIdentityFile(path)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ publicKey?: string; writerKey: string }>;
    expect(await readFile(path, 'utf8')).toContain(`# public key: ${winner.value.publicKey!}\n# writer key: ${winner.value.writerKey}\n`);
  });

  test('with force, replaces the file with a new key, still mode 0600', async () => {
    const path = join(dir, 'identity');
    const { publicKey: first } = await writeIdentityFile(path);
    await chmod(path, 0o644);
    const { publicKey: second } = await writeIdentityFile(path, { force: true });
    expect(second).not.toBe(first);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readIdentities(path))[0]!.publicKey).toBe(second);
  });
});

describe('issue 12 target 2: a signing key is derived when first used, with the same results', () => {
  test('the writer key, signatures and commitments are those of the key generated; a signing key listed twice is one signer', async () => {
    await cryptoReady();
    const generated = generateIdentity();
    const signingLine = generated.identityText.split('\n').find((l) => l.startsWith('SECRETSTORE-SIGNING-KEY-1'))!;
    const file = join(dir, 'identity');
    await writeFile(file, `${generated.identityText}\n${signingLine}\n${signingLine.toLowerCase()}\n`, { mode: 0o600 });
    const keys = await readIdentityFile(file);
    expect(keys.signers).toHaveLength(1);
    const [signer] = keys.signers;
    const again = signerFromText(signingLine, 'again');
    // Used in the other order (commit before the public key): the same bytes either way.
    const message = new TextEncoder().encode('a commit message');
    expect(Buffer.from(again.commit(message))).toEqual(Buffer.from(signer!.commit(message)));
    expect(signer!.publicKey).toBe(generated.writerKey);
    const signature = signer!.sign(message);
    expect(parseWriterKey(generated.writerKey).verify(message, signature)).toBe(true);
    expect(Buffer.from(again.sign(message))).toEqual(Buffer.from(signature));
  });

  test('a disposed signing key refuses to be used, even before its key pair was ever derived', async () => {
    await cryptoReady();
    const generated = generateIdentity();
    const file = join(dir, 'identity');
    await writeFile(file, generated.identityText, { mode: 0o600 });
    const keys = await readIdentityFile(file);
    disposeKeys(keys);
    expect(() => keys.signers[0]!.publicKey).toThrow(/used after dispose/);
    expect(() => keys.signers[0]!.sign(new Uint8Array(1))).toThrow(/used after dispose/);
    expect(() => keys.signers[0]!.commit(new Uint8Array(1))).toThrow(/used after dispose/);
  });
});
