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
import type { Git } from './client.js';
import { LineProcess } from './line-process.js';
import { objectId } from './object-id.js';
import { ObjectReader, type GitObject } from './objects.js';
import type { CommitDraft } from '../model/repository.js';

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
  /** The trees `apply` wrote last, by folder ('' the top level): primed into `reader` once their commit is written. */
  private written?: { readonly root: string; readonly trees: ReadonlyMap<string, GitObject> };
  /** What `primeWritten` remembered last (see `treesOf`). */
  private primed?: { readonly commit: string; readonly objects: { spec: string; obj: GitObject }[] };
  /** Checks of the trees sent to mktree and not yet settled (see `writeDir`): each resolves to an error or undefined. */
  private readonly unsettled: Promise<Error | undefined>[] = [];
  /** False once git disagreed with a computed tree id: then every tree waits for git's answer. */
  private computedIdsHold = true;
  /** What `settle` found wrong, until `forget`. */
  private failure?: Error;

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
   * The tree of commit `base` (undefined: the empty tree) with `changes` applied, and its id, computed in
   * process: the trees are on their way to git, and `settle` waits until git has them (and agrees).
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
    const read = base === undefined ? order.map(() => undefined) : await this.reader.readMany(order.map((d) => treeSpec(base, d)));
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
    // The repository's id length (40 or 64 hex digits), for the ids computed in writeDir.
    const idLength = base?.length ?? changes.find((c): c is Extract<TreeChange, { blob: string }> => 'blob' in c)?.blob.length ?? 40;
    return (await this.writeDir('', existing, byDir, order, idLength))!;
  }

  /**
   * The trees the next commit's `apply` reads are mostly the ones this commit wrote (the same folders,
   * one commit on): remembered under the commit's names, they cost that commit no round trip to git.
   */
  private primeWritten(commit: string, tree: string): void {
    const written = this.written;
    this.written = undefined;
    this.primed = { commit, objects: [] };
    if (written?.root !== tree) return;
    for (const [dir, obj] of written.trees) {
      this.reader.prime(treeSpec(commit, dir), obj);
      this.primed.objects.push({ spec: treeSpec(commit, dir), obj });
    }
  }

  /** The trees of `commit` (the last one written) under their names, for another reader to remember too. */
  treesOf(commit: string): readonly { readonly spec: string; readonly obj: GitObject }[] {
    return this.primed?.commit === commit ? this.primed.objects : [];
  }

  /** Writes a commit object (see commit-writer.ts); `git` makes it when the warm way cannot. */
  async writeCommit(git: Git, draft: CommitDraft): Promise<string> {
    this.touch();
    const commit = await this.commits.write(git, draft, () => this.settle(), (check) => this.unsettled.push(check));
    this.primeWritten(commit, draft.tree);
    return commit;
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

  /**
   * Writes the tree of `dir` and the changed folders below it. Each tree's id is computed here (the
   * object's hash, as git computes it) from entries in git's own order, so a parent needs no answer from
   * git before it is sent: every tree goes down `mktree --batch` at once, and the commit is built on the
   * computed id while git writes them. `settle` (before HEAD moves) waits for git's answers and checks
   * each against the id computed here; should git ever disagree (an entry it writes differently), that
   * batch fails before anything is visible and this writer goes back to waiting for git's ids, one
   * folder level at a time.
   */
  private async writeDir(dir: string, existing: Map<string, Entry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[], idLength: number): Promise<string | undefined> {
    if (!this.computedIdsHold) {
      this.written = undefined;
      return this.buildDirOneByOne(dir, existing, byDir, dirs);
    }
    const sent: { oid: string; answer: Promise<string> }[] = [];
    const trees = new Map<string, GitObject>();
    const root = this.buildDir(dir, existing, byDir, dirs, (folder, entries) => {
      const content = treeBody(entries);
      const oid = objectId('tree', content, idLength);
      trees.set(folder, { oid, type: 'tree', content });
      sent.push({ oid, answer: this.trees.ask(mktreeRequest(entries)) });
      return oid;
    });
    this.written = { root: root!, trees };
    this.unsettled.push(
      Promise.all(sent.map((s) => s.answer.then(oidOrFail))).then(
        (answers) => {
          const wrong = answers.findIndex((a, i) => a !== sent[i]!.oid);
          if (wrong < 0) return undefined;
          this.computedIdsHold = false;
          return new InternalServiceError(`git wrote tree ${answers[wrong]} where ${sent[wrong]!.oid} was computed; nothing was committed, try again`);
        },
        (err: unknown) => (err instanceof Error ? err : new InternalServiceError(String(err))),
      ),
    );
    return root;
  }

  /**
   * Waits until every tree `apply` sent is written, and throws if git failed or gave another id than the
   * one a commit was built on: call before reading or landing commits built since the last call. A
   * failure stays until `forget` (the commits built on it must not land).
   */
  async settle(): Promise<void> {
    const errors = await Promise.all(this.unsettled.splice(0));
    this.failure ??= errors.find((e) => e !== undefined);
    if (this.failure) throw this.failure;
  }

  /** Drops what `settle` would report: the commits it was about will never land (a new batch begins). */
  async forget(): Promise<void> {
    await Promise.all(this.unsettled.splice(0));
    this.failure = undefined;
  }

  /** The trees written one level at a time, each parent with its children's ids as git answered them. */
  private async buildDirOneByOne(dir: string, existing: Map<string, Entry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[]): Promise<string | undefined> {
    const entries = dirEntries(dir, existing, byDir);
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const child of childDirs(dir, dirs)) {
      const name = child.slice(prefix.length);
      setChild(entries, name, await this.buildDirOneByOne(child, existing, byDir, dirs));
    }
    if (entries.size === 0 && dir !== '') return undefined;
    return oidOrFail(await this.trees.ask(mktreeRequest(sortTree([...entries.values()]))));
  }

  /** The tree of `dir` with its changed subfolders, bottom up; `write` is given each tree's entries in order. */
  private buildDir(dir: string, existing: Map<string, Entry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[], write: (dir: string, entries: Entry[]) => string): string | undefined {
    const entries = dirEntries(dir, existing, byDir);
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const child of childDirs(dir, dirs)) setChild(entries, child.slice(prefix.length), this.buildDir(child, existing, byDir, dirs, write));
    if (entries.size === 0 && dir !== '') return undefined; // the top level is written even when empty
    return write(dir, sortTree([...entries.values()]));
  }
}

/** The name of folder `dir` ('' the top level) of `commit`: `<commit>:` names the top tree, and like every `<id>:<path>` is cached. */
export function treeSpec(commit: string, dir: string): string {
  return `${commit}:${dir}`;
}

/** Keyed by the name's bytes, so a name that is not UTF-8 is carried over exactly. */
const nameKey = (name: string) => Buffer.from(name, 'utf8').toString('latin1');

/** The entries of `dir` in its base tree with the changes to its own files applied. */
function dirEntries(dir: string, existing: Map<string, Entry[]>, byDir: Map<string, TreeChange[]>): Map<string, Entry> {
  const entries = new Map<string, Entry>((existing.get(dir) ?? []).map((e) => [e.name.toString('latin1'), e]));
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const c of byDir.get(dir) ?? []) {
    const name = c.path.slice(prefix.length);
    if ('delete' in c) entries.delete(nameKey(name));
    else entries.set(nameKey(name), { mode: c.mode, name: Buffer.from(name, 'utf8'), oid: c.blob });
  }
  return entries;
}

/** Folders on a changed path that are direct children of `dir`. */
function childDirs(dir: string, dirs: readonly string[]): string[] {
  const prefix = dir === '' ? '' : `${dir}/`;
  return dirs.filter((child) => child !== '' && child.startsWith(prefix) && !child.slice(prefix.length).includes('/'));
}

function setChild(entries: Map<string, Entry>, name: string, oid: string | undefined): void {
  if (oid === undefined) entries.delete(nameKey(name)); // a folder emptied by deletions disappears
  else entries.set(nameKey(name), { mode: '40000', name: Buffer.from(name, 'utf8'), oid });
}

/**
 * Git's order of tree entries (`base_name_compare`): by name bytes, a folder's name compared as if it
 * ended in '/'. mktree sorts the same way, so the id computed here is the id of what it writes.
 */
function sortTree(entries: Entry[]): Entry[] {
  const sortKey = (e: Entry) => (e.mode === '40000' ? Buffer.concat([e.name, Buffer.from('/')]) : e.name);
  return entries.map((e) => ({ e, k: sortKey(e) })).sort((a, b) => Buffer.compare(a.k, b.k)).map(({ e }) => e);
}

/** The mode as mktree writes it (octal, no leading zeros). */
const canonicalMode = (mode: string) => parseInt(mode, 8).toString(8);

function typeOf(mode: string): string {
  return mode === '40000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
}

/** The tree object's content: `<mode> <name>\0<raw id>` per entry, in order. */
function treeBody(entries: readonly Entry[]): Buffer {
  return Buffer.concat(entries.flatMap((e) => [Buffer.from(`${canonicalMode(e.mode)} `), e.name, Buffer.alloc(1), Buffer.from(e.oid, 'hex')]));
}


/** One `mktree -z --batch` request: its entries, then the empty line that ends the tree. */
function mktreeRequest(entries: readonly Entry[]): Buffer {
  const lines = entries.flatMap((e) => [Buffer.from(`${e.mode} ${typeOf(e.mode)} ${e.oid}\t`), e.name, Buffer.alloc(1)]);
  return Buffer.concat([...lines, Buffer.alloc(1)]);
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
