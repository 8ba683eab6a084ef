/**
 * Long-lived git processes that answer requests written to their stdin, in order: the base of
 * objects.ts's `cat-file --batch` reader and of the object writers (`hash-object --stdin-paths`,
 * `mktree --batch`, which flush after every answer when writing to a pipe). A CLI command starts each
 * process once and ends it on exit; a long-lived client keeps it. While no answer is due the process
 * and its pipes are unreferenced, so an idle one never keeps Node alive (a pending promise alone does not).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { debugGit } from '../debug.js';
import { GitCommandError, gitEnv } from './env.js';

export abstract class PipedGit<P extends { readonly reject: (err: Error) => void }> {
  protected child?: ChildProcessWithoutNullStreams;
  /** Requests sent and not yet answered, oldest first. */
  protected readonly queue: P[] = [];
  private stderr = '';
  /** Resolves once the last process started has ended. */
  private ended: Promise<void> = Promise.resolve();
  /** Whether this tick's writes are being gathered (see `send`). */
  private corked = false;
  /** The program started with `args` (a subclass may run another than git). */
  protected readonly program: string = 'git';

  constructor(
    readonly repoRoot: string,
    private readonly args: readonly string[],
    /** The environment its git runs with (gitEnv of it); whole-store reads start their git with it too. */
    readonly source: NodeJS.ProcessEnv,
  ) {}

  /**
   * Ends the process (a CLI command's end; a long-lived client keeps it). Safe to call twice; does
   * nothing while answers are due, so a request is always answered by the process it was sent to
   * (false then).
   */
  close(): boolean {
    if (this.queue.length > 0) return false;
    const child = this.child;
    this.child = undefined;
    if (child) {
      child.stdin.end();
      child.unref();
    }
    return true;
  }

  /**
   * Queues `pending` and writes its request, starting the process if needed. Requests sent in the same
   * tick (a commit's trees, a batch of reads) leave in one write: each write wakes git, and on a busy
   * machine each wake-up can cost Node its turn on the CPU.
   */
  protected send(pending: P, request: string | Buffer): void {
    if (this.queue.length === 0) setRef(this.start(), true);
    this.queue.push(pending);
    this.write(request);
  }

  /** Writes `request`, which has no answer, starting the process if needed (gathered as `send` says). */
  protected write(request: string | Buffer): void {
    const child = this.start();
    if (!this.corked) {
      this.corked = true;
      child.stdin.cork();
      // A microtask, not nextTick: a chain of awaits (a put) would hold nextTick callbacks back to its end.
      queueMicrotask(() => {
        this.corked = false;
        child.stdin.uncork();
      });
    }
    child.stdin.write(request);
  }

  /** Starts the process if it is not running, so that its start overlaps other work. */
  warm(): void {
    this.start();
  }

  /** Resolves once the last process started has ended (at once when none was). */
  exited(): Promise<void> {
    return this.ended;
  }

  /** Whether a process is running (a request sent now goes to the one the last went to, if so). */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Output from the process: answer what can be answered, then call `answered`. */
  protected abstract received(chunk: Buffer): void;

  /** A new process starts with nothing buffered. */
  protected abstract reset(): void;

  /** To call after answering: with nothing more due, the process stops holding Node up. */
  protected answered(): void {
    if (this.queue.length === 0 && this.child) setRef(this.child, false);
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const started = performance.now();
    const child = spawn(this.program, this.args, { cwd: this.repoRoot, env: gitEnv(this.source), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.ended = new Promise((resolve) => child.once('close', () => resolve()));
    this.reset();
    this.stderr = '';
    child.stdout.on('data', (chunk: Buffer) => this.received(chunk));
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    const fail = (err: Error) => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const p of this.queue.splice(0)) p.reject(err);
    };
    // A write into a process that just died: its `close` reports why.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => fail(new GitCommandError(this.args, null, err.message)));
    child.on('close', (code) => {
      debugGit(this.args, started, code === 0 ? undefined : code);
      // Only the current process has requests waiting: one ended by `close` had none, and those sent
      // since belong to its successor.
      if (this.child !== child) return;
      if (this.queue.length > 0) fail(new GitCommandError(this.args, code, this.stderr || `git ${this.args[0]} ended early`));
      else this.child = undefined;
    });
    setRef(child, false);
    return child;
  }
}

function setRef(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const handle of [child, child.stdout, child.stderr, child.stdin] as unknown as { ref?: () => void; unref?: () => void }[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}

/** A process answering each request with one line. */
export class LineProcess extends PipedGit<{ readonly resolve: (line: string) => void; readonly reject: (err: Error) => void }> {
  private buffer = '';

  /** Sends `request` (its own terminator included) and resolves with the answer line. */
  ask(request: string | Buffer): Promise<string> {
    return new Promise((resolve, reject) => this.send({ resolve, reject }, request));
  }

  /** Sends `request`, which git does not answer. */
  tell(request: string | Buffer): void {
    this.write(request);
  }

  protected reset(): void {
    this.buffer = '';
  }

  protected received(chunk: Buffer): void {
    this.buffer += chunk.toString('utf8');
    for (let eol = this.buffer.indexOf('\n'); eol >= 0 && this.queue.length > 0; eol = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, eol);
      this.buffer = this.buffer.slice(eol + 1);
      this.queue.shift()!.resolve(line);
    }
    this.answered();
  }
}

/** `make`'s instance for a repository: one per repository per Node process, made when first asked for. */
export function perRepository<T>(make: (repoRoot: string) => T): (repoRoot: string) => T {
  const made = new Map<string, T>();
  return (repoRoot) => {
    let instance = made.get(repoRoot);
    if (instance === undefined) made.set(repoRoot, (instance = make(repoRoot)));
    return instance;
  };
}
