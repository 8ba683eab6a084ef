/**
 * Issue 14.8: `secretstore import` from a pass store (Debian's pass and gnupg, a throwaway key in a temp
 * GNUPGHOME), from the decrypted output of `sops -d` (no sops binary: its output shapes), dotenv and
 * JSON/YAML maps; one commit for many secrets; a re-run skips what is unchanged.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { hasTool } from './helpers/tools.js';
import { detectFormat, entriesOf, parseDotenv, parseMap } from '../src/import/sources.js';

const HAS_PASS = hasTool('/usr/bin/pass') && hasTool('/usr/bin/gpg');

let t: TestStore;
beforeAll(() => {
  t = makeStore();
});
afterAll(() => t.cleanup());

const value = (id: string) => t.cli(['get-secret-value', '--secret-id', id]).json<{ SecretString?: string; VersionId: string }>();
const commits = () => Number(t.git(['rev-list', '--count', 'HEAD']).trim());

interface Result {
  Created: string[];
  Updated: string[];
  Skipped: string[];
  DryRun: boolean;
}

describe.skipIf(!HAS_PASS)('issue 14.8: import pass', () => {
  let passEnv: NodeJS.ProcessEnv;
  let passDir: string;
  let argvLog: string;
  const ENTRIES: Record<string, string> = {
    'prod/db': 'pass-DB-VALUE\nusername: app\nurl: db.example.invalid\n',
    'prod/api-key': 'pass-API-VALUE\n',
    'staging/smtp': 'pass-SMTP-VALUE\n',
  };

  beforeAll(() => {
    const gnupg = join(t.base, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    passDir = join(t.base, 'password-store');
    // A `pass` on PATH that records its arguments, then runs Debian's: the values must never be among them.
    const bin = join(t.base, 'pass-bin');
    mkdirSync(bin);
    argvLog = join(t.base, 'pass-argv.log');
    writeFileSync(join(bin, 'pass'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec /usr/bin/pass "$@"\n`);
    chmodSync(join(bin, 'pass'), 0o755);
    passEnv = { ...t.env, GNUPGHOME: gnupg, PASSWORD_STORE_DIR: passDir, PATH: `${bin}:${t.env.PATH}` };
    const gpg = (args: string[]) => execFileSync('gpg', ['--batch', ...args], { env: passEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Import Test <import@example.invalid>', 'future-default', 'default', 'never']);
    const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(gpg(['--list-keys', '--with-colons']))![1]!;
    execFileSync('/usr/bin/pass', ['init', fingerprint], { env: passEnv, stdio: 'ignore' });
    // Values go in on stdin, as a user would type them.
    for (const [name, text] of Object.entries(ENTRIES)) execFileSync('/usr/bin/pass', ['insert', '--multiline', name], { env: passEnv, input: text, stdio: ['pipe', 'ignore', 'ignore'] });
  });
  afterAll(() => {
    // The gpg-agent this test started.
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: passEnv });
  });

  it('issue 14.8: import pass brings every entry in one commit, each value read from pass show on a pipe (never in argv)', () => {
    const before = commits();
    const r = t.cli(['import', 'pass', '--prefix', 'from-pass/'], { env: passEnv });
    expect(r.status, r.stderr).toBe(0);
    expect(r.json<Result>()).toEqual({ Created: ['from-pass/prod/api-key', 'from-pass/prod/db', 'from-pass/staging/smtp'], Updated: [], Skipped: [], DryRun: false });
    expect(commits()).toBe(before + 1);
    expect(t.git(['log', '-1', '--format=%s']).trim()).toBe('import: 3 created, 0 updated, 0 unchanged');
    // The whole entry, as pass show prints it, without its last newline (get adds it back).
    expect(value('from-pass/prod/db').SecretString).toBe('pass-DB-VALUE\nusername: app\nurl: db.example.invalid');
    expect(t.cli(['get', 'from-pass/prod/db']).stdout).toBe(ENTRIES['prod/db']);
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain('show prod/db');
    expect(argv).not.toMatch(/VALUE/);
    expect(t.git(['log', '-1', '-p'])).not.toMatch(/pass-\w+-VALUE/);
  });

  it('issue 14.8: run again, an unchanged entry is skipped (compared by decrypting) and a changed one gets a new version', () => {
    execFileSync('/usr/bin/pass', ['insert', '--multiline', '--force', 'prod/api-key'], { env: passEnv, input: 'pass-API-VALUE-2\n', stdio: ['pipe', 'ignore', 'ignore'] });
    const old = value('from-pass/prod/api-key').VersionId;
    const dry = t.cli(['import', 'pass', '--prefix', 'from-pass/', '--dry-run'], { env: passEnv });
    expect(dry.json<Result>()).toEqual({ Created: [], Updated: ['from-pass/prod/api-key'], Skipped: ['from-pass/prod/db', 'from-pass/staging/smtp'], DryRun: true });
    const before = commits();
    const r = t.cli(['import', 'pass', '--prefix', 'from-pass/'], { env: passEnv });
    expect(r.json<Result>()).toEqual({ Created: [], Updated: ['from-pass/prod/api-key'], Skipped: ['from-pass/prod/db', 'from-pass/staging/smtp'], DryRun: false });
    expect(commits()).toBe(before + 1);
    expect(value('from-pass/prod/api-key').SecretString).toBe('pass-API-VALUE-2');
    expect(value('from-pass/prod/api-key').VersionId).not.toBe(old);
    // Nothing changed: no commit at all.
    const again = t.cli(['import', 'pass', '--prefix', 'from-pass/'], { env: passEnv });
    expect(again.json<Result>().Skipped).toHaveLength(3);
    expect(commits()).toBe(before + 1);
  });
});

describe('issue 14.8: import sops, dotenv, json and yaml', () => {
  it('issue 14.8: import sops reads the decrypted output of sops -d as YAML, JSON or dotenv, from a file or stdin', () => {
    const yaml = 'db_password: sops-YAML-VALUE\nport: 5432\nnested:\n  a: 1\n';
    const r1 = t.cli(['import', 'sops', '--prefix', 'sops-yaml/'], { input: yaml });
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.json<Result>().Created).toEqual(['sops-yaml/db_password', 'sops-yaml/port', 'sops-yaml/nested']);
    expect(value('sops-yaml/db_password').SecretString).toBe('sops-YAML-VALUE');
    expect(value('sops-yaml/port').SecretString).toBe('5432');
    expect(value('sops-yaml/nested').SecretString).toBe('{"a":1}');

    const jsonFile = join(t.base, 'decrypted.json');
    writeFileSync(jsonFile, '{\n\t"api_key": "sops-JSON-VALUE"\n}\n');
    expect(t.cli(['import', 'sops', jsonFile, '--prefix', 'sops-json/']).json<Result>().Created).toEqual(['sops-json/api_key']);
    expect(value('sops-json/api_key').SecretString).toBe('sops-JSON-VALUE');

    const r3 = t.cli(['import', 'sops', '-', '--prefix', 'sops-env/'], { input: 'TOKEN=sops-ENV-VALUE\nOTHER="two words"\n' });
    expect(r3.json<Result>().Created).toEqual(['sops-env/TOKEN', 'sops-env/OTHER']);
    expect(value('sops-env/OTHER').SecretString).toBe('two words');
  });

  it('issue 14.8: import refuses input that sops has not decrypted, and changes nothing', () => {
    const before = t.snapshot();
    const r = t.cli(['import', 'sops'], { input: 'password: ENC[AES256_GCM,data:abc]\nsops:\n  version: 3.8.1\n' });
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('(InvalidParameterException) when calling the Import operation: the input still holds sops metadata');
    expect(t.snapshot()).toBe(before);
  });

  it('issue 14.8: import dotenv, json and yaml; --name puts the whole map in one JSON secret', () => {
    const env = join(t.base, 'app.env');
    writeFileSync(env, '# the app\nexport DB_USER=app\nDB_PASS=\'dotenv-VALUE\'\n');
    expect(t.cli(['import', 'dotenv', env, '--name', 'dotenv/app']).json<Result>().Created).toEqual(['dotenv/app']);
    expect(JSON.parse(value('dotenv/app').SecretString!)).toEqual({ DB_USER: 'app', DB_PASS: 'dotenv-VALUE' });
    expect(t.cli(['import', 'json', '--prefix', 'j/'], { input: '{"k": "json-VALUE"}' }).json<Result>().Created).toEqual(['j/k']);
    expect(t.cli(['import', 'yaml', '--prefix', 'y/'], { input: 'k: yaml-VALUE\n' }).json<Result>().Created).toEqual(['y/k']);
    expect(value('y/k').SecretString).toBe('yaml-VALUE');
  });

  it('issue 14.8: --dry-run lists what would be created, updated and skipped, and changes nothing', () => {
    const before = t.snapshot();
    const r = t.cli(['import', 'yaml', '--prefix', 'y/', '--dry-run'], { input: 'k: yaml-VALUE\nk2: new-VALUE\n' });
    expect(r.json<Result>()).toEqual({ Created: ['y/k2'], Updated: [], Skipped: ['y/k'], DryRun: true });
    const changed = t.cli(['import', 'yaml', '--prefix', 'y/', '--dry-run'], { input: 'k: other-VALUE\n' });
    expect(changed.json<Result>()).toEqual({ Created: [], Updated: ['y/k'], Skipped: [], DryRun: true });
    expect(t.snapshot()).toBe(before);
  });

  it('issue 14.8: one bad entry fails the whole import, naming the secret, and leaves the store exactly as it was', () => {
    const before = t.snapshot();
    const r = t.cli(['import', 'yaml'], { input: 'good-name: x-VALUE\n"bad name*": y-VALUE\n' });
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(/\((ValidationException|InvalidParameterException)\) when calling the Import operation: bad name\*: /);
    expect(r.stderr).not.toContain('VALUE');
    expect(t.snapshot()).toBe(before);
  });

  it('issue 14.8: a large store quickly: 200 secrets in one commit', async () => {
    const before = commits();
    const map = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`bulk/s${String(i).padStart(3, '0')}`, `bulk-VALUE-${i}`]));
    const started = performance.now();
    // Not spawnSync: a long blocking call keeps the test worker from answering vitest.
    const child = spawn(process.execPath, [CLI, 'import', 'json'], { cwd: t.dir, env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(JSON.stringify(map));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const ms = performance.now() - started;
    expect(status).toBe(0);
    expect((JSON.parse(out) as Result).Created).toHaveLength(200);
    expect(commits()).toBe(before + 1);
    expect(t.cli(['ls', 'bulk/']).stdout.trim().split('\n')).toHaveLength(200);
    expect(value('bulk/s199').SecretString).toBe('bulk-VALUE-199');
    console.log(`import of 200 secrets in one commit: ${ms.toFixed(0)} ms`);
  });
});

describe('issue 14.8: the import formats (pure)', () => {
  it('issue 14.8: dotenv: export, comments, single and double quotes (escapes, several lines), trailing comments', () => {
    expect(parseDotenv('# c\n\nexport A=1\nB = two # note\nC=\'as $is \\n\'\nD="a\\nb \\"q\\""\nE="line1\nline2"\nF=\n')).toEqual({
      A: '1',
      B: 'two',
      C: 'as $is \\n',
      D: 'a\nb "q"',
      E: 'line1\nline2',
      F: '',
    });
  });

  it('issue 14.8: a dotenv line that is not KEY=value is refused by line number, without its text', () => {
    expect(() => parseDotenv('A=1\nnot-a-pair-VALUE\n')).toThrow(/^dotenv line 2 is not KEY=value$/);
  });

  it('issue 14.8: sops output is told apart by file name, else by its text', () => {
    expect(detectFormat('a: 1', 'x.enc.json')).toBe('json');
    expect(detectFormat('{"a": 1}')).toBe('json');
    expect(detectFormat('A=1\n# c\nexport B=2\n')).toBe('dotenv');
    expect(detectFormat('a: 1\n')).toBe('yaml');
    expect(detectFormat('', '.env')).toBe('dotenv');
  });

  it('issue 14.8: a map gives one secret per key (non-strings as JSON), or one JSON secret with a name', () => {
    const map = parseMap('{"a": "x", "n": 1, "o": {"k": true}}', 'json');
    expect(entriesOf(map, { prefix: 'p/' })).toEqual([
      { name: 'p/a', value: { SecretString: 'x' } },
      { name: 'p/n', value: { SecretString: '1' } },
      { name: 'p/o', value: { SecretString: '{"k":true}' } },
    ]);
    expect(entriesOf(map, { name: 'one' })).toEqual([{ name: 'one', value: { SecretString: '{"a":"x","n":1,"o":{"k":true}}' } }]);
    expect(() => parseMap('- a\n- b\n', 'yaml')).toThrow(/a map of names to values/);
    expect(() => parseMap('A=1\nsops_version=3.8.1\n', 'dotenv')).toThrow(/sops -d/);
  });
});
