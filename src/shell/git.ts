/**
 * The one door to git. Everything else in secretstore talks to git through `openGit`, so the
 * environment git sees, how failures are reported and the no-identity fallback live in one place.
 */
import { simpleGit } from 'simple-git';
import { InternalServiceError } from '../errors.js';
import { debugGit } from './debug.js';

export interface GitRunOptions {
  /** Extra variables for this call only, e.g. `GIT_INDEX_FILE` for a temporary index. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Git {
  readonly repoRoot: string;
  /** Runs `git <args>` in the repository's top level and resolves with its stdout. */
  run(args: readonly string[], opts?: GitRunOptions): Promise<string>;
  /** `git commit-tree`, falling back to a fixed identity when the user has none configured. */
  commitTree(tree: string, parents: readonly string[], message: string, opts?: GitRunOptions): Promise<string>;
}

/** A failed git command. An InternalServiceError, so it reaches the user as AWS would report it. */
export class GitCommandError extends InternalServiceError {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const why = stderr.trim().split('\n')[0] || `exit code ${exitCode}`;
    super(`git ${args[0] ?? ''} failed: ${why}`);
  }
}

export const FALLBACK_IDENTITY = { name: 'secretstore', email: 'secretstore@localhost' } as const;

/**
 * Only what git needs, so a stray GIT_DIR, GIT_WORK_TREE or pager setting in the caller's
 * environment cannot point our commands elsewhere. LC_ALL=C keeps messages stable for matching.
 */
export function gitEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    // Paths come from secret names: never let `*`, `?` or `:(magic)` in one act as a pattern.
    GIT_LITERAL_PATHSPECS: '1',
    // `git status` would otherwise rewrite the user's index as a side effect.
    GIT_OPTIONAL_LOCKS: '0',
  };
  // GIT_INDEX_FILE is not kept: a caller that wants another index (a hook) passes it per call.
  // GNUPGHOME, SSH_AUTH_SOCK, XDG_RUNTIME_DIR: a user with commit.gpgSign set can still sign.
  const keep = ['PATH', 'HOME', 'XDG_CONFIG_HOME', 'TZ', 'EMAIL', 'GNUPGHOME', 'SSH_AUTH_SOCK', 'XDG_RUNTIME_DIR'];
  for (const key of keep) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && /^GIT_(AUTHOR|COMMITTER|CONFIG)_?/.test(key)) env[key] = value;
  }
  return env;
}

const NO_IDENTITY = /Please tell me who you are|unable to auto-detect email address|empty ident name/;

export function openGit(repoRoot: string, source: NodeJS.ProcessEnv = process.env): Git {
  const base = gitEnv(source);

  async function run(args: readonly string[], opts: GitRunOptions = {}): Promise<string> {
    const env = { ...base, ...opts.env };
    let failure: { exitCode: number | null; stderr: string } | undefined;
    const git = simpleGit({
      baseDir: repoRoot,
      // simple-git guards GIT_* variables and GIT_CONFIG_* injection; ours are deliberate.
      allowEnvironment: Object.keys(env),
      unsafe: { allowUnsafeConfigEnvCount: true, allowUnsafeConfigPaths: true },
      // By default simple-git treats a non-zero exit with an empty stderr as success.
      errors: (error, result) => {
        if (result.exitCode === 0 && !error) return undefined;
        failure = { exitCode: result.exitCode, stderr: Buffer.concat(result.stdErr).toString('utf8') };
        return error instanceof Error ? error : new Error(failure.stderr);
      },
    })
      .env(env)
      // simple-git waits a fixed 50 ms after a command that printed nothing (read-tree, update-ref,
      // update-index...), which would triple the cost of a put. An empty chunk, emitted once its
      // listeners are attached, ends that wait without anything reaching git or its hooks.
      .outputHandler((_command, stdout) => queueMicrotask(() => stdout.emit('data', Buffer.alloc(0))));
    const started = performance.now();
    try {
      return await git.raw([...args]);
    } catch (err) {
      throw new GitCommandError(args, failure?.exitCode ?? null, failure?.stderr ?? String(err));
    } finally {
      debugGit(args, started, failure === undefined ? undefined : failure.exitCode);
    }
  }

  async function commitTree(
    tree: string,
    parents: readonly string[],
    message: string,
    opts: GitRunOptions = {},
  ): Promise<string> {
    const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message];
    try {
      return (await run(args, opts)).trim();
    } catch (err) {
      if (!(err instanceof GitCommandError && NO_IDENTITY.test(err.stderr))) throw err;
      // A fresh CI machine has no user.name/user.email; a commit by "secretstore" beats failing.
      const { name, email } = FALLBACK_IDENTITY;
      const identity = {
        GIT_AUTHOR_NAME: name,
        GIT_AUTHOR_EMAIL: email,
        GIT_COMMITTER_NAME: name,
        GIT_COMMITTER_EMAIL: email,
      };
      return (await run(args, { env: { ...opts.env, ...identity } })).trim();
    }
  }

  return { repoRoot, run, commitTree };
}

/**
 * The contents of many blobs in one `git cat-file --batch` (simple-git has no stdin): `specs` are
 * `<rev>:<path>` names; a spec that names nothing maps to undefined. For `verify`, which checks the
 * previous state of every index of the store, where one git process per file would cost minutes.
 */
export async function readBlobs(repoRoot: string, specs: readonly string[], source: NodeJS.ProcessEnv = process.env): Promise<(string | undefined)[]> {
  if (specs.length === 0) return [];
  if (specs.some((s) => /[\n\r]/.test(s))) throw new InternalServiceError('a git object name holds a line break');
  const { spawn } = await import('node:child_process');
  const child = spawn('git', ['cat-file', '--batch'], { cwd: repoRoot, env: gitEnv(source), stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(specs.map((s) => `${s}\n`).join(''));
  const code = await done;
  if (code !== 0) throw new GitCommandError(['cat-file', '--batch'], code, 'git cat-file --batch failed');
  const out = Buffer.concat(chunks);
  const result: (string | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < specs.length; i++) {
    const eol = out.indexOf(10, at);
    const header = out.subarray(at, eol).toString('utf8');
    at = eol + 1;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!m) {
      result.push(undefined); // "<spec> missing" (or ambiguous)
      continue;
    }
    const size = Number(m[2]);
    result.push(m[1] === 'blob' ? out.subarray(at, at + size).toString('utf8') : undefined);
    at += size + 1; // the content is followed by a newline
  }
  return result;
}
