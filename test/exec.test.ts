import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { mapSecrets, renderDotenv, variableName } from '../src/core/env-mapping.js';
import { readVariables, runWithVariables } from '../src/local/exec.js';
import { SecretStore } from '../src/store/secret-store.js';
import { HAS_SCRIPT } from './helpers/tools.js';

let t: TestStore;
let n = 0;
/** A fresh file path in the test's temp folder. */
const file = (name: string) => join(t.base, `${name}-${++n}`);

/** A child that records its own argv (from /proc), its parent's argv and environ, and its environment. */
const DUMP = `
const fs = require('fs');
const proc = (p) => fs.readFileSync(p, 'utf8').split('\\0').filter(Boolean);
fs.writeFileSync(process.argv[1], JSON.stringify({
  cmdline: proc('/proc/self/cmdline'),
  parentCmdline: proc('/proc/' + process.ppid + '/cmdline'),
  parentEnviron: proc('/proc/' + process.ppid + '/environ'),
  env: process.env,
}));`;

interface Dump {
  cmdline: string[];
  parentCmdline: string[];
  parentEnviron: string[];
  env: Record<string, string>;
}

/** `secretstore [pre...] exec <opts...> -- node -e DUMP out`, and what the child saw. */
function execDump(opts: readonly string[], pre: readonly string[] = []): { status: number | null; stderr: string; dump?: Dump } {
  const out = file('dump');
  const r = t.cli([...pre, 'exec', ...opts, '--', process.execPath, '-e', DUMP, out]);
  return { status: r.status, stderr: r.stderr, ...(existsSync(out) ? { dump: JSON.parse(readFileSync(out, 'utf8')) as Dump } : {}) };
}

const TRICKY = `it's "quoted"\nsecond line $HOME \${PATH} \\back\\slash\\n \`tick\` \ttab\r\n= # ünïcode`;
let firstVersion: string;
let secondVersion: string;

beforeAll(() => {
  t = makeStore();
  const create = (name: string, value: string) => {
    const r = t.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: value });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.json<{ VersionId: string }>().VersionId;
  };
  create('prod/db', JSON.stringify({ username: 'admin', 'db-host': 'db.internal', '1st': 'one', port: 5432, tls: true, extra: { a: [1] }, nothing: null }));
  create('prod/db-password', 'S3cret-plain-value');
  create('tricky', JSON.stringify({ tricky: TRICKY, empty: '', dollar: '$$', quote: "'", dq: '"' }));
  firstVersion = create('rotating', 'first-value');
  const put = t.cli(['put-secret-value', '--secret-id', 'rotating', '--secret-string', '-'], { input: 'second-value' });
  secondVersion = put.json<{ VersionId: string }>().VersionId;
  create('clash/keys', JSON.stringify({ 'db-pass': 'clash-value-one', DB_PASS: 'clash-value-two' }));
  create('clash/other', JSON.stringify({ 'prod.db.password': 'clash-value-three' }));
  writeFileSync(join(t.base, 'blob.bin'), Buffer.from([0, 255, 1, 0]));
  if (t.cli(['create-secret', '--name', 'blob', '--secret-binary', `fileb://${join(t.base, 'blob.bin')}`]).status !== 0) throw new Error('blob');
});
afterAll(() => t.cleanup());

describe('exec: naming rules', () => {
  it('a JSON object is spread into one variable per key, upper-cased, sanitised, never starting with a digit', () => {
    const { status, dump } = execDump(['--secret-id', 'prod/db']);
    expect(status).toBe(0);
    expect(dump!.env).toMatchObject({
      USERNAME: 'admin',
      DB_HOST: 'db.internal',
      _1ST: 'one',
      PORT: '5432',
      TLS: 'true',
      EXTRA: '{"a":[1]}',
      NOTHING: 'null',
    });
  });

  it('a plain string becomes one variable named after the secret', () => {
    const { status, dump } = execDump(['--secret-id', 'prod/db-password']);
    expect(status).toBe(0);
    expect(dump!.env.PROD_DB_PASSWORD).toBe('S3cret-plain-value');
  });

  it('several secrets are merged; --prefix goes in front of every name', () => {
    const { status, dump } = execDump(['--secret-id', 'prod/db', '--secret-id', 'prod/db-password', '--prefix', 'APP_']);
    expect(status).toBe(0);
    expect(dump!.env).toMatchObject({ APP_USERNAME: 'admin', APP_1ST: 'one', APP_PROD_DB_PASSWORD: 'S3cret-plain-value' });
    expect(dump!.env.USERNAME).toBeUndefined();
  });

  it('values with quotes, newlines, $ and backslashes arrive byte for byte', () => {
    const { status, dump } = execDump(['--secret-id', 'tricky']);
    expect(status).toBe(0);
    expect(dump!.env).toMatchObject({ TRICKY: TRICKY, EMPTY: '', DOLLAR: '$$', QUOTE: "'", DQ: '"' });
  });

  it('the child inherits the environment of secretstore besides the secrets', () => {
    const out = file('dump');
    const r = t.cli(['exec', '--secret-id', 'prod/db-password', '--', process.execPath, '-e', DUMP, out], { env: { PASSED_THROUGH: 'yes' } });
    expect(r.status).toBe(0);
    const dump = JSON.parse(readFileSync(out, 'utf8')) as Dump;
    expect(dump.env).toMatchObject({ PASSED_THROUGH: 'yes', HOME: t.env.HOME, PROD_DB_PASSWORD: 'S3cret-plain-value' });
  });

  it('names are pure: sanitised, prefixed, digit-first names get a leading _', () => {
    expect(variableName('prod/db-password')).toBe('PROD_DB_PASSWORD');
    expect(variableName('a.b c')).toBe('A_B_C');
    expect(variableName('9lives')).toBe('_9LIVES');
    expect(variableName('9lives', 'X_')).toBe('X_9LIVES');
    expect(variableName('')).toBe('_');
    expect(() => variableName('a', '1BAD')).toThrow(/--prefix/);
  });
});

describe('exec: version selection', () => {
  it('AWSCURRENT by default, --version-stage and --version-id choose another version', () => {
    expect(execDump(['--secret-id', 'rotating']).dump!.env.ROTATING).toBe('second-value');
    expect(execDump(['--secret-id', 'rotating', '--version-stage', 'AWSPREVIOUS']).dump!.env.ROTATING).toBe('first-value');
    expect(execDump(['--secret-id', 'rotating', '--version-id', firstVersion]).dump!.env.ROTATING).toBe('first-value');
    expect(execDump(['--secret-id', 'rotating', '--version-id', secondVersion]).dump!.env.ROTATING).toBe('second-value');
  });

  it('a label that is not on the version is GetSecretValue\'s error, and the child never runs', () => {
    const r = execDump(['--secret-id', 'rotating', '--version-id', firstVersion, '--version-stage', 'AWSCURRENT']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('An error occurred (InvalidRequestException) when calling the GetSecretValue operation: ');
    expect(r.dump).toBeUndefined();
  });
});

describe('exec: refusals', () => {
  it('two keys mapping to one name are refused, naming the variable and not the values', () => {
    const r = execDump(['--secret-id', 'clash/keys']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('An error occurred (InvalidParameterException) when calling the Exec operation: ');
    expect(r.stderr).toContain('DB_PASS');
    expect(r.stderr).not.toMatch(/clash-value/);
    expect(r.dump).toBeUndefined();
  });

  it('two secrets mapping to one name are refused, naming the variable and both sources, not the values', () => {
    const r = execDump(['--secret-id', 'prod/db-password', '--secret-id', 'clash/other']);
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(/PROD_DB_PASSWORD \(from prod\/db-password and clash\/other \(key "prod\.db\.password"\)\)/);
    expect(r.stderr).not.toMatch(/clash-value|S3cret/);
    expect(r.dump).toBeUndefined();
  });

  it('a binary value is refused unless --binary-as-base64 asks for it', () => {
    const refused = execDump(['--secret-id', 'blob']);
    expect(refused.status).toBe(254);
    expect(refused.stderr).toContain('SecretBinary');
    expect(refused.stderr).toContain('--binary-as-base64');
    expect(refused.dump).toBeUndefined();
    const allowed = execDump(['--secret-id', 'blob', '--binary-as-base64']);
    expect(allowed.status).toBe(0);
    expect(allowed.dump!.env.BLOB).toBe('AP8BAA==');
  });

  it('an unknown secret is the AWS CLI error line with exit 254', () => {
    const r = execDump(['--secret-id', 'no/such/secret']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain("An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.");
    expect(r.dump).toBeUndefined();
  });

  it('no --secret-id, no command, no -- before the command, or --version-id with two secrets are usage errors (252)', () => {
    const none = t.cli(['exec', '--', 'true']);
    expect(none.status).toBe(252);
    expect(none.stderr).toContain('--secret-id');
    expect(t.cli(['exec', '--secret-id', 'prod/db']).status).toBe(252);
    const noDashes = t.cli(['exec', '--secret-id', 'prod/db', 'true']);
    expect(noDashes.status).toBe(252);
    expect(noDashes.stderr).toContain('put -- before the command');
    expect(t.cli(['exec', '--secret-id', 'prod/db', 'rotating', '--version-id', firstVersion, '--', 'true']).status).toBe(252);
    expect(t.cli(['exec', '--secret-id', 'prod/db', '--prefix', '9X', '--', 'true']).status).toBe(254);
  });

  it('a command that does not exist exits 127', () => {
    const r = t.cli(['exec', '--secret-id', 'prod/db', '--', join(t.base, 'no-such-program')]);
    expect(r.status).toBe(127);
    expect(r.stderr).toContain('command not found');
  });
});

describe('exec: the values stay out of argv, files and the parent environment', () => {
  it("the child's /proc cmdline and secretstore's cmdline and environ hold no value", () => {
    const { status, dump } = execDump(['--secret-id', 'prod/db', '--secret-id', 'prod/db-password']);
    expect(status).toBe(0);
    expect(dump!.cmdline).toEqual([process.execPath, '-e', DUMP, expect.any(String)]);
    expect(dump!.parentCmdline).toContain(CLI);
    for (const text of [dump!.cmdline.join('\n'), dump!.parentCmdline.join('\n'), dump!.parentEnviron.join('\n')]) {
      expect(text).not.toContain('S3cret-plain-value');
      expect(text).not.toContain('db.internal');
    }
    expect(dump!.parentEnviron.some((e) => e.startsWith('PROD_DB_PASSWORD=') || e.startsWith('USERNAME='))).toBe(false);
  });

  it('exec writes no file: the store is byte for byte the same afterwards', () => {
    const before = t.snapshot();
    expect(execDump(['--secret-id', 'prod/db-password']).status).toBe(0);
    expect(t.snapshot()).toBe(before);
  });

  it('the program gets its secrets but not the identity passphrase variables of the process that read them', async () => {
    const store = await SecretStore.open({ store: t.dir, identity: t.identity, env: t.env });
    const vars = await readVariables(store, ['prod/db-password'], {});
    const out = file('passphrase-dump');
    const baseEnv = { ...t.env, SECRETSTORE_PASSPHRASE: 'example passphrase', SECRETSTORE_NEW_PASSPHRASE: 'another example', KEPT: 'yes' };
    expect(await runWithVariables(process.execPath, ['-e', DUMP, out], vars, { baseEnv, cwd: t.dir })).toEqual({ kind: 'exited', exitCode: 0 });
    const dump = JSON.parse(readFileSync(out, 'utf8')) as Dump;
    expect(dump.env.PROD_DB_PASSWORD).toBe('S3cret-plain-value');
    expect(dump.env.KEPT).toBe('yes');
    expect(dump.env.SECRETSTORE_PASSPHRASE).toBeUndefined();
    expect(dump.env.SECRETSTORE_NEW_PASSPHRASE).toBeUndefined();
  });

  it("the library's runWithVariables leaves process.env untouched while and after the child runs", async () => {
    const store = await SecretStore.open({ store: t.dir, identity: t.identity, env: t.env });
    const vars = await readVariables(store, ['prod/db-password'], { prefix: 'LIB_' });
    const before = { ...process.env };
    const out = file('lib-dump');
    const outcome = await runWithVariables(process.execPath, ['-e', DUMP, out], vars, { baseEnv: t.env, cwd: t.dir });
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(process.env).toEqual(before);
    expect(process.env.LIB_PROD_DB_PASSWORD).toBeUndefined();
    const dump = JSON.parse(readFileSync(out, 'utf8')) as Dump;
    expect(dump.env.LIB_PROD_DB_PASSWORD).toBe('S3cret-plain-value');
    expect(dump.parentEnviron.join('\n')).not.toContain('S3cret-plain-value');
  });
});

describe('exec: exit codes and signals', () => {
  const code = (script: string) => t.cli(['exec', '--secret-id', 'prod/db-password', '--', process.execPath, '-e', script]).status;

  it("the child's exit code is secretstore's: 0, 3, 42", () => {
    expect(code('process.exit(0)')).toBe(0);
    expect(code('process.exit(3)')).toBe(3);
    expect(code('process.exit(42)')).toBe(42);
  });

  it('a child killed by a signal gives 128 + its number: SIGKILL 137, SIGTERM 143', () => {
    expect(code('process.kill(process.pid, "SIGKILL")')).toBe(137);
    expect(code('process.kill(process.pid, "SIGTERM")')).toBe(143);
  });

  it('stdin, stdout and stderr are inherited', () => {
    const r = t.cli(['exec', '--secret-id', 'prod/db-password', '--', 'sh', '-c', 'cat; echo to-err >&2'], { input: 'from-stdin\n' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('from-stdin\n');
    expect(r.stderr).toBe('to-err\n');
  });

  it('global options before the command still work, and options after -- are the child\'s, verbatim', () => {
    const r = t.cli(['--store', t.dir, '--identity', t.identity, 'exec', '--secret-id', 'prod/db-password', '--', 'sh', '-c', 'printf "%s|" "$@"', 'sh', '--store', 'x', '--output', 'text', '--', '-e'], { cwd: t.base });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('--store|x|--output|text|--|-e|');
  });

  for (const [signal, exitCode] of [['SIGTERM', 7], ['SIGINT', 8]] as const) {
    it(`${signal} sent to secretstore is forwarded to the child`, async () => {
      const ready = file('ready');
      const got = file('got');
      const script = `const fs = require('fs');
process.on('${signal}', () => { fs.writeFileSync(${JSON.stringify(got)}, '${signal}'); process.exit(${exitCode}); });
fs.writeFileSync(${JSON.stringify(ready)}, '1');
setInterval(() => {}, 1000);`;
      const proc = spawn(process.execPath, [CLI, 'exec', '--secret-id', 'prod/db-password', '--', process.execPath, '-e', script], { cwd: t.dir, env: t.env, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
      const deadline = Date.now() + 120_000; // a cap: the loop ends as soon as the file appears
      while (!existsSync(ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(existsSync(ready)).toBe(true);
      proc.kill(signal);
      expect(await exited).toBe(exitCode);
      expect(readFileSync(got, 'utf8')).toBe(signal);
    });
  }
});

/** The dotenv grammar the README documents: bare, or "..." with \\ \" \$ \` \n \r escapes. */
function parseDotenv(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`bad dotenv line: ${line}`);
    const raw = m[2]!;
    if (!raw.startsWith('"')) {
      expect(raw).toMatch(/^[A-Za-z0-9_.,:/@%+-]*$/);
      result[m[1]!] = raw;
      continue;
    }
    expect(raw).toMatch(/^"(?:[^"\\]|\\.)*"$/);
    result[m[1]!] = raw.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r' })[c] ?? c);
  }
  return result;
}

describe('env: prints the same mapping', () => {
  const expected = { TRICKY: TRICKY, EMPTY: '', DOLLAR: '$$', QUOTE: "'", DQ: '"', PROD_DB_PASSWORD: 'S3cret-plain-value' };
  const env = (format: string) => t.cli(['env', '--secret-id', 'tricky', '--secret-id', 'prod/db-password', '--format', format]);

  it('--format json is one object of the variables', () => {
    const r = env('json');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('--format dotenv (the default) is KEY=value lines that parse back to the same values', () => {
    const r = t.cli(['env', '--secret-id', 'tricky', '--secret-id', 'prod/db-password']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(env('dotenv').stdout);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(Object.keys(expected).length);
    expect(r.stdout).toContain('PROD_DB_PASSWORD=S3cret-plain-value\n');
    expect(parseDotenv(r.stdout)).toEqual(expected);
  });

  it('--format shell is export lines that sh reads back to the same values', () => {
    const r = env('shell');
    expect(r.status).toBe(0);
    const sourced = join(t.base, 'vars.sh');
    writeFileSync(sourced, r.stdout);
    for (const [name, value] of Object.entries(expected)) {
      const read = execFileSync('sh', ['-c', `. "$1"; printf %s "$${name}"`, 'sh', sourced], { encoding: 'utf8', env: { PATH: process.env.PATH } });
      expect(read, name).toBe(value);
    }
    // exported, so a program started from that shell sees them too
    expect(execFileSync('sh', ['-c', `. "$1"; ${JSON.stringify(process.execPath)} -e 'process.stdout.write(process.env.TRICKY)'`, 'sh', sourced], { encoding: 'utf8' })).toBe(TRICKY);
  });

  it('--prefix and version selection apply as in exec', () => {
    const r = t.cli(['env', '--secret-id', 'rotating', '--prefix', 'OLD_', '--version-stage', 'AWSPREVIOUS', '--format', 'json']);
    expect(r.json()).toEqual({ OLD_ROTATING: 'first-value' });
  });

  it('collisions, unknown secrets and a missing --secret-id are errors, without values', () => {
    const clash = t.cli(['env', '--secret-id', 'clash/keys']);
    expect(clash.status).toBe(254);
    expect(clash.stdout).toBe('');
    expect(clash.stderr).toContain('An error occurred (InvalidParameterException) when calling the Env operation: ');
    expect(clash.stderr).not.toMatch(/clash-value/);
    const unknown = t.cli(['env', '--secret-id', 'no/such/secret']);
    expect(unknown.status).toBe(254);
    expect(unknown.stderr).toContain('An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: ');
    expect(t.cli(['env']).status).toBe(252);
    expect(t.cli(['env', '--secret-id', 'prod/db', '--format', 'xml']).status).toBe(252);
  });

  it('a value with a NUL character is refused for dotenv and shell, by variable name', () => {
    const vars = mapSecrets([{ name: 'n', secretString: 'a\0b' }]);
    expect(() => renderDotenv(vars)).toThrow(/N \(from n\) contains a NUL/);
  });

  it.skipIf(!HAS_SCRIPT)('prints a one-line warning on stderr when stdout is a terminal, and none otherwise', () => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} env --secret-id prod/db-password 2>${JSON.stringify(join(t.base, 'tty-err'))}`;
    execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    const err = readFileSync(join(t.base, 'tty-err'), 'utf8');
    expect(err).toMatch(/^secretstore: warning: .*terminal\n$/);
    expect(env('dotenv').stderr).toBe('');
  });
});

describe('exec and env: variables that change how programs run (issue 13.7) and CLI polish (issue 14.9, 14.10)', () => {
  const GUARDED = { path: '/srv', ld_preload: '/tmp/evil.so', 'node-options': '--require x', git_dir: '/tmp', secretstore_dir: '/tmp', ifs: ':', plain: 'fine' };
  beforeAll(() => {
    const r = t.cli(['create-secret', '--name', 'guarded', '--secret-string', '-'], { input: JSON.stringify(GUARDED) });
    if (r.status !== 0) throw new Error(r.stderr);
  });

  it('issue 13.7: exec refuses secret keys that become PATH, LD_*, NODE_OPTIONS, GIT_*, SECRETSTORE_*, IFS, naming variable and key, and the child never runs', () => {
    const r = execDump(['--secret-id', 'guarded']);
    expect(r.status).toBe(254);
    expect(r.dump).toBeUndefined();
    const line = r.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('InvalidParameterException');
    for (const [name, key] of [['PATH', 'path'], ['LD_PRELOAD', 'ld_preload'], ['NODE_OPTIONS', 'node-options'], ['GIT_DIR', 'git_dir'], ['SECRETSTORE_DIR', 'secretstore_dir'], ['IFS', 'ifs']]) {
      expect(line).toContain(`${name} (from guarded (key "${key}"))`);
      expect(line).toContain(`--allow-env ${name}`);
    }
    expect(line).not.toContain('PLAIN');
    for (const value of ['/srv', 'evil.so', '--require']) expect(line).not.toContain(value);
  });

  it('issue 13.7: --allow-env NAME (repeatable) lets exactly the named variables through', () => {
    const some = execDump(['--secret-id', 'guarded', '--allow-env', 'PATH', '--allow-env', 'LD_PRELOAD']);
    expect(some.status).toBe(254);
    expect(some.stderr).not.toContain('PATH (from');
    expect(some.stderr).toContain('NODE_OPTIONS (from');
    const created = t.cli(['create-secret', '--name', 'guarded/path', '--secret-string', '-'], { input: JSON.stringify({ path: '/usr/bin:/bin', plain: 'fine' }) });
    expect(created.status).toBe(0);
    const allowed = execDump(['--secret-id', 'guarded/path', '--allow-env', 'PATH']);
    expect(allowed.status).toBe(0);
    expect(allowed.dump!.env).toMatchObject({ PATH: '/usr/bin:/bin', PLAIN: 'fine' });
    const prefixed = execDump(['--secret-id', 'guarded', '--prefix', 'APP_']);
    expect(prefixed.status).toBe(0);
    expect(prefixed.dump!.env).toMatchObject({ APP_PATH: '/srv', APP_LD_PRELOAD: '/tmp/evil.so', APP_PLAIN: 'fine' });
  });

  it('issue 13.7: env prints the variables with one warning line per guarded name, naming variable and key, not the value', () => {
    const r = t.cli(['env', '--secret-id', 'guarded', '--allow-env', 'IFS']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('PATH=/srv');
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toHaveLength(5);
    for (const w of warnings) expect(w).toMatch(/^secretstore: warning: [A-Z_]+ \(from guarded \(key "[a-z_-]+"\)\) changes how programs are found, loaded or run: pass --allow-env [A-Z_]+ to set it anyway$/);
    expect(r.stderr).not.toContain('IFS');
    expect(r.stderr).not.toContain('/srv');
  });

  it('issue 14.9: exec with a missing secret names which --secret-id', () => {
    const r = execDump(['--secret-id', 'prod/db', 'no/such/secret']);
    expect(r.status).toBe(254);
    expect(r.stderr.trim()).toBe(
      "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret. (--secret-id no/such/secret)",
    );
  });

  it("issue 14.9: exec --secret-id X sh -c '...' without -- gives the put -- before the command hint; an unknown option before -- is named", () => {
    const r = t.cli(['exec', '--secret-id', 'prod/db', 'sh', '-c', 'echo hi']);
    expect(r.status).toBe(252);
    expect(r.stderr).toContain('put -- before the command');
    expect(r.stdout).toBe('');
    const bogus = t.cli(['exec', '--secret-id', 'prod/db', '--bogus', '--', 'true']);
    expect(bogus.status).toBe(252);
    expect(bogus.stderr).toContain("unknown option '--bogus'");
  });

  it('issue 14.10: env refuses --output and --query (it prints variables in --format), printing no value', () => {
    for (const args of [['--output', 'json', 'env'], ['--query', 'X', 'env'], ['env', '--output', 'text']]) {
      const r = t.cli([...args, '--secret-id', 'prod/db-password']);
      expect(r.status).toBe(252);
      expect(r.stderr).toContain('env does not take --output or --query');
      expect(r.stdout).toBe('');
    }
  });
});
