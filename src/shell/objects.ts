/**
 * A long-lived `git cat-file --batch` process: many objects for the price of one process start.
 *
 * Reads go through committed objects rather than the work tree, so what a read returns is exactly what
 * a commit holds (the commit that trust authenticates), never an uncommitted edit. A CLI command starts
 * one process and ends it on exit; a long-lived client (the agent, `serve`) keeps it, and each request
 * names the revision it wants (`HEAD:path` is resolved afresh for every line, so a `git pull` or a new
 * commit is seen by the next request).
 */
import { InternalServiceError } from '../errors.js';
import { PipedGit } from './line-process.js';

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

export class ObjectReader extends PipedGit<Pending> {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(repoRoot: string, source: NodeJS.ProcessEnv = process.env) {
    super(repoRoot, ['cat-file', '--batch'], source);
  }

  /** The object a name gives (`<rev>:<path>`, an oid, `HEAD`), or undefined when it names nothing. */
  read(spec: string): Promise<GitObject | undefined> {
    // One name per line on stdin: a line break inside one would ask for another object.
    if (/[\n\r]/.test(spec)) return Promise.reject(new InternalServiceError('a git object name holds a line break'));
    return new Promise((resolve, reject) => this.send({ spec, resolve, reject }, `${spec}\n`));
  }

  /** Many objects at once (one write, answers in order). */
  readMany(specs: readonly string[]): Promise<(GitObject | undefined)[]> {
    return Promise.all(specs.map((s) => this.read(s)));
  }

  protected reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  protected received(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.drain();
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
    this.answered();
  }
}
