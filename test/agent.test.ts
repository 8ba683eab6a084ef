/**
 * The agent (issue 12 target 1): the real built CLI as client, a real agent process over its Unix socket,
 * real git and libsodium. Each test gets its own runtime folder (XDG_RUNTIME_DIR), so its own agent, and
 * stops it at the end. Auto-start is exercised explicitly with SECRETSTORE_AGENT=on even under CI=true.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, runCli, type CliResult, type TestStore } from './helpers/store.js';
import { expandFaultPoints } from '../src/store/fault.js';
import { KeyCache } from '../src/agent/keys.js';
import type { IdentityKeys } from '../src/crypto/identity-file.js';

let t: TestStore;
const runtimes: string[] = [];

beforeAll(() => {
  t = makeStore();
  expect(t.cli(['create-secret', '--name', 'app/db', '--secret-string', '-'], { input: 's3cret', env: { SECRETSTORE_AGENT: 'off' } }).status).toBe(0);
});
afterAll(() => t.cleanup());
afterEach(() => {
  for (const dir of runtimes.splice(0)) {
    spawnSync(process.execPath, [CLI, 'agent', 'stop'], { env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: dir } });
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A fresh runtime folder: the agent's folder is `<it>/secretstore`. */
function runtime(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ss-run-'));
  runtimes.push(dir);
  return dir;
}

/** runCli without blocking the test worker (a worker blocked for long misses its runner's calls). */
function runAsync(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(input ?? '');
    child.on('close', (status) => resolve({ status, stdout, stderr, json: <T>() => JSON.parse(stdout) as T }));
  });
}

/** The CLI through the agent of `run` (SECRETSTORE_AGENT=on), under CI=true to show `on` wins. */
function viaAgent(run: string, args: readonly string[], extra: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return runAsync(args, { ...t.env, CI: 'true', SECRETSTORE_AGENT: 'on', XDG_RUNTIME_DIR: run, ...extra }, t.dir, input);
}

function cold(args: readonly string[], extra: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return runAsync(args, { ...t.env, SECRETSTORE_AGENT: 'off', ...extra }, t.dir, input);
}

interface Status {
  Running: boolean;
  Pid?: number;
  Build?: string;
  Stores?: string[];
  Identities?: string[];
}

async function status(run: string, extra: NodeJS.ProcessEnv = {}): Promise<Status> {
  const r = await runAsync(['agent', 'status'], { ...t.env, XDG_RUNTIME_DIR: run, ...extra }, t.dir);
  return JSON.parse(r.stdout) as Status;
}

/** Whether `pid` runs (a zombie left unreaped by this container's init counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Lets the test worker answer its runner between long runs of synchronous child processes. */
const tick = () => new Promise((r) => setImmediate(r));

/** Resolves once `check` holds, polling; fails after `ms` (generous: the machine is loaded). */
async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('starting, status and stop', () => {
  it('SECRETSTORE_AGENT=on starts the agent on first use (even under CI=true), in a 0700 folder with a 0600 socket', async () => {
    const run = runtime();
    expect((await status(run)).Running).toBe(false);
    const r = await viaAgent(run, ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('s3cret\n');
    const s = await status(run);
    expect(s.Running).toBe(true);
    expect(s.Stores).toEqual([t.dir]);
    expect(statSync(join(run, 'secretstore')).mode & 0o777).toBe(0o700);
    expect(statSync(join(run, 'secretstore', 'agent.sock')).mode & 0o777).toBe(0o600);
    // The second command is served by the same agent.
    expect((await viaAgent(run, ['describe-secret', '--secret-id', 'app/db'])).status).toBe(0);
    expect((await status(run)).Pid).toBe(s.Pid);
  });

  it('auto (SECRETSTORE_AGENT unset) starts no agent without a terminal on stdin, nor under CI', async () => {
    const run = runtime();
    const base = { ...t.env, SECRETSTORE_AGENT: undefined, XDG_RUNTIME_DIR: run };
    expect(runCli(['describe-secret', '--secret-id', 'app/db'], base, t.dir).status).toBe(0);
    // Under a pseudo-terminal with CI set: still none.
    const cmd = `'${process.execPath}' '${CLI}' describe-secret --secret-id app/db`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: { ...base, CI: 'true' }, encoding: 'utf8' });
    expect(tty.status).toBe(0);
    expect(existsSync(join(run, 'secretstore', 'agent.sock'))).toBe(false);
    // At a terminal without CI: the agent starts.
    const started = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: base, encoding: 'utf8' });
    expect(started.status).toBe(0);
    expect((await status(run)).Running).toBe(true);
  });

  it('SECRETSTORE_AGENT=off and --no-agent run in the process, starting nothing', async () => {
    const run = runtime();
    expect((await viaAgent(run, ['describe-secret', '--secret-id', 'app/db'], { SECRETSTORE_AGENT: 'off' })).status).toBe(0);
    expect((await viaAgent(run, ['--no-agent', 'describe-secret', '--secret-id', 'app/db'])).status).toBe(0);
    expect((await status(run)).Running).toBe(false);
  });

  it('agent stop ends it and removes the socket; status then says it is not running', async () => {
    const run = runtime();
    await viaAgent(run, ['describe-secret', '--secret-id', 'app/db']);
    const pid = (await status(run)).Pid!;
    expect(runCli(['agent', 'stop'], { ...t.env, XDG_RUNTIME_DIR: run }, t.dir).status).toBe(0);
    await until(() => !alive(pid));
    expect(existsSync(join(run, 'secretstore', 'agent.sock'))).toBe(false);
    expect((await status(run)).Running).toBe(false);
  });

  it('exits by itself when idle (SECRETSTORE_AGENT_IDLE_SECONDS)', async () => {
    const run = runtime();
    await viaAgent(run, ['describe-secret', '--secret-id', 'app/db'], { SECRETSTORE_AGENT_IDLE_SECONDS: '1' });
    const pid = (await status(run)).Pid!;
    await until(() => !alive(pid));
    expect(existsSync(join(run, 'secretstore', 'agent.sock'))).toBe(false);
  });

  it('an agent of another build (an upgrade) is replaced by the client before it answers', async () => {
    const run = runtime();
    await viaAgent(run, ['describe-secret', '--secret-id', 'app/db']);
    const old = await status(run);
    const r = await viaAgent(run, ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text'], { SECRETSTORE_AGENT_BUILD: 'next-release' });
    expect(r.stdout).toBe('s3cret\n');
    const next = await status(run, { SECRETSTORE_AGENT_BUILD: 'next-release' });
    expect(next.Running).toBe(true);
    expect(next.Build).toBe('next-release');
    expect(next.Pid).not.toBe(old.Pid);
    await until(() => !alive(old.Pid!));
  });
});

describe('the folder is the protection: anything but a private folder of this user is refused', () => {
  it('a group-writable socket folder is refused (the command runs in the process, with a warning)', async () => {
    const run = runtime();
    mkdirSync(join(run, 'secretstore'), { mode: 0o700 });
    chmodSync(join(run, 'secretstore'), 0o770);
    const r = await viaAgent(run, ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text']);
    expect(r.stdout).toBe('s3cret\n');
    expect(r.stderr).toMatch(/not using the agent: refusing the agent folder: .* has mode 0770/);
    expect(existsSync(join(run, 'secretstore', 'agent.sock'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)("another user's socket folder is refused", async () => {
    const run = runtime();
    mkdirSync(join(run, 'secretstore'), { mode: 0o700 });
    chownSync(join(run, 'secretstore'), 65534, 65534);
    const r = await viaAgent(run, ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text']);
    expect(r.stdout).toBe('s3cret\n');
    expect(r.stderr).toMatch(/refusing the agent folder: .* is owned by uid 65534, not by you/);
    expect(existsSync(join(run, 'secretstore', 'agent.sock'))).toBe(false);
  });

  it('a socket others may reach is refused, and the agent stops serving', async () => {
    const run = runtime();
    await viaAgent(run, ['describe-secret', '--secret-id', 'app/db']);
    const pid = (await status(run)).Pid!;
    chmodSync(join(run, 'secretstore', 'agent.sock'), 0o666);
    const r = await viaAgent(run, ['describe-secret', '--secret-id', 'app/db']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/refusing the agent socket: .* has mode 0666/);
    expect(alive(pid)).toBe(true); // the client never connected; the agent checks too, on its next connection
    chmodSync(join(run, 'secretstore', 'agent.sock'), 0o600); // so that afterEach can stop it
  });
});

describe('results through the agent are byte for byte those of the cold path', () => {
  const reads: string[][] = [
    ['get-secret-value', '--secret-id', 'app/db'],
    ['get-secret-value', '--secret-id', 'app/db', '--version-stage', 'AWSPREVIOUS'],
    ['get-secret-value', '--secret-id', 'missing'],
    ['batch-get-secret-value', '--secret-id-list', 'app/db', 'missing'],
    ['describe-secret', '--secret-id', 'app/db', '--output', 'yaml'],
    ['list-secrets', '--output', 'table'],
    ['list-secret-version-ids', '--secret-id', 'app/db', '--include-deprecated'],
    ['get-random-password', '--password-length', '0'],
    ['get-secret-value'],
    ['no-such-command'],
    ['get-secret-value', '--help'],
    ['put-secret-value', '--secret-id', 'app/db', '--generate-cli-skeleton'],
    ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text'],
    ['get-secret-value', '--cli-input-json', 'file://../request.json'],
  ];

  it.each(reads.map((args) => [args.join(' '), args]))('%s', async (_, args) => {
    writeFileSync(join(t.base, 'request.json'), JSON.stringify({ SecretId: 'app/db' })); // outside the repo, by a relative path
    const run = runtime();
    const a = await viaAgent(run, args as string[]);
    const b = await cold(args as string[]);
    expect({ status: a.status, stdout: a.stdout, stderr: a.stderr }).toEqual({ status: b.status, stdout: b.stdout, stderr: b.stderr });
  });

  it('every write operation through the agent answers as the cold path and leaves the same kind of commit', async () => {
    const run = runtime();
    const token = '0f0e0d0c-0b0a-4909-8807-060504030201';
    const steps: [string[], string | undefined][] = [
      [['create-secret', '--name', 'w/one', '--secret-string', '-', '--client-request-token', token], 'first'],
      [['put-secret-value', '--secret-id', 'w/one', '--secret-string', '-', '--client-request-token', '1f0e0d0c-0b0a-4909-8807-060504030201'], 'second'],
      [['update-secret', '--secret-id', 'w/one', '--description', 'updated'], undefined],
      [['tag-resource', '--secret-id', 'w/one', '--tags', 'Key=team,Value=a'], undefined],
      [['untag-resource', '--secret-id', 'w/one', '--tag-keys', 'team'], undefined],
      [['update-secret-version-stage', '--secret-id', 'w/one', '--version-stage', 'STAGED', '--move-to-version-id', token], undefined],
      [['delete-secret', '--secret-id', 'w/one'], undefined],
      [['restore-secret', '--secret-id', 'w/one'], undefined],
      [['cancel-rotate-secret', '--secret-id', 'w/one'], undefined],
      [['put-secret-value', '--secret-id', 'w/one', '--secret-string', '-', '--client-request-token', token], 'first'],
    ];
    for (const [args, input] of steps) {
      await tick();
      const before = t.git(['rev-parse', 'HEAD']).trim();
      const a = await viaAgent(run, args, {}, input);
      const message = t.git(['log', '-1', '--format=%B']);
      // The same request again on the cold path, after resetting the store to where it was, must say the same.
      t.git(['reset', '-q', '--hard', before]);
      // The clone read the agent's commit: going back to `before` is a rewind it is told to accept.
      expect((await cold(['trust', '--accept-rewind'], {})).status).toBe(0);
      const b = await cold(args, {}, input);
      // A create draws a random ARN suffix, and dates differ: the rest must be equal.
      const normalise = (text: string) =>
        text.replace(/"(LastChangedDate|LastAccessedDate|CreatedDate|DeletedDate|DeletionDate)": "[^"]+"/g, '"$1": "<date>"').replace(/(secret:w\/one)-[A-Za-z0-9]{6}/g, '$1-XXXXXX')
          .replace(/\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?/g, '<date>')
          // Each commit's signature covers its own tree and dates: the signer is what must match.
          .replace(/^(Secretstore-Signature: \S+) \S+$/m, '$1 <signature>');
      expect({ args, status: a.status, stdout: normalise(a.stdout), stderr: a.stderr }).toEqual({ args, status: b.status, stdout: normalise(b.stdout), stderr: b.stderr });
      expect(normalise(t.git(['log', '-1', '--format=%B']))).toBe(normalise(message));
      expect(t.git(['status', '--porcelain'])).toBe('');
    }
  });
});

describe('a passphrase-protected identity is asked for once per agent, in the client', () => {
  it('asked once for several commands; asked again when the file changes or the cache times out', async () => {
    const store = makeStore();
    const run = runtime();
    try {
      const pass = 'agent test passphrase';
      expect(store.cli(['create-secret', '--name', 'p', '--secret-string', '-'], { input: 'pv', env: { SECRETSTORE_AGENT: 'off' } }).status).toBe(0);
      const protect = () => store.cli(['identity', 'protect'], { env: { SECRETSTORE_AGENT: 'off', SECRETSTORE_PASSPHRASE: pass, SECRETSTORE_NEW_PASSPHRASE: pass } });
      expect(protect().status).toBe(0);
      const log = join(store.base, 'askpass.log');
      const askpass = join(store.base, 'askpass.sh');
      writeFileSync(askpass, `#!/bin/sh\necho asked >> '${log}'\nprintf '%s\\n' '${pass}'\n`, { mode: 0o700 });
      const env = { CI: 'true', SECRETSTORE_AGENT: 'on', XDG_RUNTIME_DIR: run, SECRETSTORE_ASKPASS: askpass, SECRETSTORE_AGENT_CACHE_TTL: '3' };
      const get = () => store.cli(['get-secret-value', '--secret-id', 'p', '--query', 'SecretString', '--output', 'text'], { env });
      const asked = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0);
      for (let i = 0; i < 3; i++) {
        await tick();
        expect(get().stdout).toBe('pv\n');
      }
      expect(asked()).toBe(1);
      // A put signs with the same cached keys.
      expect(store.cli(['put-secret-value', '--secret-id', 'p', '--secret-string', '-'], { env, input: 'pv2' }).status).toBe(0);
      expect(asked()).toBe(1);
      // A changed identity file (rewritten under a passphrase again) is read again.
      expect(protect().status).toBe(0);
      expect(get().stdout).toBe('pv2\n');
      expect(asked()).toBe(2);
      // Unused for longer than the cache time-out (3 s here, 600 by default), the keys are dropped and asked for again.
      await new Promise((r) => setTimeout(r, 4000));
      expect(get().stdout).toBe('pv2\n');
      expect(asked()).toBe(3);
    } finally {
      store.cleanup();
    }
  });
});

describe('killing the agent mid-command leaves the store consistent', () => {
  const points = expandFaultPoints([{ path: 'v', content: '' }, { path: 'i', content: '' }]);
  it.each(points.map((p, i) => [p, i]))('agent killed at %s', async (point, i) => {
    const run = runtime();
    const before = t.git(['rev-parse', 'HEAD']).trim();
    const value = `agent-value-${Number(i)}`;
    // The fault variable reaches the agent with the request, which SIGKILLs itself at that point.
    const killed = await viaAgent(run, ['put-secret-value', '--secret-id', 'app/db', '--secret-string', '-'], { SECRETSTORE_FAULT_AT: String(point) }, value);
    expect(killed.status).toBe(254);
    expect(killed.stderr).toMatch(/the agent ended before the command finished/);
    // The next command (a new agent) repairs what was half-written and answers consistently with HEAD.
    const read = await viaAgent(run, ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text']);
    expect(read.status).toBe(0);
    if (t.git(['rev-parse', 'HEAD']).trim() !== before) expect(read.stdout).toBe(`${value}\n`);
    else expect(read.stdout).not.toBe(`${value}\n`);
    expect(t.git(['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect((await viaAgent(run, ['put-secret-value', '--secret-id', 'app/db', '--secret-string', '-'], {}, 's3cret')).status).toBe(0);
  });
});

describe('KeyCache', () => {
  const fakeKeys = (): IdentityKeys => ({ identities: [], signers: [] });
  it('zeroes (disposes) keys when the file changes, on clear, and reads a file once while unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-keys-'));
    try {
      const file = join(dir, 'id');
      writeFileSync(file, 'one');
      const disposed: IdentityKeys[] = [];
      const cache = new KeyCache(60_000, (k) => disposed.push(k));
      let reads = 0;
      const read = async () => {
        reads++;
        return fakeKeys();
      };
      const first = await cache.get(file, read);
      expect(await cache.get(file, read)).toBe(first);
      expect(reads).toBe(1);
      writeFileSync(file, 'two, longer');
      const second = await cache.get(file, read);
      expect(reads).toBe(2);
      expect(disposed).toEqual([first]);
      cache.clear();
      expect(disposed).toEqual([first, second]);
      expect(cache.paths()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
