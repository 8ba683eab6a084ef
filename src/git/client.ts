/**
 * The one door to git. Everything else in secretstore talks to git through `openGit`, so the
 * environment git sees, how failures are reported and the no-identity fallback live in one place.
 */
import { spawn } from 'node:child_process';
import { simpleGit } from 'simple-git';
import { InternalServiceError } from '../errors.js';
import { debugGit } from '../debug.js';

export interface GitRunOptions {
  /** Extra variables for this call only, e.g. `GIT_INDEX_FILE` for a temporary index. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Lets `git config` set a command git will run (`merge.*.driver`, `diff.*.textconv`), which
   * simple-git refuses by default: only install-hooks does, with values it wrote itself.
   */
  readonly setsCommands?: boolean;
}

export interface Git {
  readonly repoRoot: string;
  /** Runs `git <args>` in the repository's top level and resolves with its stdout. */
  run(args: readonly string[], opts?: GitRunOptions): Promise<string>;
  /** The bytes of many blobs in one `git cat-file --batch` (run's output is text); see `readBlobs`. */
  readBlobs(ids: readonly string[]): Promise<Map<string, Buffer>>;
  /** `git commit-tree`, falling back to a fixed identity when the user has none configured. */
  commitTree(tree: string, parents: readonly string[], message: string, opts?: GitRunOptions): Promise<string>;
}

export { FALLBACK_IDENTITY, GitCommandError, gitEnv } from './env.js';
import { FALLBACK_IDENTITY, GitCommandError, gitEnv } from './env.js';

const NO_IDENTITY = /Please tell me who you are|unable to auto-detect email address|empty ident name/;

export function openGit(repoRoot: string, source: NodeJS.ProcessEnv = process.env): Git {
  const base = gitEnv(source);

  /** A simple-git client for one command; `failure` receives the exit code and stderr of a failed one. */
  function client(opts: GitRunOptions, failure: { exitCode?: number | null; stderr?: string }) {
    const env = { ...base, ...opts.env };
    return simpleGit({
      baseDir: repoRoot,
      // simple-git guards GIT_* variables and GIT_CONFIG_* injection; ours are deliberate.
      allowEnvironment: Object.keys(env),
      unsafe: {
        allowUnsafeConfigEnvCount: true,
        allowUnsafeConfigPaths: true,
        ...(opts.setsCommands ? { allowUnsafeMergeDriver: true, allowUnsafeDiffTextConv: true } : {}),
      },
      // By default simple-git treats a non-zero exit with an empty stderr as success.
      errors: (error, result) => {
        if (result.exitCode === 0 && !error) return undefined;
        failure.exitCode = result.exitCode;
        failure.stderr = Buffer.concat(result.stdErr).toString('utf8');
        return error instanceof Error ? error : new Error(failure.stderr);
      },
    })
      .env(env)
      // simple-git waits a fixed 50 ms after a command that printed nothing (read-tree, update-ref,
      // update-index...), which would triple the cost of a put. An empty chunk, emitted once its
      // listeners are attached, ends that wait without anything reaching git or its hooks.
      .outputHandler((_command, stdout) => queueMicrotask(() => stdout.emit('data', Buffer.alloc(0))));
  }

  async function timedRun<T>(args: readonly string[], opts: GitRunOptions, call: (git: ReturnType<typeof client>) => Promise<T>): Promise<T> {
    const failure: { exitCode?: number | null; stderr?: string } = {};
    const started = performance.now();
    try {
      return await call(client(opts, failure));
    } catch (err) {
      throw new GitCommandError(args, failure.exitCode ?? null, failure.stderr ?? String(err));
    } finally {
      debugGit(args, started, failure.stderr === undefined ? undefined : (failure.exitCode ?? null));
    }
  }

  async function run(args: readonly string[], opts: GitRunOptions = {}): Promise<string> {
    return timedRun(args, opts, (git) => git.raw([...args]));
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

  return { repoRoot, run, readBlobs: (ids) => readBlobs(repoRoot, ids, source), commitTree };
}

/**
 * `git cat-file --batch`: many blobs in one process. simple-git has no stdin, so this one call spawns git
 * itself, with the same environment as `run`. Ids are anything cat-file takes (`<commit>:<path>` too); the
 * map is keyed by the id as asked, and missing objects are absent from it.
 */
export async function readBlobs(repoRoot: string, ids: readonly string[], source: NodeJS.ProcessEnv = process.env): Promise<Map<string, Buffer>> {
  const wanted = [...new Set(ids)];
  const blobs = new Map<string, Buffer>();
  if (wanted.length === 0) return blobs;
  // one name per line on stdin: a line break inside one would ask for another object
  if (wanted.some((id) => /[\n\r]/.test(id))) throw new InternalServiceError('a git object name holds a line break');
  const args = ['cat-file', '--batch'];
  const started = performance.now();
  const out = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn('git', args, { cwd: repoRoot, env: gitEnv(source), stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const errors: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => errors.push(c));
    child.on('error', (err) => reject(new GitCommandError(args, null, err.message)));
    child.on('close', (code) => {
      debugGit(args, started, code === 0 ? undefined : code);
      if (code === 0) resolve(Buffer.concat(chunks));
      else reject(new GitCommandError(args, code, Buffer.concat(errors).toString('utf8')));
    });
    child.stdin.end(wanted.join('\n') + '\n');
  });
  // One answer per id, in order: "<oid> <type> <size>\n<content>\n", or "<id> missing\n".
  let at = 0;
  for (const id of wanted) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const [, type, size] = out.subarray(at, eol).toString('utf8').split(' ');
    at = eol + 1;
    if (size === undefined || type === 'missing' || type === 'ambiguous') continue;
    const length = Number(size);
    blobs.set(id, out.subarray(at, at + length));
    at += length + 1;
  }
  return blobs;
}

/** `readBlobs` as UTF-8 text, in the order asked; undefined where a name names no object. */
export async function readTexts(repoRoot: string, specs: readonly string[], source: NodeJS.ProcessEnv = process.env): Promise<(string | undefined)[]> {
  const blobs = await readBlobs(repoRoot, specs, source);
  return specs.map((spec) => blobs.get(spec)?.toString('utf8'));
}
