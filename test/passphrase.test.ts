/**
 * Passphrase-protected identities (issue #4 item 6): the real CLI, real git, real libsodium (the sumo
 * build's Argon2id), and a real pseudo-terminal (`script`) for the prompts.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, generateIdentity, readIdentityFile, setIdentityPassphrase, writeIdentityFile } from '../src/crypto/index.js';
import { CLI, runCli, snapshotRepo, testEnv, type CliResult } from './helpers/store.js';
import { startTestServer } from './helpers/server.js';
import { HAS_SCRIPT, onTerminal as runOnTerminal } from './helpers/terminal.js';

const PASS = 'correct horse battery staple';

/** A store whose identity was made by `keygen --passphrase` (the passphrase from SECRETSTORE_PASSPHRASE). */
interface ProtectedStore {
  base: string;
  dir: string;
  identity: string;
  env: NodeJS.ProcessEnv;
  keygen: CliResult;
  cli(args: readonly string[], env?: NodeJS.ProcessEnv, input?: string): CliResult;
  snapshot(): string;
}

function makeProtectedStore(): ProtectedStore {
  const base = mkdtempSync(join(tmpdir(), 'secretstore-pass-'));
  const dir = join(base, 'repo');
  // The cold path: each command asks for the passphrase. Through the agent it is asked once (test/agent.test.ts).
  const env = { ...testEnv(base), SECRETSTORE_AGENT: 'off' };
  execFileSync('git', ['init', '-q', dir], { env });
  const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}, input?: string) => runCli(args, { ...env, ...extra }, dir, input);
  const keygen = cli(['keygen', '--passphrase'], { SECRETSTORE_PASSPHRASE: PASS });
  if (keygen.status !== 0) throw new Error(`keygen --passphrase failed: ${keygen.stderr}`);
  const init = cli(['init', '--name', 'tester'], { SECRETSTORE_PASSPHRASE: PASS });
  if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
  return { base, dir, identity: join(base, 'home', '.config', 'secretstore', 'identity'), env, keygen, cli, snapshot: () => snapshotRepo(dir) };
}

/** The file's secret key lines (plaintext identity files) */
const keyLines = (text: string) => text.split('\n').filter((l) => /^SECRETSTORE-(SECRET|SIGNING)-KEY-1/i.test(l));

/** An askpass program that logs its arguments (one per line) and prints `answer`. */
function askpass(base: string, answer: string, status = 0): { program: string; log: string } {
  const program = join(base, `askpass-${Math.random().toString(36).slice(2)}.sh`);
  const log = `${program}.log`;
  writeFileSync(program, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> '${log}'; done\nprintf '%s\\n' '${answer}'\nexit ${status}\n`, { mode: 0o700 });
  return { program, log };
}

/**
 * Runs the CLI under a pseudo-terminal (`script` from util-linux), typing each answer once the screen shows a
 * new prompt matching `expecting`.
 */
function onTerminal(s: ProtectedStore, args: readonly string[], answers: readonly string[], expecting: RegExp) {
  return runOnTerminal(args, { cwd: s.dir, env: s.env, answers, expecting });
}

const ERROR_LINE = /^\nAn error occurred \((\w+)\) when calling the (\w+) operation: ([^\n]+)\n$/;

let s: ProtectedStore;
beforeAll(() => {
  s = makeProtectedStore();
  for (const [name, value] of [['db', 'db-VALUE-1'], ['api', 'api-VALUE-1']] as const) {
    const r = s.cli(['create-secret', '--name', name, '--secret-string', '-'], { SECRETSTORE_PASSPHRASE: PASS }, value);
    if (r.status !== 0) throw new Error(r.stderr);
  }
});
afterAll(() => rmSync(s.base, { recursive: true, force: true }));

describe('keygen --passphrase (issue #4 item 6: an identity file can be encrypted with a passphrase)', () => {
  it('the file holds no plaintext key, is 0600, and keeps the public and writer keys readable in comments', () => {
    const text = readFileSync(s.identity, 'utf8');
    expect(text).not.toMatch(/SECRETSTORE-SECRET-KEY/i);
    expect(text).not.toMatch(/SECRETSTORE-SIGNING-KEY/i);
    expect(text).toContain('-----BEGIN SECRETSTORE PROTECTED IDENTITY-----');
    expect(text).toMatch(/^kdf: argon2id13 opslimit=3 memlimit=67108864 salt=\S+$/m);
    const [publicKey, writerKey] = s.keygen.stdout.trim().split('\n');
    expect(text).toContain(`# public key: ${publicKey}`);
    expect(text).toContain(`# writer key: ${writerKey}`);
    expect(statSync(s.identity).mode & 0o777).toBe(0o600);
  });

  it('put and get through the CLI with SECRETSTORE_PASSPHRASE', () => {
    const env = { SECRETSTORE_PASSPHRASE: PASS };
    expect(s.cli(['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], env, 'db-VALUE-2').status).toBe(0);
    const r = s.cli(['get-secret-value', '--secret-id', 'db'], env);
    expect(r.status).toBe(0);
    expect(r.json<{ SecretString: string }>().SecretString).toBe('db-VALUE-2');
  });

  it('a wrong passphrase gives one clear line, is not retried, and changes nothing', () => {
    const before = s.snapshot();
    const identityBefore = readFileSync(s.identity);
    const r = s.cli(['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], { SECRETSTORE_PASSPHRASE: 'wrong horse' }, 'never-STORED');
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.stderr).toContain(`InvalidRequestException) when calling the PutSecretValue operation: wrong passphrase for identity file ${s.identity}\n`);
    expect(r.stderr).not.toContain('attempts');
    expect(s.snapshot()).toBe(before);
    expect(readFileSync(s.identity)).toEqual(identityBefore);
  });

  it('with no passphrase source and no terminal, the error names the variables to set', () => {
    if (!existsSync('/usr/bin/setsid')) return; // setsid drops the controlling terminal a developer's run would have
    const r = spawnSync('setsid', ['-w', process.execPath, CLI, 'get-secret-value', '--secret-id', 'db'], { cwd: s.dir, env: s.env, encoding: 'utf8', input: '' });
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.stderr).toContain(`identity file ${s.identity} is passphrase-protected and there is no terminal to ask on; set SECRETSTORE_ASKPASS`);
    expect(r.stderr).toContain('SECRETSTORE_PASSPHRASE');
  });

  it('an empty passphrase is refused and no file is written', () => {
    const out = join(s.base, 'empty-identity');
    const r = s.cli(['keygen', '--passphrase', '-o', out], { SECRETSTORE_PASSPHRASE: '', SECRETSTORE_NEW_PASSPHRASE: '' });
    expect(r.status).not.toBe(0);
    expect(existsSync(out)).toBe(false);
  });
});

describe('SECRETSTORE_ASKPASS (issue #4 item 6: an agent-like source for automation)', () => {
  it('its stdout is the passphrase; it gets only a prompt as argument, never the passphrase', () => {
    const a = askpass(s.base, PASS);
    const r = s.cli(['get-secret-value', '--secret-id', 'api', '--query', 'SecretString', '--output', 'text'], { SECRETSTORE_ASKPASS: a.program });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('api-VALUE-1\n');
    const argv = readFileSync(a.log, 'utf8');
    expect(argv).toBe(`Passphrase for identity file ${s.identity}: \n`);
    expect(argv).not.toContain(PASS);
  });

  it('SECRETSTORE_PASSPHRASE comes first', () => {
    const a = askpass(s.base, 'not this one');
    const r = s.cli(['get-secret-value', '--secret-id', 'api'], { SECRETSTORE_PASSPHRASE: PASS, SECRETSTORE_ASKPASS: a.program });
    expect(r.status).toBe(0);
    expect(existsSync(a.log)).toBe(false);
  });

  it('a failing or missing program is a clear one-line error, and a wrong answer is not asked again', () => {
    const failing = askpass(s.base, PASS, 3);
    let r = s.cli(['get-secret-value', '--secret-id', 'api'], { SECRETSTORE_ASKPASS: failing.program });
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.stderr).toContain(`SECRETSTORE_ASKPASS ${failing.program} exited with status 3; no passphrase was read`);

    r = s.cli(['get-secret-value', '--secret-id', 'api'], { SECRETSTORE_ASKPASS: `${failing.program} --flag` });
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.stderr).toContain('could not run (ENOENT); it must name a program, without arguments');

    const wrong = askpass(s.base, 'wrong horse');
    r = s.cli(['get-secret-value', '--secret-id', 'api'], { SECRETSTORE_ASKPASS: wrong.program });
    expect(r.stderr).toContain(`wrong passphrase for identity file ${s.identity}\n`);
    expect(readFileSync(wrong.log, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('secretstore serve asks once, at start, not per request', async () => {
    const a = askpass(s.base, PASS);
    const server = await startTestServer(
      { base: s.base, dir: s.dir, identity: s.identity, env: s.env } as Parameters<typeof startTestServer>[0],
      { env: { ...s.env, SECRETSTORE_ASKPASS: a.program } },
    );
    try {
      expect(readFileSync(a.log, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
      const client = server.client();
      const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      for (let i = 0; i < 2; i++) expect((await client.send(new GetSecretValueCommand({ SecretId: 'api' }))).SecretString).toBe('api-VALUE-1');
      expect(readFileSync(a.log, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!HAS_SCRIPT)('the passphrase on a terminal (issue #4 item 6: asked for without echo)', () => {
  const PROMPT = /Passphrase for identity file [^:]*: $/;

  it('asks on the terminal without echo when no variable is set', async () => {
    const r = await onTerminal(s, ['get-secret-value', '--secret-id', 'api', '--query', 'SecretString'], [`${PASS}\r`], PROMPT);
    expect(r.status).toBe(0);
    expect(r.typed).toBe(1);
    expect(r.screen).toContain(`Passphrase for identity file ${s.identity}: `);
    expect(r.screen).not.toContain(PASS);
    expect(r.screen).toContain('"api-VALUE-1"');
  });

  it('a wrong passphrase on a terminal is asked again, up to 3 tries', async () => {
    let r = await onTerminal(s, ['get-secret-value', '--secret-id', 'api', '--query', 'SecretString'], ['nope\r', `${PASS}\r`], PROMPT);
    expect(r.status).toBe(0);
    expect(r.screen).toContain('Wrong passphrase; try again.');
    expect(r.screen).toContain('"api-VALUE-1"');

    const before = s.snapshot();
    r = await onTerminal(s, ['put-secret-value', '--secret-id', 'api', '--secret-string', 'x-VALUE'], ['a\r', 'b\r', 'c\r', 'd\r'], PROMPT);
    expect(r.status).toBe(254);
    expect(r.typed).toBe(3);
    expect(r.screen).toContain(`wrong passphrase for identity file ${s.identity} (3 attempts)`);
    expect(s.snapshot()).toBe(before);
  });

  it('keygen --passphrase asks twice on the terminal', async () => {
    const out = join(s.base, 'typed-identity');
    const r = await onTerminal(s, ['keygen', '--passphrase', '-o', out], ['typed pass\r', 'typed pass\r'], /(Enter the new passphrase for [^:]*|Enter it again to confirm): $/);
    expect(r.status).toBe(0);
    expect(r.screen).not.toContain('typed pass');
    await cryptoReady();
    const keys = await readIdentityFile(out, { passphrase: async () => ({ bytes: new TextEncoder().encode('typed pass'), retry: false }) });
    expect(keys.identities).toHaveLength(1);
    expect(keys.signers).toHaveLength(1);
  });
});

describe('identity protect / unprotect (issue #4 item 6)', () => {
  it('round-trips a plaintext identity: same keys, same public keys, atomic 0600 file, old passphrase refused after a change', () => {
    const file = join(s.base, 'plain-identity');
    expect(s.cli(['keygen', '-o', file]).status).toBe(0);
    const original = readFileSync(file, 'utf8');

    const protect = s.cli(['identity', 'protect', file], { SECRETSTORE_NEW_PASSPHRASE: 'first pass' });
    expect(protect.status).toBe(0);
    const publicKeys = protect.json<{ PublicKeys: string[]; PassphraseProtected: boolean }>();
    expect(publicKeys.PassphraseProtected).toBe(true);
    const protectedText = readFileSync(file, 'utf8');
    expect(keyLines(protectedText)).toEqual([]);
    for (const key of publicKeys.PublicKeys) expect(protectedText).toContain(key);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // Change it: the current passphrase from SECRETSTORE_PASSPHRASE, the new one from SECRETSTORE_NEW_PASSPHRASE.
    const change = s.cli(['identity', 'protect', file], { SECRETSTORE_PASSPHRASE: 'first pass', SECRETSTORE_NEW_PASSPHRASE: 'second pass' });
    expect(change.status).toBe(0);
    expect(change.json<{ PublicKeys: string[] }>().PublicKeys).toEqual(publicKeys.PublicKeys);
    const stale = s.cli(['identity', 'unprotect', file], { SECRETSTORE_PASSPHRASE: 'first pass' });
    expect(stale.stderr).toContain(`wrong passphrase for identity file ${file}`);

    const unprotect = s.cli(['identity', 'unprotect', file], { SECRETSTORE_PASSPHRASE: 'second pass' });
    expect(unprotect.status).toBe(0);
    expect(unprotect.json<{ PublicKeys: string[]; PassphraseProtected: boolean }>()).toMatchObject({ PassphraseProtected: false, PublicKeys: publicKeys.PublicKeys });
    const back = readFileSync(file, 'utf8');
    expect(keyLines(back)).toEqual(keyLines(original));
    expect(back).not.toContain('PROTECTED IDENTITY');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(s.cli(['identity', 'unprotect', file]).stderr).toContain(`identity file ${file} is not passphrase-protected; nothing to remove`);
  });

  it("the store's own identity, protected in place, still reads the store", () => {
    const file = join(s.base, 'own-copy');
    writeFileSync(file, readFileSync(s.identity), { mode: 0o600 });
    const r = s.cli(['identity', 'protect', file], { SECRETSTORE_PASSPHRASE: PASS, SECRETSTORE_NEW_PASSPHRASE: 'other pass' });
    expect(r.status).toBe(0);
    const get = s.cli(['--identity', file, 'get-secret-value', '--secret-id', 'api', '--query', 'SecretString'], { SECRETSTORE_PASSPHRASE: 'other pass' });
    expect(get.stdout).toBe('"api-VALUE-1"\n');
  });

  it('mode 0644 is refused, for reading and for protecting, and the file is left as it was', () => {
    const file = join(s.base, 'loose-identity');
    writeFileSync(file, readFileSync(s.identity));
    chmodSync(file, 0o644);
    const read = s.cli(['--identity', file, 'get-secret-value', '--secret-id', 'api'], { SECRETSTORE_PASSPHRASE: PASS });
    expect(read.status).toBe(254);
    expect(read.stderr).toContain(`identity file ${file} has mode 0644, so other users may read it; run: chmod 600 ${file}`);
    const before = readFileSync(file);
    const protect = s.cli(['identity', 'protect', file], { SECRETSTORE_PASSPHRASE: PASS, SECRETSTORE_NEW_PASSPHRASE: 'x' });
    expect(protect.stderr).toContain('has mode 0644');
    expect(readFileSync(file)).toEqual(before);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });
});

describe('a damaged protected identity file gives a clear error', () => {
  const passphrase = async () => ({ bytes: new TextEncoder().encode(PASS), retry: false });
  let good: string;
  let dir: string;
  beforeAll(() => {
    good = readFileSync(s.identity, 'utf8');
    dir = mkdtempSync(join(tmpdir(), 'secretstore-damaged-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const withText = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const lines = () => good.split('\n');
  const endIndex = () => lines().indexOf('-----END SECRETSTORE PROTECTED IDENTITY-----');

  it('a tampered ciphertext (through the CLI): damaged, not "wrong passphrase"', () => {
    const l = lines();
    const body = endIndex() - 1;
    l[body] = (l[body]![0] === 'A' ? 'B' : 'A') + l[body]!.slice(1);
    const file = withText('tampered', l.join('\n'));
    const r = s.cli(['--identity', file, 'get-secret-value', '--secret-id', 'api'], { SECRETSTORE_PASSPHRASE: PASS });
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.stderr).toContain(`identity file ${file} is damaged: its encrypted keys fail authentication (edited or corrupted)`);
  });

  it('a truncated file: damaged, its END line is missing', async () => {
    const file = withText('truncated', lines().slice(0, endIndex() - 1).join('\n'));
    await expect(readIdentityFile(file, { passphrase })).rejects.toThrow(`identity file ${file} is damaged: its "-----END SECRETSTORE PROTECTED IDENTITY-----" line is missing (truncated?)`);
  });

  it('a truncated ciphertext: damaged', async () => {
    const l = lines();
    l.splice(endIndex() - 2, 1);
    const file = withText('short', l.join('\n'));
    await expect(readIdentityFile(file, { passphrase })).rejects.toThrow(/is damaged: its (encrypted keys fail authentication|ciphertext is not base64)/);
  });

  it('a public key comment swapped for someone else\'s key is caught', async () => {
    const other = generateIdentity().publicKey!;
    const file = withText('swapped', good.replace(/^# public key: \S+$/m, `# public key: ${other}`));
    await expect(readIdentityFile(file, { passphrase })).rejects.toThrow(`identity file ${file} is damaged: a public key in its comments is not one of its encrypted keys`);
  });

  it('an absurd memory limit is refused before any work', async () => {
    const file = withText('huge', good.replace(/memlimit=\d+/, 'memlimit=68719476736'));
    await expect(readIdentityFile(file, { passphrase })).rejects.toThrow(/is damaged: its memlimit must be a whole number of bytes/);
  });

  it('no passphrase source given to the crypto layer: it does not prompt, it says so', async () => {
    await expect(readIdentityFile(s.identity)).rejects.toThrow(`identity file ${s.identity} is passphrase-protected and no passphrase source was given`);
  });
});

describe('the library functions', () => {
  it('writeIdentityFile with a passphrase and setIdentityPassphrase keep the keys and never keep plaintext', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretstore-passlib-'));
    try {
      const file = join(dir, 'id');
      const pass = new TextEncoder().encode('lib pass');
      const written = await writeIdentityFile(file, { passphrase: pass });
      expect(pass).toEqual(new TextEncoder().encode('lib pass')); // the caller's bytes: the caller zeroes them
      expect(keyLines(readFileSync(file, 'utf8'))).toEqual([]);
      const provider = async () => ({ bytes: new TextEncoder().encode('lib pass'), retry: false });
      const keys = await readIdentityFile(file, { passphrase: provider });
      expect(keys.identities[0]!.publicKey).toBe(written.publicKey);
      expect(keys.signers[0]!.publicKey).toBe(written.writerKey);
      const fresh = new TextEncoder().encode('new lib pass');
      await setIdentityPassphrase(file, { passphrase: provider, newPassphrase: async () => fresh });
      expect(fresh.every((b) => b === 0)).toBe(true); // consumed and zeroed
      const removed = await setIdentityPassphrase(file, {
        passphrase: async () => ({ bytes: new TextEncoder().encode('new lib pass'), retry: false }),
        newPassphrase: async () => null,
      });
      expect(removed).toEqual({ protected: false, publicKeys: [written.publicKey, written.writerKey] });
      expect(keyLines(readFileSync(file, 'utf8'))).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the library: openStore({ passphrase })', () => {
  it('a passphrase function replaces the three sources; it is asked once per client, and its bytes are zeroed', async () => {
    const { openStore } = await import('../src/index.js');
    const given: Uint8Array[] = [];
    const store = await openStore({
      store: s.dir,
      identity: s.identity,
      env: s.env, // no SECRETSTORE_* variables, and no terminal is asked either
      passphrase: async ({ path, attempt }) => {
        expect({ path, attempt }).toEqual({ path: s.identity, attempt: 1 });
        given.push(new TextEncoder().encode(PASS));
        return { bytes: given.at(-1)!, retry: false };
      },
    });
    expect((await store.getSecretValue({ SecretId: 'api' })).SecretString).toBe('api-VALUE-1');
    expect((await store.getSecretValue({ SecretId: 'api' })).SecretString).toBe('api-VALUE-1');
    expect(given).toHaveLength(1);
    expect(given[0]!.every((b) => b === 0)).toBe(true);
  });
});

describe('start-up cost (the sumo build is loaded only for a protected identity file)', () => {
  /**
   * Runs the CLI with a preload that logs which libsodium builds it loads: the WebAssembly files it reads
   * (dist/wasm/libsodium.wasm, dist/wasm/libsodium-sumo.wasm) and the sumo bundle (dist/vendor/) it requires.
   */
  function loadedBuilds(identity: string, env: NodeJS.ProcessEnv): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'secretstore-hooks-'));
    try {
      writeFileSync(
        join(dir, 'log.cjs'),
        `const fs = require('node:fs');\nconst read = fs.readFileSync;\nconst seen = new Set();\n` +
          `fs.readFileSync = function (path, ...rest) { if (/libsodium[^/]*\\.wasm$/.test(String(path))) seen.add(String(path).split('/').pop()); return read.call(this, path, ...rest); };\n` +
          `process.on('exit', () => { for (const k of Object.keys(require.cache)) if (/vendor\\/libsodium/.test(k)) seen.add(k.split('/').pop()); for (const s of seen) fs.writeSync(2, 'LOADED ' + s + '\\n'); });\n`,
      );
      const r = spawnSync(process.execPath, ['--require', join(dir, 'log.cjs'), CLI, '--identity', identity, 'get-secret-value', '--secret-id', 'api'], {
        cwd: s.dir,
        env: { ...s.env, ...env },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      return [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('an unprotected identity file loads only the standard build; a protected one adds the sumo build', () => {
    const plain = join(s.base, 'startup-plain');
    writeFileSync(plain, readFileSync(s.identity), { mode: 0o600 });
    expect(s.cli(['identity', 'unprotect', plain], { SECRETSTORE_PASSPHRASE: PASS }).status).toBe(0);
    expect(loadedBuilds(plain, {}).sort()).toEqual(['libsodium.wasm']);
    expect(loadedBuilds(s.identity, { SECRETSTORE_PASSPHRASE: PASS }).sort()).toEqual(['libsodium-sumo.wasm', 'libsodium-wrappers-sumo.cjs', 'libsodium.wasm']);
  });
});
