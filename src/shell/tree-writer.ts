/**
 * Builds the tree of a new commit from its parent's tree: only the changed blobs and the trees on the
 * paths to them are written; every other entry is reused as its parent has it. No index is read or
 * written here, so the cost follows the depth of the changed paths, not the size of the repository.
 *
 * Atomicity: this file only adds objects to the object database (blobs with `hash-object -w`, trees with
 * `mktree`). An object is written whole or not at all by git, and an object that no ref reaches is
 * invisible (`git gc` prunes it), so a kill anywhere in here changes nothing anyone can see; the commit
 * becomes visible only when the transaction moves HEAD by compare-and-swap (see transaction.ts).
 *
 * The git processes are long-lived and shared per repository: a CLI command pays for each start once,
 * and a long-running client (`serve`, the agent, the library) keeps them warm. They are unreferenced
 * while idle (they never keep a process alive) and closed after a few idle seconds.
 */
import { InternalServiceError } from '../errors.js';
import { CommitWriter } from './commit-writer.js';
import type { Git } from './git.js';
import { LineProcess } from './line-process.js';
import { ObjectReader } from './objects.js';
import type { CommitDraft } from './types.js';

/** A file of the new tree: its blob (already written) and mode, or its removal. */
export type TreeChange =
  | { readonly path: string; readonly blob: string; readonly mode: '100644' | '100755' }
  | { readonly path: string; readonly delete: true };

interface Entry {
  mode: string;
  /** The name's bytes as the tree holds them (a user's file name need not be UTF-8). */
  name: Buffer;
  oid: string;
}

const IDLE_CLOSE_MS = 5_000;

/** The warm object-writing processes of one repository. */
export class TreeWriter {
  /** Also read by the index check before a commit (work-tree.ts): the trees it reads are the ones the commit is built from. */
  readonly reader: ObjectReader;
  private readonly blobs: LineProcess;
  private readonly trees: LineProcess;
  private readonly commits: CommitWriter;
  private idle?: NodeJS.Timeout;

  constructor(
    readonly repoRoot: string,
    gitDir: string,
    source: NodeJS.ProcessEnv = process.env,
  ) {
    this.reader = new ObjectReader(repoRoot, source);
    this.commits = new CommitWriter(repoRoot, gitDir, source);
    // With paths, hash-object applies the same attributes and filters `git add` would.
    this.blobs = new LineProcess(repoRoot, ['hash-object', '-w', '--stdin-paths'], source);
    // --missing: every entry is reused from an existing tree or was just written, so git need not look each up.
    this.trees = new LineProcess(repoRoot, ['mktree', '-z', '--missing', '--batch'], source);
  }

  /** The commit HEAD names now, undefined on an unborn branch. */
  async head(): Promise<string | undefined> {
    this.touch();
    const obj = await this.reader.read('HEAD');
    if (obj !== undefined && obj.type !== 'commit') throw new InternalServiceError(`HEAD names a ${obj.type}, not a commit`);
    return obj?.oid;
  }

  /** Writes the work-tree files at `paths` (repo-relative) as blobs; their ids, in order. */
  async writeBlobs(paths: readonly string[]): Promise<string[]> {
    this.touch();
    if (paths.some((p) => /[\n\r]/.test(p))) throw new InternalServiceError('a path holds a line break');
    return Promise.all(paths.map((p) => this.blobs.ask(`${p}\n`).then(oidOrFail)));
  }

  /**
   * The tree of commit `base` (undefined: the empty tree) with `changes` applied, written, and its id.
   * Folders emptied by deletions disappear, as they do from an index.
   */
  async apply(base: string | undefined, changes: readonly TreeChange[]): Promise<string> {
    this.touch();
    // Every folder on a changed path, read from the base in one batch.
    const dirs = new Set<string>(['']);
    for (const c of changes) {
      const parts = c.path.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    const order = [...dirs];
    const read = base === undefined ? order.map(() => undefined) : await this.reader.readMany(order.map((d) => (d === '' ? `${base}^{tree}` : `${base}:${d}`)));
    const existing = new Map<string, Entry[]>();
    order.forEach((dir, i) => {
      const obj = read[i];
      if (obj === undefined) return; // a new folder
      if (obj.type !== 'tree') throw new InternalServiceError(`${dir} is a file in HEAD where secretstore needs a folder`);
      existing.set(dir, parseTree(obj.content, obj.oid.length / 2));
    });
    const byDir = new Map<string, TreeChange[]>();
    for (const c of changes) {
      const dir = c.path.includes('/') ? c.path.slice(0, c.path.lastIndexOf('/')) : '';
      byDir.set(dir, [...(byDir.get(dir) ?? []), c]);
    }
    return (await this.writeDir('', existing, byDir, order))!;
  }

  /** Writes a commit object (see commit-writer.ts); `git` makes it when the warm way cannot. */
  writeCommit(git: Git, draft: CommitDraft): Promise<string> {
    this.touch();
    return this.commits.write(git, draft);
  }

  /** Ends the processes (a CLI command's end); safe to call twice. */
  close(): void {
    clearTimeout(this.idle);
    this.commits.close();
    this.reader.close();
    this.blobs.close();
    this.trees.close();
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.close(), IDLE_CLOSE_MS);
    this.idle.unref();
  }

  private async writeDir(dir: string, existing: Map<string, Entry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[]): Promise<string | undefined> {
    // Keyed by the name's bytes, so a name that is not UTF-8 is carried over exactly.
    const entries = new Map<string, Entry>((existing.get(dir) ?? []).map((e) => [e.name.toString('latin1'), e]));
    const key = (name: string) => Buffer.from(name, 'utf8').toString('latin1');
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const c of byDir.get(dir) ?? []) {
      const name = c.path.slice(prefix.length);
      if ('delete' in c) entries.delete(key(name));
      else entries.set(key(name), { mode: c.mode, name: Buffer.from(name, 'utf8'), oid: c.blob });
    }
    // Child folders on a changed path (direct children of `dir` among the folders read).
    for (const child of dirs) {
      if (child === '' || !child.startsWith(prefix) || child.slice(prefix.length).includes('/')) continue;
      const name = child.slice(prefix.length);
      const oid = await this.writeDir(child, existing, byDir, dirs);
      if (oid === undefined) entries.delete(key(name));
      else entries.set(key(name), { mode: '40000', name: Buffer.from(name, 'utf8'), oid });
    }
    if (entries.size === 0 && dir !== '') return undefined; // the top level is written even when empty
    const lines = [...entries.values()].flatMap((e) => [
      Buffer.from(`${e.mode} ${e.mode === '40000' ? 'tree' : e.mode === '160000' ? 'commit' : 'blob'} ${e.oid}\t`),
      e.name,
      Buffer.alloc(1),
    ]);
    return oidOrFail(await this.trees.ask(Buffer.concat([...lines, Buffer.alloc(1)])));
  }
}

/** A binary tree object: `<mode> <name>\0<raw id>` per entry; `idLength` is the repository's (20 or 32). */
function parseTree(content: Buffer, idLength: number): Entry[] {
  const entries: Entry[] = [];
  let pos = 0;
  while (pos < content.length) {
    const space = content.indexOf(0x20, pos);
    const nul = content.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 1 + idLength > content.length) throw new InternalServiceError('a git tree object is malformed');
    entries.push({ mode: content.toString('latin1', pos, space), name: Buffer.from(content.subarray(space + 1, nul)), oid: content.toString('hex', nul + 1, nul + 1 + idLength) });
    pos = nul + 1 + idLength;
  }
  return entries;
}

function oidOrFail(line: string): string {
  const oid = line.trim();
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid)) throw new InternalServiceError(`git answered ${JSON.stringify(oid.slice(0, 80))} where an object id was expected`);
  return oid;
}

const writers = new Map<string, TreeWriter>();

/** The shared writer of a repository (one set of processes per repository per Node process). */
export function treeWriter(repoRoot: string, gitDir: string): TreeWriter {
  let writer = writers.get(repoRoot);
  if (!writer) {
    writer = new TreeWriter(repoRoot, gitDir);
    writers.set(repoRoot, writer);
  }
  return writer;
}
