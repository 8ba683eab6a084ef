/**
 * Issue 14 items 6, 7, 11 and 12: --version, the short verbs get/set/ls beside the AWS commands, labelled
 * keygen output and keys of the wrong kind, and init's default recipient name. All through the built CLI.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeStore, runCli, testEnv, type TestStore } from './helpers/store.js';
import { HAS_SCRIPT, onTerminal } from './helpers/terminal.js';

const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

let t: TestStore;
beforeAll(() => {
  t = makeStore();
});
afterAll(() => t.cleanup());

const value = (id: string) => t.cli(['get-secret-value', '--secret-id', id]).json<{ SecretString?: string; SecretBinary?: string; VersionId: string }>();

describe('issue 14.6: secretstore --version and secretstore version', () => {
  it('issue 14.6: both print the package.json version, baked into the bundle (no package.json needed at run time)', () => {
    for (const args of [['--version'], ['version']]) {
      const r = t.cli(args);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`secretstore ${PACKAGE.version}\n`);
    }
    // The bundle holds the version itself: copied where no package.json is, it still knows it.
    expect(readFileSync('dist/secretstore.js', 'utf8')).not.toContain('__SECRETSTORE_VERSION__');
    const alone = join(t.base, 'alone');
    cpSync('dist', alone, { recursive: true, filter: (path) => !path.startsWith(join('dist', 'lib')) });
    const r = execFileSync(process.execPath, [join(alone, 'secretstore.js'), '--version'], { cwd: alone, env: t.env, encoding: 'utf8' });
    expect(r).toBe(`secretstore ${PACKAGE.version}\n`);
  });
});

describe('issue 14.7: get, set and ls beside the AWS names', () => {
  it('issue 14.7: get prints the value and a newline as pass show does', () => {
    expect(t.cli(['create-secret', '--name', 'app/plain', '--secret-string', '-'], { input: 'plain-VALUE' }).status).toBe(0);
    const r = t.cli(['get', 'app/plain']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('plain-VALUE\n');
    expect(r.stderr).toBe('');
  });

  it('issue 14.7: get prints a SecretBinary as its raw bytes, with no newline', () => {
    const bytes = Buffer.from([0, 255, 10, 13, 128, 1]);
    expect(t.cli(['create-secret', '--name', 'app/binary', '--secret-binary', '-'], { input: bytes }).status).toBe(0);
    const r = execFileSync(process.execPath, ['dist/secretstore.js', '--store', t.dir, 'get', 'app/binary'], { env: t.env });
    expect(Buffer.compare(r, bytes)).toBe(0);
  });

  it('issue 14.7: get --field KEY prints one field of a JSON value (a non-string as JSON); a missing field or a non-JSON value is an error', () => {
    const json = JSON.stringify({ username: 'admin', password: 'field-VALUE', port: 5432, tags: ['a'] });
    expect(t.cli(['create-secret', '--name', 'app/json', '--secret-string', '-'], { input: json }).status).toBe(0);
    expect(t.cli(['get', 'app/json', '--field', 'password']).stdout).toBe('field-VALUE\n');
    expect(t.cli(['get', 'app/json', '--field', 'port']).stdout).toBe('5432\n');
    expect(t.cli(['get', 'app/json', '--field', 'tags']).stdout).toBe('["a"]\n');
    const missing = t.cli(['get', 'app/json', '--field', 'nope']);
    expect(missing.status).toBe(254);
    expect(missing.stderr).toMatch(/\(InvalidParameterException\) when calling the GetSecretValue operation: The value of app\/json has no field "nope"\./);
    const notJson = t.cli(['get', 'app/plain', '--field', 'password']);
    expect(notJson.status).toBe(254);
    expect(notJson.stderr).toContain('(InvalidRequestException)');
    expect(notJson.stderr).not.toContain('plain-VALUE');
  });

  it('issue 14.7: get of a missing secret is the AWS ResourceNotFoundException, exit 254', () => {
    const r = t.cli(['get', 'app/missing']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain("(ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.");
  });

  it('issue 14.7: get --version-stage reads another version, as get-secret-value does', () => {
    expect(t.cli(['put-secret-value', '--secret-id', 'app/plain', '--secret-string', '-'], { input: 'plain-VALUE-2' }).status).toBe(0);
    expect(t.cli(['get', 'app/plain']).stdout).toBe('plain-VALUE-2\n');
    expect(t.cli(['get', 'app/plain', '--version-stage', 'AWSPREVIOUS']).stdout).toBe('plain-VALUE\n');
  });

  it('issue 14.7: set creates the secret from stdin when it does not exist, as gopass insert does (one commit, trailing newline dropped)', () => {
    const before = t.git(['rev-list', '--count', 'HEAD']).trim();
    const r = t.cli(['set', 'app/new'], { input: 'new-VALUE\n' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('created secret app/new\n');
    expect(Number(t.git(['rev-list', '--count', 'HEAD']))).toBe(Number(before) + 1);
    expect(t.git(['log', '-1', '--format=%s'])).toMatch(/^create-secret/);
    expect(value('app/new').SecretString).toBe('new-VALUE');
    expect(t.cli(['get', 'app/new']).stdout).toBe('new-VALUE\n');
  });

  it('issue 14.7: set on an existing secret puts a new AWSCURRENT version (put-secret-value), keeping the old one as AWSPREVIOUS', () => {
    const old = value('app/new').VersionId;
    const r = t.cli(['set', 'app/new'], { input: 'newer-VALUE' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(t.git(['log', '-1', '--format=%s'])).toMatch(/^put-secret-value/);
    expect(value('app/new')).toMatchObject({ SecretString: 'newer-VALUE' });
    expect(value('app/new').VersionId).not.toBe(old);
    expect(t.cli(['get', 'app/new', '--version-stage', 'AWSPREVIOUS']).stdout).toBe('new-VALUE\n');
  });

  it('issue 14.7: set stores input that is not UTF-8 (or any input with --binary) byte for byte as a SecretBinary', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x0a]);
    expect(t.cli(['set', 'app/raw'], { input: bytes }).status).toBe(0);
    expect(Buffer.from(value('app/raw').SecretBinary!, 'base64')).toEqual(bytes);
    expect(t.cli(['set', 'app/raw-text', '--binary'], { input: 'text\n' }).status).toBe(0);
    expect(Buffer.from(value('app/raw-text').SecretBinary!, 'base64').toString()).toBe('text\n');
  });

  it.skipIf(!HAS_SCRIPT)('issue 14.7: set on a terminal asks for the value twice without echo', async () => {
    const r = await onTerminal(['set', 'app/typed'], {
      cwd: t.dir,
      env: t.env,
      answers: ['typed-VALUE\r', 'typed-VALUE\r'],
      expecting: /Enter (the SecretString|it again)[^:]*: $/,
    });
    expect(r.status, r.screen).toBe(0);
    expect(r.typed).toBe(2);
    expect(r.screen).not.toContain('typed-VALUE');
    expect(value('app/typed').SecretString).toBe('typed-VALUE');
  });

  it('issue 14.7: ls lists secret names, one a line, sorted; ls PREFIX only those starting with it', () => {
    const all = t.cli(['ls']);
    expect(all.status, all.stderr).toBe(0);
    const listed = t.cli(['list-secrets', '--query', 'SecretList[].Name', '--output', 'json']).json<string[]>();
    expect(all.stdout).toBe([...listed].sort().map((n) => `${n}\n`).join(''));
    expect(all.stdout).toContain('app/plain\n');
    expect(t.cli(['ls', 'app/r']).stdout).toBe('app/raw\napp/raw-text\n');
    expect(t.cli(['ls', 'nothing/']).stdout).toBe('');
  });

  it('issue 14.7: an unknown command suggests the closest one (secretstore gett -> did you mean get?)', () => {
    const r = t.cli(['gett', 'app/plain']);
    expect(r.status).toBe(252);
    expect(r.stderr).toContain("unknown command 'gett'");
    expect(r.stderr).toContain('(Did you mean get?)');
  });

  it('issue 14.7: --help lists get, set and ls under "Everyday use" and calls the AWS commands canonical', () => {
    const help = t.cli(['--help']).stdout;
    const everyday = help.slice(help.indexOf('Everyday use:'));
    for (const verb of ['get', 'set', 'ls']) expect(everyday).toMatch(new RegExp(`\\n  ${verb} `));
    for (const verb of ['get', 'set', 'ls']) expect(t.cli([verb, '--help']).stdout).toMatch(/canonical/);
  });
});

describe('issue 14.11: keygen labels its keys; a key of the other kind says which command takes it', () => {
  it('issue 14.11: keygen prints two bare lines into a pipe (for scripts) and {"PublicKey", "WriterKey"} with --json', () => {
    const plain = t.cli(['keygen', '-o', join(t.base, 'plain.identity')]);
    expect(plain.stdout).toMatch(/^secretstore1[a-z0-9]+\nsecretstoresig1[a-z0-9]+\n$/);
    const json = t.cli(['keygen', '--json', '-o', join(t.base, 'json.identity')]);
    expect(json.status, json.stderr).toBe(0);
    const keys = json.json<{ PublicKey: string; WriterKey: string }>();
    expect(Object.keys(keys)).toEqual(['PublicKey', 'WriterKey']);
    expect(keys.PublicKey).toMatch(/^secretstore1/);
    expect(keys.WriterKey).toMatch(/^secretstoresig1/);
    expect(t.cli(['keygen', '--json', '--write-only', '-o', join(t.base, 'w.identity')]).json()).toEqual({ WriterKey: expect.stringMatching(/^secretstoresig1/) });
  });

  it.skipIf(!HAS_SCRIPT)('issue 14.11: keygen on a terminal labels each key with the command that takes it', async () => {
    const r = await onTerminal(['keygen', '-o', join(t.base, 'tty.identity')], { cwd: t.dir, env: t.env });
    expect(r.status, r.screen).toBe(0);
    expect(r.screen).toMatch(/public key \(secretstore recipients add\): secretstore1[a-z0-9]+\r?\n/);
    expect(r.screen).toMatch(/writer key \(secretstore writers add\): +secretstoresig1[a-z0-9]+\r?\n/);
  });

  it('issue 14.11: recipients add given a writer key says "this is a writer key: use writers add", and writers add the reverse', () => {
    const [publicKey, writerKey] = t.cli(['keygen', '-o', join(t.base, 'bob.identity')]).stdout.trim().split('\n') as [string, string];
    const before = t.snapshot();
    const wrongRecipient = t.cli(['recipients', 'add', '--name', 'bob', '--public-key', writerKey]);
    expect(wrongRecipient.status).toBe(254);
    expect(wrongRecipient.stderr).toContain('(InvalidParameterException)');
    expect(wrongRecipient.stderr).toContain('this is a writer key (secretstoresig1...), not a public key: use secretstore writers add');
    const wrongWriter = t.cli(['writers', 'add', '--name', 'bob', '--writer-key', publicKey]);
    expect(wrongWriter.status).toBe(254);
    expect(wrongWriter.stderr).toContain('this is a public key (secretstore1...), not a writer key: use secretstore recipients add');
    expect(t.snapshot()).toBe(before);
  });
});

describe("issue 14.12: init names the first recipient after git's user.name, else user.email, else the OS user", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A fresh repository with the given global git config; init without --name; the name it chose. */
  function initWith(gitconfig: string): string {
    const base = mkdtempSync(join(tmpdir(), 'secretstore-init-name-'));
    dirs.push(base);
    const env = testEnv(base);
    writeFileSync(env.GIT_CONFIG_GLOBAL!, `[init]\n\tdefaultBranch = main\n${gitconfig}`);
    const dir = join(base, 'repo');
    mkdirSync(dir);
    execFileSync('git', ['init', '-q'], { cwd: dir, env });
    expect(runCli(['keygen'], env, dir).status).toBe(0);
    const r = runCli(['init'], env, dir);
    expect(r.status, r.stderr).toBe(0);
    const config = parse(readFileSync(join(dir, '.secretstore.yaml'), 'utf8')) as { recipients: { name: string }[]; writers: { name: string }[] };
    expect(config.writers[0]!.name).toBe(config.recipients[0]!.name);
    return config.recipients[0]!.name;
  }

  it("issue 14.12: git's user.name, spaces made dashes", () => {
    expect(initWith('[user]\n\tname = Ann Example\n\temail = ann.e@example.invalid\n')).toBe('Ann-Example');
  });
  it('issue 14.12: the local part of user.email when no user.name is set', () => {
    expect(initWith('[user]\n\temail = ann.e@example.invalid\n')).toBe('ann.e');
  });
  it('issue 14.12: the OS user when git has neither', () => {
    expect(initWith('')).toBe(userInfo().username);
  });
});
