/**
 * A long-lived client's commits written by one `git fast-import`: the objects of many commits go into
 * one pack file instead of a loose file each. A loose object costs git a create, a link and an unlink;
 * on a busy store that file-system work was most of a put's cost (a put writes 9 objects). fast-import
 * builds each commit's trees itself from the parent's; the commits are built on the ids computed in
 * process (tree-writer.ts), and before HEAD moves the last one is looked up under its computed id, which
 * proves every one of them (see `write`).
 *
 * Visibility: other git processes see fast-import's objects only once a `checkpoint` has closed the pack
 * (written its index and moved it into place), so a batch ends with one (`checkpoint`, before HEAD moves);
 * a reader that needs an object earlier asks for one (`hurry` in objects.ts). The commits themselves are
 * held until then and leave with the checkpoint in one write: each write to a pipe wakes git, which cost
 * `serve` a quarter of a millisecond per put here, and nothing needs them earlier.
 *
 * Durability: the pack of a landing is not flushed to disk (`core.fsync` without `pack`, unless the user
 * set `core.fsync`): a `git commit` flushes none of its objects either (git's default flushes packs, which
 * it mostly gets by fetching), so a put is exactly as durable as a commit made by hand. The flushes were
 * half of a single put's checkpoint here (2-3 ms).
 *
 * Refs: fast-import updates the refs of its branches at every checkpoint and when it ends, so the branch
 * it builds on is reset after every commit: a reset branch names no commit and no ref is ever written.
 * HEAD moves only by the transaction's compare-and-swap (ref-updater.ts).
 *
 * Packs: each checkpoint adds a small pack, which fast-import marks `.keep` while it runs. Every
 * RECYCLE_AFTER checkpoints the process is ended (its packs lose their `.keep`) and a background
 * `git repack -d --geometric=2` merges the small packs (and loose objects) it finds into fewer, so
 * object lookups stay cheap however many puts a client makes.
 *
 * Kills: a killed client's fast-import reads the end of its input, finishes its pack and ends, leaving
 * no ref, no `.keep` and only unreachable objects. A kill while a checkpoint's answer is due must not
 * kill it too (dying of SIGPIPE, it would leave its packs kept, out of every later repack): its answers
 * go through a relay that outlives Node (`FastImportProcess`).
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { gitEnv } from './env.js';
import { LineProcess } from './line-process.js';
import type { TreeChange } from './tree-writer.js';

const BRANCH = 'refs/secretstore/fast-import';
const RECYCLE_AFTER = 32;

/** A commit for fast-import: its text as git will hold it, the blobs it brings and its changes. */
export interface ImportedCommit {
  /** Its id as computed in process: the next commit may name it as its parent before fast-import answers. */
  readonly oid: string;
  /** The commit object's bytes (tree, parents, author, committer, message), as CommitWriter.text gives them. */
  readonly text: string;
  readonly parents: readonly string[];
  /** Contents of the blobs the changes name that git may not have yet. */
  readonly blobs: readonly Buffer[];
  readonly changes: readonly TreeChange[];
}

export class FastImport {
  private process?: LineProcess;
  /** The commit mark :1 names in the running process (fast-import reads it from its own pack, where others may not see it yet). */
  private last?: string;
  /** Commits sent since the last checkpoint, and the promise their checkpoint resolves. */
  private pending?: { readonly visible: Promise<void>; readonly resolve: () => void };
  /** The commands of those commits, written with the checkpoint. */
  private held: Buffer[] = [];
  private checkpoints = 0;
  /** Whether a repack is running (or about to): one at a time. */
  private repacking = false;

  constructor(
    private readonly repoRoot: string,
    private readonly source: NodeJS.ProcessEnv,
    /** The user's `core.fsync`, if set (read with the commit identities, see commit-writer.ts). */
    private readonly fsync: () => string | undefined,
  ) {}

  /** The last commit sent to the running process: a commit on it needs nothing else written first. */
  get tip(): string | undefined {
    return this.process?.running ? this.last : undefined;
  }

  /**
   * Sends `commit`. fast-import does not answer: whether it wrote the commit as computed shows once a
   * checkpoint has made it visible (an object's id is the hash of its bytes, and the commit's bytes name
   * its tree and parents, so a commit that exists under the computed id is exactly the computed one).
   */
  write(commit: ImportedCommit): void {
    const headerEnd = commit.text.indexOf('\n\n');
    const headers = commit.text.slice(0, headerEnd).split('\n');
    const message = Buffer.from(commit.text.slice(headerEnd + 2), 'utf8');
    const header = (name: string) => headers.find((h) => h.startsWith(`${name} `))!;
    const [first, ...merged] = commit.parents;
    const parts: (string | Buffer)[] = [];
    for (const blob of commit.blobs) parts.push(`blob\ndata ${blob.length}\n`, blob, '\n');
    parts.push(`commit ${BRANCH}\nmark :1\n${header('author')}\n${header('committer')}\ndata ${message.length}\n`, message, '\n');
    // A parent this process wrote since its last checkpoint is only in its own pack: named by its mark.
    if (first !== undefined) parts.push(`from ${first === this.tip ? ':1' : first}\n`);
    for (const parent of merged) parts.push(`merge ${parent}\n`);
    for (const c of commit.changes) parts.push('delete' in c ? `D ${quote(c.path)}\n` : `M ${c.mode} ${c.blob} ${quote(c.path)}\n`);
    parts.push(`\nreset ${BRANCH}\n\n`);
    this.pending ??= deferred();
    this.start().warm();
    this.held.push(...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    this.last = commit.oid;
  }

  /** Resolves once every commit sent so far is visible to other git processes (or has failed to be). */
  visible(): Promise<void> {
    return this.pending?.visible ?? Promise.resolve();
  }

  /**
   * Closes the pack of the commits sent so far, so other git processes see them; at once when there are
   * none. (The one answer fast-import gives; see the header for a kill before it is read.)
   */
  async checkpoint(): Promise<void> {
    const pending = this.pending;
    if (!pending || !this.process) return;
    this.pending = undefined;
    const held = Buffer.concat(this.held.splice(0));
    try {
      await this.process.ask(Buffer.concat([held, Buffer.from('checkpoint\n\nprogress .\n')]));
    } finally {
      pending.resolve();
    }
    // Not while a commit sent meanwhile waits for the next checkpoint: it must be made visible by this process.
    if (++this.checkpoints % RECYCLE_AFTER === 0 && this.pending === undefined) this.recycle();
  }

  /**
   * Ends the process unless answers are due (false then): the objects it has are written into its pack as
   * it ends, and its branch names no commit, so it writes no ref. Commits sent since the last checkpoint
   * (a batch that never landed) are no longer waited for.
   */
  close(): boolean {
    if (this.process && !this.process.close()) return false;
    this.process = undefined;
    this.last = undefined;
    this.held = [];
    this.pending?.resolve();
    this.pending = undefined;
    return true;
  }

  private start(): LineProcess {
    // unpackLimit 0: a checkpoint always keeps its pack (fast-import would otherwise unpack a small one into loose objects).
    const fsync = this.fsync() ?? '-pack';
    return (this.process ??= new FastImportProcess(this.repoRoot, ['-c', 'fastimport.unpackLimit=0', '-c', `core.fsync=${fsync}`, 'fast-import', '--quiet'], this.source));
  }

  /** A new process for the next commit; the packs of the ones before lose their `.keep` and can be merged. */
  private recycle(): void {
    const ended = this.process?.exited();
    if (!this.close() || this.repacking) return;
    this.repacking = true;
    // Only once the process has ended are its packs free of `.keep` (repack leaves kept packs alone).
    void ended?.then(() => this.repack());
  }

  /** In the background, at a lower priority (nice 10, not 19: upkeep must still finish on a busy machine). */
  private repack(): void {
    const repack = spawn('git', ['repack', '-d', '-q', '--geometric=2'], { cwd: this.repoRoot, env: gitEnv(this.source), stdio: 'ignore' });
    const done = () => (this.repacking = false);
    repack.on('error', done);
    repack.on('close', done);
    if (repack.pid !== undefined) {
      try {
        setPriority(repack.pid, 10);
      } catch {
        // not allowed here: it runs at normal priority
      }
    }
    repack.unref();
  }
}

/**
 * `git <args>` whose answers reach Node through a shell loop that outlives Node: git re-raises SIGPIPE on
 * a write to a closed pipe whatever it inherits, so it must never meet one. The loop ignores SIGPIPE and
 * reads on after Node is gone, and git, at the end of its input, finishes as if Node had closed it.
 */
class FastImportProcess extends LineProcess {
  protected override readonly program = 'sh';

  constructor(repoRoot: string, args: readonly string[], source: NodeJS.ProcessEnv) {
    super(repoRoot, ['-c', 'trap "" PIPE; git "$@" | while IFS= read -r line; do printf \'%s\\n\' "$line"; done', 'sh', ...args], source);
  }
}

function deferred(): { visible: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const visible = new Promise<void>((r) => (resolve = r));
  return { visible, resolve };
}

/** A path as fast-import reads it: C-style quoted, so any byte but NUL is carried over exactly. */
function quote(path: string): string {
  let out = '"';
  for (const byte of Buffer.from(path, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte === 0x7f) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += byte < 0x80 ? String.fromCharCode(byte) : `\\${byte.toString(8)}`;
  }
  return `${out}"`;
}
