/**
 * Throwaway stores for behaviour tests: a real git repository in a temp folder, a real identity made by
 * the real CLI, `secretstore init` run as a user would. Git identity and config are pinned so tests
 * do not depend on the machine.
 */
import { spawnSync, execFileSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect } from 'vitest';
import { openStore, type Store } from '../../src/index.js';
import type { Policy } from '../../src/model/store.js';

export const CLI = resolve('dist/secretstore.js');

/**
 * SECRETSTORE_TEST_AGENT=1 runs the CLI calls of the tests through the agent (SECRETSTORE_AGENT=on; its
 * results must be byte for byte those of the cold path): one agent per test file, in a private runtime
 * folder, stopped when the file is done. Tests that need the cold path set SECRETSTORE_AGENT=off.
 */
export const THROUGH_AGENT = process.env.SECRETSTORE_TEST_AGENT === '1';
const agentRuntime = THROUGH_AGENT ? mkdtempSync(join(tmpdir(), 'ss-agent-')) : undefined;
if (agentRuntime) {
  afterAll(() => {
    spawnSync(process.execPath, [CLI, 'agent', 'stop'], { env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: agentRuntime } });
    rmSync(agentRuntime, { recursive: true, force: true });
  });
}

/** The variables that send a CLI call through the test file's agent (none unless SECRETSTORE_TEST_AGENT=1). */
export function agentVariables(): NodeJS.ProcessEnv {
  return agentRuntime ? { SECRETSTORE_AGENT: 'on', XDG_RUNTIME_DIR: agentRuntime } : {};
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json: <T = Record<string, unknown>>() => T;
}

export interface TestStore {
  /** The temp folder holding everything (home, repo). */
  readonly base: string;
  /** The repository, which is also the store. */
  readonly dir: string;
  readonly identity: string;
  readonly env: NodeJS.ProcessEnv;
  cli(args: readonly string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string }): CliResult;
  git(args: readonly string[]): string;
  open(opts?: { now?: () => Date; identity?: string }): Promise<Store>;
  /** Every file of the work tree and .git (except the hook's temp files), for byte-for-byte comparisons. */
  snapshot(): string;
  cleanup(): void;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, input?: string | Buffer): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, ...args], { env: { ...agentVariables(), ...env }, cwd, input, encoding: 'utf8' });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: <T>() => JSON.parse(r.stdout) as T,
  };
}

export function testEnv(base: string): NodeJS.ProcessEnv {
  const gitconfig = join(base, 'gitconfig');
  writeFileSync(gitconfig, '[user]\n\tname = Test User\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n');
  return {
    PATH: process.env.PATH,
    HOME: join(base, 'home'),
    XDG_CONFIG_HOME: join(base, 'home', '.config'),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
    // Tests at a pseudo-terminal (edit, exec, progress) would otherwise start a real agent that outlives them.
    SECRETSTORE_AGENT: 'off',
    ...agentVariables(),
  };
}

export function makeStore(opts: { policy?: Partial<Policy>; objectFormat?: 'sha1' | 'sha256' } = {}): TestStore {
  const base = mkdtempSync(join(tmpdir(), 'secretstore-test-'));
  const dir = join(base, 'repo');
  const env = testEnv(base);
  const identity = join(base, 'home', '.config', 'secretstore', 'identity');
  const git = (args: readonly string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  execFileSync('git', ['init', '-q', ...(opts.objectFormat ? [`--object-format=${opts.objectFormat}`] : []), dir], { env });
  const cli = (args: readonly string[], o: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
    runCli(args, { ...env, ...o.env }, o.cwd ?? dir, o.input);
  for (const step of [['keygen'], ['init', '--name', 'tester']]) {
    const r = cli(step);
    if (r.status !== 0) throw new Error(`secretstore ${step[0]} failed: ${r.stderr}`);
  }
  if (opts.policy) {
    const file = join(dir, '.secretstore.yaml');
    let text = readFileSync(file, 'utf8');
    for (const [key, value] of Object.entries(opts.policy)) text = text.replace(new RegExp(`(${key}: )\\d+`), `$1${value}`);
    writeFileSync(file, text);
    // A configuration change is signed by a writer (issue #4): `secretstore sign` commits the edit signed.
    const signed = cli(['sign', '--config']);
    if (signed.status !== 0) throw new Error(`secretstore sign failed: ${signed.stderr}`);
  }
  return {
    base,
    dir,
    identity,
    env,
    cli,
    git,
    open: (o = {}) => openStore({ store: dir, identity: o.identity ?? identity, env, ...(o.now ? { now: o.now } : {}) }),
    snapshot: () => snapshotRepo(dir),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** HEAD, the index and every file of the work tree, as one comparable string. */
export function snapshotRepo(dir: string): string {
  const run = (args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  const files = run(['ls-files', '-z', '--cached', '--others']).split('\0').filter(Boolean).sort();
  const contents = files.map((f) => {
    let body: string;
    try {
      body = readFileSync(join(dir, f)).toString('base64');
    } catch {
      body = '(missing)';
    }
    return `${f}\n${body}`;
  });
  return [run(['rev-parse', 'HEAD']), run(['ls-files', '-s']), run(['status', '--porcelain']), ...contents].join('\n');
}

/** The call fails as expected and leaves HEAD, the index and every file of `t` byte for byte as they were. */
export async function rejectsUnchanged(t: TestStore, call: () => Promise<unknown>, expected: { name: string; message?: unknown }): Promise<void> {
  const before = t.snapshot();
  await expect(call()).rejects.toMatchObject(expected);
  expect(t.snapshot()).toBe(before);
}
