/**
 * A team as users have it: a bare remote and two clones in one temp folder, the first made with
 * `secretstore init` (makeStore), the second by `git clone` plus `secretstore install-hooks`. Both use
 * the same identity (a writer), so both can read every value and sign; `attack` commits as someone with
 * push access and no writer key would (a plain commit past the hooks) and pushes it.
 */
import { cpSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Policy } from '../../src/model/store.js';
import { makeStore, runCli, snapshotRepo, type CliResult, type TestStore } from './store.js';

export interface Clone {
  readonly name: string;
  readonly dir: string;
  cli(args: readonly string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): CliResult;
  git(args: readonly string[], env?: NodeJS.ProcessEnv): string;
  snapshot(): string;
  /** `secret.yaml` of `name` at HEAD. */
  index(name: string): string;
}

export interface Team {
  readonly base: string;
  readonly remote: string;
  readonly a: Clone;
  readonly b: Clone;
  readonly store: TestStore;
  /** A further clone of the remote (with install-hooks), or a byte copy of a clone and the remote. */
  clone(name: string): Clone;
  copy(from: Clone, name: string): Clone;
  remoteHead(): string;
  /** In a fresh clone: `edit` the work tree, commit it unsigned (--no-verify) and push; the commit id. */
  attack(edit: (dir: string) => void, message?: string): string;
  cleanup(): void;
}

function cloneAt(dir: string, name: string, env: NodeJS.ProcessEnv): Clone {
  const git = (args: readonly string[], extra?: NodeJS.ProcessEnv) =>
    execFileSync('git', args, { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    name,
    dir,
    cli: (args, o = {}) => runCli(args, { ...env, ...o.env }, dir, o.input),
    git,
    snapshot: () => snapshotRepo(dir),
    index: (secret) => {
      const path = git(['ls-tree', '-r', '--name-only', 'HEAD']).split('\n').find((p) => p === `secrets/${secret}/secret.yaml`);
      return path ? git(['show', `HEAD:${path}`]) : '';
    },
  };
}

/** `branch`: the store's branch (default main; any name works the same). */
export function makeTeam(opts: { policy?: Partial<Policy>; branch?: string } = {}): Team {
  const store = makeStore(opts);
  const { base, env } = store;
  const branch = opts.branch ?? 'main';
  const remote = join(base, 'remote.git');
  execFileSync('git', ['init', '-q', '--bare', remote], { env });
  const a = cloneAt(store.dir, 'a', env);
  if (branch !== 'main') a.git(['branch', '-m', 'main', branch]);
  a.git(['remote', 'add', 'origin', remote]);
  a.git(['push', '-q', '-u', 'origin', branch]);
  execFileSync('git', ['symbolic-ref', 'HEAD', `refs/heads/${branch}`], { cwd: remote, env });
  const clone = (name: string): Clone => {
    const dir = join(base, name);
    execFileSync('git', ['clone', '-q', remote, dir], { env });
    const c = cloneAt(dir, name, env);
    const r = c.cli(['install-hooks']);
    if (r.status !== 0) throw new Error(`install-hooks failed: ${r.stderr}`);
    return c;
  };
  return {
    base,
    remote,
    a,
    b: clone('b'),
    store,
    clone,
    copy(from, name) {
      const dir = join(base, name);
      const bare = join(base, `${name}-remote.git`);
      cpSync(from.dir, dir, { recursive: true });
      cpSync(remote, bare, { recursive: true });
      const c = cloneAt(dir, name, env);
      c.git(['remote', 'set-url', 'origin', bare]);
      // The hooks and driver name the store by a relative path, so the copy is self-contained.
      return c;
    },
    remoteHead: () => execFileSync('git', ['rev-parse', branch], { cwd: remote, env, encoding: 'utf8' }).trim(),
    attack(edit, message = 'a change by someone without a writer key') {
      const dir = join(base, `attacker-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
      execFileSync('git', ['clone', '-q', remote, dir], { env });
      const c = cloneAt(dir, 'attacker', env);
      edit(dir);
      c.git(['add', '-A']);
      c.git(['commit', '-q', '--no-verify', '-m', message]);
      c.git(['push', '-q', 'origin', 'HEAD']);
      return c.git(['rev-parse', 'HEAD']).trim();
    },
    cleanup: () => store.cleanup(),
  };
}

/** Throws with the CLI's stderr unless it exited 0. */
export function ok(r: { status: number | null; stderr: string }): void {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
}

/** put-secret-value through the CLI in a clone, value on stdin; its VersionId. */
export function put(c: Clone, name: string, value: string, stages?: string[]): string {
  const r = c.cli(['put-secret-value', '--secret-id', name, '--secret-string', '-', ...(stages ? ['--version-stages', ...stages] : [])], { input: value });
  ok(r);
  return r.json<{ VersionId: string }>().VersionId;
}

/** create-secret through the CLI in a clone, value on stdin; its VersionId. */
export function create(c: Clone, name: string, value: string): string {
  const r = c.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: value });
  ok(r);
  return r.json<{ VersionId: string }>().VersionId;
}

/** The value under `stage` (default AWSCURRENT), read through the CLI. */
export function valueOf(c: Clone, name: string, stage = 'AWSCURRENT'): string {
  const r = c.cli(['get-secret-value', '--secret-id', name, '--version-stage', stage]);
  ok(r);
  return r.json<{ SecretString: string }>().SecretString;
}
