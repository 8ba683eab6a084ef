/**
 * git commands started by a long-lived `sh` instead of by Node. Starting a process from Node blocks its
 * event loop for 1-3 ms here (libuv forks the whole Node process); a small shell forks git for a fraction
 * of that, off Node's thread. The commands are still git's own: the shell only starts them, with the
 * environment every git process of secretstore gets (gitEnv) and the repository as its working directory.
 *
 * A command's input (`run`) follows its line on the shell's own input: a line with its length, then that
 * many bytes, which the shell hands to git (`head -c`; nothing more is written to the shell until the
 * command has answered, so even a `head` that reads ahead finds nothing else to take). A command without
 * input reads none (`</dev/null`): the shell then starts git alone, without the pipeline and its `head`.
 *
 * One request per line: a command whose every argument is single-quoted here (none may hold a line
 * break); its standard output is discarded; the answer is `<exit code> <bytes of stderr>\n<stderr>`.
 * Like the other warm processes it is unreferenced while idle and closed after a few idle seconds.
 */
import { InternalServiceError } from '../errors.js';
import { debugGit } from '../debug.js';
import { GitCommandError } from './env.js';
import { PipedGit, perRepository } from './line-process.js';

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
   * Runs `git <args>` with `input` on its standard input; throws GitCommandError when it fails, as
   * `Git.run` does.
   */
  async run(args: readonly string[], input?: Buffer): Promise<void> {
    const started = performance.now();
    if (args.some((a) => /[\n\r]/.test(a))) throw new InternalServiceError('a git argument holds a line break');
    clearTimeout(this.idle);
    const command = `git ${args.map(quote).join(' ')}`;
    const request = input === undefined ? `${command} </dev/null\n` : Buffer.concat([Buffer.from(`{ read -r n; head -c "$n"; } | ${command}\n${input.length}\n`), input]);
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => this.send({ resolve, reject }, request));
    this.idle = setTimeout(() => this.close(), IDLE_CLOSE_MS);
    this.idle.unref();
    debugGit(args, started, code === 0 ? undefined : code);
    if (code !== 0) throw new GitCommandError(args, code, stderr);
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

/** The launcher of a repository (one shell per repository per Node process). */
export const gitLauncher = perRepository((repoRoot) => new GitLauncher(repoRoot));
