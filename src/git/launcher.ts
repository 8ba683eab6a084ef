/**
 * Short git commands (`update-ref`, `update-index`) started by a long-lived `sh` instead of by Node.
 * Starting a process from Node costs ~3 ms of the event loop here (libuv forks the whole Node process),
 * twice per landed batch; a small shell forks git for a fraction of that, and off Node's thread, so a
 * long-lived client (serve, the agent, the library) lands a batch without blocking. The commands are
 * still git's own: the shell only starts them, with the environment every git process of secretstore
 * gets (gitEnv) and the repository as its working directory.
 *
 * One request per line: a command whose every argument is single-quoted here (none may hold a line
 * break); its standard output is discarded; the answer is `<exit code> <bytes of stderr>\n<stderr>`.
 * Like the other warm processes it is unreferenced while idle and closed after a few idle seconds.
 */
import { InternalServiceError } from '../errors.js';
import { debugGit } from '../debug.js';
import { GitCommandError } from './env.js';
import { PipedGit } from './line-process.js';

/** Runs each request, reporting its exit code and standard error (bytes: LC_ALL=C from gitEnv). */
const LOOP = `while IFS= read -r line; do err=$(eval "$line" 2>&1 >/dev/null); printf '%d %d\\n%s' "$?" "\${#err}" "$err"; done`;

interface Pending {
  readonly resolve: (answer: { code: number; stderr: string }) => void;
  readonly reject: (err: Error) => void;
}

const IDLE_CLOSE_MS = 5_000;

export class GitLauncher extends PipedGit<Pending> {
  protected override readonly program = 'sh';
  private buffer = Buffer.alloc(0);
  private idle?: NodeJS.Timeout;

  constructor(repoRoot: string, source: NodeJS.ProcessEnv = process.env) {
    super(repoRoot, ['-c', LOOP], source);
  }

  /**
   * Runs `git <args>` with `input` (NUL bytes allowed) on its standard input, or none; throws
   * GitCommandError when it fails, as `Git.run` does.
   */
  async run(args: readonly string[], input?: string): Promise<void> {
    const started = performance.now();
    if ([...args, input ?? ''].some((a) => /[\n\r]/.test(a))) throw new InternalServiceError('a git argument holds a line break');
    const command = `git ${args.map(quote).join(' ')}`;
    const line = input === undefined ? `${command} </dev/null` : `printf ${quote(octal(input))} | ${command}`;
    clearTimeout(this.idle);
    const answer = await new Promise<{ code: number; stderr: string }>((resolve, reject) => this.send({ resolve, reject }, `${line}\n`));
    this.idle = setTimeout(() => this.close(), IDLE_CLOSE_MS);
    this.idle.unref();
    debugGit(args, started, answer.code === 0 ? undefined : answer.code);
    if (answer.code !== 0) throw new GitCommandError(args, answer.code, answer.stderr);
  }

  protected reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  protected received(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.queue.length > 0) {
      const eol = this.buffer.indexOf(0x0a);
      if (eol < 0) break;
      const [code, length] = this.buffer.toString('latin1', 0, eol).split(' ').map(Number) as [number, number];
      if (this.buffer.length < eol + 1 + length) break;
      const stderr = this.buffer.toString('utf8', eol + 1, eol + 1 + length);
      this.buffer = this.buffer.subarray(eol + 1 + length);
      this.queue.shift()!.resolve({ code, stderr });
    }
    this.answered();
  }
}

/** One shell word holding `arg` exactly. */
function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `text` as a printf format that prints its bytes exactly: every byte an octal escape. */
function octal(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

const launchers = new Map<string, GitLauncher>();

/** The launcher of a repository (one shell per repository per Node process). */
export function gitLauncher(repoRoot: string): GitLauncher {
  let launcher = launchers.get(repoRoot);
  if (!launcher) {
    launcher = new GitLauncher(repoRoot);
    launchers.set(repoRoot, launcher);
  }
  return launcher;
}
