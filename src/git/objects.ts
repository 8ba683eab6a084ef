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
import { treeEntry } from './tree-entries.js';

/** One object as `cat-file --batch` gives it. */
export interface GitObject {
  readonly oid: string;
  readonly type: 'blob' | 'tree' | 'commit' | 'tag';
  readonly content: Buffer;
}

/**
 * One answer line of `git cat-file --batch`: `<oid> <type> <size>` for an object, or undefined for
 * `<name> missing` / `<name> ambiguous`, whatever the name holds (spaces included: `HEAD:a b missing`
 * has three words too, and read as an object it would misframe every answer after it).
 */
export function batchHeader(line: string): { oid: string; type: GitObject['type']; size: number } | undefined {
  const m = /^([0-9a-f]{40}(?:[0-9a-f]{24})?) (blob|tree|commit|tag) (\d+)$/.exec(line);
  return m ? { oid: m[1]!, type: m[2] as GitObject['type'], size: Number(m[3]) } : undefined;
}

const EMPTY = Buffer.alloc(0);
/** Names whose object can never change: a full object id, or a path inside a commit named by its id. */
const IMMUTABLE = /^[0-9a-f]{40}(?:[0-9a-f]{24})?(?::|$)/;
/** A bare object id: git may not have it yet but write it later, so "missing" is not remembered for it. */
const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const MAX_CACHED_BYTES = 32 * 1024 * 1024;

/**
 * Objects of a commit this process made that git may not have yet: `written` settles once it has them;
 * `hurry`, when given, must be called by a reader about to wait for that (they may otherwise only be
 * written at the end of the batch, see fast-import.ts).
 */
export interface Unwritten {
  readonly written: Promise<unknown>;
  readonly hurry?: () => void;
}

interface Pending {
  readonly spec: string;
  readonly resolve: (obj: GitObject | undefined) => void;
  readonly reject: (err: Error) => void;
}

export class ObjectReader extends PipedGit<Pending> {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly cache = new Map<string, Promise<GitObject | undefined>>();
  private cachedBytes = 0;
  /** Commits this process has made whose objects git may still be writing (see `expect`). */
  private readonly unwritten = new Map<string, Unwritten>();

  constructor(
    repoRoot: string,
    source: NodeJS.ProcessEnv = process.env,
    /** `check` answers ids, types and sizes only (`--batch-check`): for trees one only compares. */
    private readonly mode: 'batch' | 'check' = 'batch',
  ) {
    super(repoRoot, ['cat-file', mode === 'check' ? '--batch-check' : '--batch'], source);
  }

  /** The object a name gives (`<rev>:<path>`, an oid, `HEAD`), or undefined when it names nothing. */
  read(spec: string): Promise<GitObject | undefined> {
    // One name per line on stdin: a line break inside one would ask for another object.
    if (/[\n\r]/.test(spec)) return Promise.reject(new InternalServiceError('a git object name holds a line break'));
    if (!IMMUTABLE.test(spec)) return this.ask(spec);
    const cached = this.cache.get(spec);
    if (cached) return cached;
    const colon = spec.indexOf(':');
    const unwritten = this.unwritten.get(colon < 0 ? spec : spec.slice(0, colon));
    const answer =
      unwritten !== undefined ? this.readUnwritten(spec, colon, unwritten) : colon >= 0 ? this.readThroughCache(spec, colon) : this.ask(spec);
    this.remember(spec, answer);
    return answer;
  }

  /**
   * A path of a commit git has: from the objects at hand when a cached tree above it leads there (the
   * next batch's plans and checks read the commit the last one made, whose trees this process primed),
   * else from git in one request.
   */
  private async readThroughCache(spec: string, colon: number): Promise<GitObject | undefined> {
    const found = await this.walk(spec.slice(0, colon), spec.slice(colon + 1), false);
    return found ? found.obj : this.ask(spec);
  }

  /**
   * Says that git may not have `commit` and the trees it brings until `written` settles (a batch's next
   * commit is planned while git still writes the previous one, transaction.ts). Until then a path of it
   * is answered from the trees primed for it (`prime`, `<commit>:<folder>`), whose entries name every
   * object below: those the commit brings are primed too, the others git has had all along. A name that
   * cannot be answered that way waits for `written` before git is asked.
   */
  expect(commit: string, unwritten: Unwritten): void {
    this.unwritten.set(commit, unwritten);
    const done = () => {
      if (this.unwritten.get(commit) === unwritten) this.unwritten.delete(commit);
    };
    unwritten.written.then(done, done);
  }

  private async readUnwritten(spec: string, colon: number, unwritten: Unwritten): Promise<GitObject | undefined> {
    if (colon >= 0) {
      const found = await this.walk(spec.slice(0, colon), spec.slice(colon + 1));
      if (found) return found.obj;
    }
    unwritten.hurry?.();
    await unwritten.written.catch(() => undefined);
    return this.ask(spec);
  }

  /**
   * `path` of `commit` from the deepest cached tree above it (`{ obj: undefined }`: that tree says the path
   * does not exist), or undefined when no cached tree reaches it or an object on the way is not at hand:
   * with `fetch`, objects below it are read from git by id, else only those cached are used.
   */
  private async walk(commit: string, path: string, fetch = true): Promise<{ obj: GitObject | undefined } | undefined> {
    const parts = path === '' ? [] : path.split('/');
    const specOf = (depth: number) => `${commit}:${parts.slice(0, depth).join('/')}`;
    let depth = parts.length - 1;
    while (depth >= 0 && !this.cache.has(specOf(depth))) depth--;
    if (depth < 0) return undefined;
    let obj = await this.cache.get(specOf(depth));
    for (; depth < parts.length; depth++) {
      if (obj?.type !== 'tree') return undefined;
      const entry = treeEntry(obj.content, parts[depth]!, obj.oid.length / 2);
      if (!entry) return { obj: undefined };
      // (The cache holds this very read under the full path: the last step goes by id.)
      const next = (depth + 1 < parts.length ? this.cache.get(specOf(depth + 1)) : undefined) ?? (fetch ? this.read(entry.oid) : this.cache.get(entry.oid));
      obj = await next;
      if (obj === undefined) return undefined;
    }
    return { obj };
  }

  private ask(spec: string): Promise<GitObject | undefined> {
    return new Promise((resolve, reject) => this.send({ spec, resolve, reject }, `${spec}\n`));
  }

  /**
   * Answers for names that can never change meaning (an object id, or `<commit id>:<path>`) are kept, up
   * to MAX_CACHED_BYTES, oldest dropped first: a long-lived client (serve, the agent) reading an unchanged
   * store asks git only whether HEAD moved. Only committed, authenticated content is ever read this way.
   * An object found is also kept under its id, which names it wherever it occurs (a tree shared by many
   * commits is read once, and `walk` finds it by the id its parent names).
   */
  private remember(spec: string, answer: Promise<GitObject | undefined>): void {
    this.cache.set(spec, answer);
    answer.then(
      (obj) => {
        if (obj === undefined && OBJECT_ID.test(spec)) {
          this.cache.delete(spec);
          return;
        }
        this.cachedBytes += obj?.content.length ?? 0;
        if (obj !== undefined && obj.oid !== spec && !this.cache.has(obj.oid)) {
          this.cache.set(obj.oid, answer);
          this.cachedBytes += obj.content.length;
        }
        for (const [key, old] of this.cache) {
          if (this.cachedBytes <= MAX_CACHED_BYTES) break;
          this.cache.delete(key);
          void old.then((o) => (this.cachedBytes -= o?.content.length ?? 0));
        }
      },
      () => this.cache.delete(spec),
    );
  }

  /**
   * Remembers `obj` as the answer for `spec` (an immutable name) without asking git: for objects this
   * process has just written and whose id it has checked (the trees of a new commit, tree-writer.ts).
   */
  prime(spec: string, obj: GitObject): void {
    if (IMMUTABLE.test(spec) && !this.cache.has(spec)) this.remember(spec, Promise.resolve(obj));
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
      const header = batchHeader(this.buffer.toString('latin1', 0, eol));
      const pending = this.queue[0]!;
      if (header === undefined) {
        // missing / ambiguous: one line, no content
        this.buffer = this.buffer.subarray(eol + 1);
        this.queue.shift();
        pending.resolve(undefined);
        continue;
      }
      if (this.mode === 'check') {
        this.buffer = this.buffer.subarray(eol + 1);
        this.queue.shift();
        pending.resolve({ oid: header.oid, type: header.type, content: EMPTY });
        continue;
      }
      if (this.buffer.length < eol + 1 + header.size + 1) return; // the content is still coming
      const content = Buffer.from(this.buffer.subarray(eol + 1, eol + 1 + header.size));
      this.buffer = this.buffer.subarray(eol + 1 + header.size + 1);
      this.queue.shift();
      pending.resolve({ oid: header.oid, type: header.type, content });
    }
    this.answered();
  }
}
