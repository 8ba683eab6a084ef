/**
 * A long-lived git process answering one line per request, in order (`hash-object --stdin-paths`,
 * `mktree --batch`): both flush after every answer when writing to a pipe. Unreferenced while idle, so
 * it never keeps a CLI process alive (as objects.ts's reader).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { debugGit } from './debug.js';
import { GitCommandError, gitEnv } from './git.js';
import { setRef } from './objects.js';

export class LineProcess {
  private child?: ChildProcessWithoutNullStreams;
  private buffer = '';
  private stderr = '';
  private readonly queue: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];

  constructor(
    private readonly repoRoot: string,
    private readonly args: readonly string[],
    private readonly source: NodeJS.ProcessEnv,
  ) {}

  /** Sends `request` (its own terminator included) and resolves with the answer line. */
  ask(request: string | Buffer): Promise<string> {
    const child = this.start();
    if (this.queue.length === 0) setRef(child, true);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      child.stdin.write(request);
    });
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    if (child) {
      child.stdin.end();
      child.unref();
    }
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const started = performance.now();
    const child = spawn('git', this.args, { cwd: this.repoRoot, env: gitEnv(this.source), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.buffer = '';
    this.stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let eol = this.buffer.indexOf('\n'); eol >= 0 && this.queue.length > 0; eol = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, eol);
        this.buffer = this.buffer.slice(eol + 1);
        this.queue.shift()!.resolve(line);
      }
      if (this.queue.length === 0 && this.child === child) setRef(child, false);
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    const fail = (err: Error) => {
      if (this.child === child) this.child = undefined;
      for (const p of this.queue.splice(0)) p.reject(err);
    };
    // A write into a process that just died: its `close` reports why.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => fail(new GitCommandError(this.args, null, err.message)));
    child.on('close', (code) => {
      debugGit(this.args, started, code === 0 ? undefined : code);
      if (this.queue.length > 0) fail(new GitCommandError(this.args, code, this.stderr || `git ${this.args[0]} ended early`));
      else if (this.child === child) this.child = undefined;
    });
    setRef(child, false);
    return child;
  }
}
