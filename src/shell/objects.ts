/**
 * A long-lived `git cat-file --batch` process: many objects for the price of one process start.
 *
 * Reads go through committed objects rather than the work tree, so what a read returns is exactly what
 * a commit holds (the commit that trust authenticates), never an uncommitted edit. A CLI command starts
 * one process and ends it on exit; a long-lived client (the agent, `serve`) keeps it, and each request
 * names the revision it wants (`HEAD:path` is resolved afresh for every line, so a `git pull` or a new
 * commit is seen by the next request).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { InternalServiceError } from '../errors.js';
import { debugGit } from './debug.js';
import { GitCommandError, gitEnv } from './git.js';

/** One object as `cat-file --batch` gives it. */
export interface GitObject {
  readonly oid: string;
  readonly type: 'blob' | 'tree' | 'commit' | 'tag';
  readonly content: Buffer;
}

interface Pending {
  readonly spec: string;
  readonly resolve: (obj: GitObject | undefined) => void;
  readonly reject: (err: Error) => void;
}

export class ObjectReader {
  private child?: ChildProcessWithoutNullStreams;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly queue: Pending[] = [];
  private stderr = '';

  constructor(
    readonly repoRoot: string,
    private readonly source: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The object a name gives (`<rev>:<path>`, an oid, `HEAD`), or undefined when it names nothing. */
  read(spec: string): Promise<GitObject | undefined> {
    // One name per line on stdin: a line break inside one would ask for another object.
    if (/[\n\r]/.test(spec)) return Promise.reject(new InternalServiceError('a git object name holds a line break'));
    const child = this.start();
    if (this.queue.length === 0) setRef(child, true);
    return new Promise((resolve, reject) => {
      this.queue.push({ spec, resolve, reject });
      child.stdin.write(`${spec}\n`);
    });
  }

  /** Many objects at once (one write, answers in order). */
  readMany(specs: readonly string[]): Promise<(GitObject | undefined)[]> {
    return Promise.all(specs.map((s) => this.read(s)));
  }

  /** Ends the process (a CLI command's end; a long-lived client keeps it). Safe to call twice. */
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
    const args = ['cat-file', '--batch'];
    const started = performance.now();
    const child = spawn('git', args, { cwd: this.repoRoot, env: gitEnv(this.source), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.buffer = Buffer.alloc(0);
    this.stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    const fail = (err: Error) => {
      if (this.child === child) this.child = undefined;
      for (const p of this.queue.splice(0)) p.reject(err);
    };
    child.on('error', (err) => fail(new GitCommandError(args, null, err.message)));
    child.on('close', (code) => {
      debugGit(args, started, code === 0 ? undefined : code);
      if (this.queue.length > 0) fail(new GitCommandError(args, code, this.stderr || 'git cat-file ended early'));
      else if (this.child === child) this.child = undefined;
    });
    setRef(child, false);
    return child;
  }

  /** Answers are `<oid> <type> <size>\n<content>\n`, or `<name> missing\n` / `<name> ambiguous\n`. */
  private drain(): void {
    while (this.queue.length > 0) {
      const eol = this.buffer.indexOf(0x0a);
      if (eol < 0) return;
      const header = this.buffer.subarray(0, eol).toString('utf8');
      const parts = header.split(' ');
      const pending = this.queue[0]!;
      if (parts.length !== 3) {
        // missing / ambiguous / a name with spaces that names nothing: one line, no content
        this.buffer = this.buffer.subarray(eol + 1);
        this.queue.shift();
        pending.resolve(undefined);
        continue;
      }
      const size = Number(parts[2]);
      if (this.buffer.length < eol + 1 + size + 1) return; // the content is still coming
      const content = Buffer.from(this.buffer.subarray(eol + 1, eol + 1 + size));
      this.buffer = this.buffer.subarray(eol + 1 + size + 1);
      this.queue.shift();
      pending.resolve({ oid: parts[0]!, type: parts[1] as GitObject['type'], content });
    }
    if (this.queue.length === 0 && this.child) setRef(this.child, false);
  }
}

/**
 * An idle reader must not keep a CLI process alive, and a busy one must: a pending promise alone does
 * not stop Node from exiting, so the process and its pipes are referenced only while answers are due.
 */
export function setRef(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const handle of [child, child.stdout, child.stderr, child.stdin] as unknown as { ref?: () => void; unref?: () => void }[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}
