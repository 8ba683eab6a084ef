/**
 * Builds the tree of a new commit from its parent's tree: only the changed blobs and the trees on the
 * paths to them are written; every other entry is reused as its parent has it. No index is read or
 * written here, so the cost follows the depth of the changed paths, not the size of the repository.
 *
 * Atomicity: this file only adds objects to the object database (blobs with `hash-object -w`, trees with
 * `mktree`; a long-lived client's commits through `fast-import`, see fast-import.ts). An object is written
 * whole or not at all by git, and an object that no ref reaches is invisible (`git gc` prunes it), so a
 * kill anywhere in here changes nothing anyone can see; the commit becomes visible only when the
 * transaction moves HEAD by compare-and-swap (see transaction.ts).
 *
 * The git processes are long-lived and shared per repository: a CLI command pays for each start once,
 * and a long-running client (`serve`, the agent, the library) keeps them warm. They are unreferenced
 * while idle (they never keep a process alive) and closed after a few idle seconds.
 */
import { InternalServiceError } from '../errors.js';
import { CommitWriter } from './commit-writer.js';
import type { Git } from './client.js';
import { FastImport } from './fast-import.js';
import { LineProcess } from './line-process.js';
import { objectId } from './object-id.js';
import { ObjectReader, type GitObject, type Unwritten } from './objects.js';
import { parseTree, type TreeEntry } from './tree-entries.js';
import type { CommitDraft } from '../model/repository.js';

/** A file of the new tree: its blob (already written) and mode, or its removal. */
export type TreeChange =
  | { readonly path: string; readonly blob: string; readonly mode: '100644' | '100755' }
  | { readonly path: string; readonly delete: true };

const IDLE_CLOSE_MS = 5_000;

/** The warm object-writing processes of one repository. */
export class TreeWriter {
  /** Also read by the index check before a commit (work-tree.ts): the trees it reads are the ones the commit is built from. */
  readonly reader: ObjectReader;
  private readonly blobs: LineProcess;
  /** mktree processes, used in turn: a long-lived client (from its second commit on) writes a commit's trees two at a time. */
  private readonly trees: LineProcess[] = [];
  private turn = 0;
  private readonly commits: CommitWriter;
  private commitsWritten = 0;
  /**
   * Once a commit has been written the warm way (a long-lived client's second), and while git agrees with
   * the ids computed here: commits go to fast-import (one pack per batch, see fast-import.ts) instead of a
   * loose file per object.
   */
  private readonly imports: FastImport;
  private packLane = false;
  /** False once a commit fast-import wrote was not the one computed here: from then on, none goes to it. */
  private importsHold = true;
  /** The commit being made through fast-import: its blobs (from writeBlobs), then its changes (from apply). */
  private importing?: { readonly blobs: readonly Buffer[]; changes?: readonly TreeChange[] };
  /** The last commit sent to fast-import since `settle`, which checks it was written as computed. */
  private imported?: string;
  private idle?: NodeJS.Timeout;
  /** The trees `apply` wrote last, by folder ('' the top level): primed into `reader` once their commit is written. */
  private written?: { readonly root: string; readonly trees: ReadonlyMap<string, GitObject> };
  /** What `primeWritten` remembered last (see `writtenOf`), and when git will have written that commit. */
  private primed?: { readonly commit: string; readonly objects: { spec: string; obj: GitObject }[]; readonly written: Unwritten };
  /** Work-tree files git has been asked to write as blobs and has not answered for: it reads them until then. */
  private readonly blobsReading = new Map<string, Promise<unknown>>();
  /** Checks of the trees sent to mktree and not yet settled (see `writeDir`): each resolves to an error or undefined. */
  private readonly unsettled: Promise<Error | undefined>[] = [];
  /** False once git disagreed with a computed tree id: then every tree waits for git's answer. */
  private computedIdsHold = true;
  /**
   * Whether a blob's id may be computed from the content (see `writeBlobs`): undefined until git first
   * agreed (or disagreed), false once git ever disagreed.
   */
  private blobIdsHold?: boolean;
  /** What `settle` found wrong, until `forget`. */
  private failure?: Error;

  constructor(
    readonly repoRoot: string,
    gitDir: string,
    private readonly source: NodeJS.ProcessEnv = process.env,
  ) {
    this.reader = new ObjectReader(repoRoot, source);
    this.commits = new CommitWriter(repoRoot, gitDir, source);
    this.imports = new FastImport(repoRoot, source, () => this.commits.fsync);
    // With paths, hash-object applies the same attributes and filters `git add` would.
    this.blobs = new LineProcess(repoRoot, ['hash-object', '-w', '--stdin-paths'], source);
  }

  /** The next mktree process in turn (started when first needed). */
  private treeProcess(): LineProcess {
    const lanes = this.commitsWritten > 0 ? 2 : 1;
    const i = this.turn++ % lanes;
    // --missing: every entry is reused from an existing tree or was just written, so git need not look each up.
    return (this.trees[i] ??= new LineProcess(this.repoRoot, ['mktree', '-z', '--missing', '--batch'], this.source));
  }

  /** The commit HEAD names now, undefined on an unborn branch. */
  async head(): Promise<string | undefined> {
    this.touch();
    const obj = await this.reader.read('HEAD');
    if (obj !== undefined && obj.type !== 'commit') throw new InternalServiceError(`HEAD names a ${obj.type}, not a commit`);
    return obj?.oid;
  }

  /**
   * Writes the work-tree files at `files`' paths (repo-relative), which hold `content`, as blobs; their
   * ids, in order. git reads each file through the attributes and filters `git add` applies, so its id
   * need not be the hash of the content: until git has once agreed with the ids computed here, each is
   * waited for; from then on (with `idLength`, the repository's) the computed ids are returned at once and
   * `settle` checks git's answers, as for trees. In the pack lane (`takesContent`) the bytes are the
   * blobs; `onDisk: false` says the files are not written yet, so git cannot be asked to read them.
   */
  async writeBlobs(files: readonly { readonly path: string; readonly content: Buffer }[], idLength?: number, { onDisk = true }: { readonly onDisk?: boolean } = {}): Promise<string[]> {
    this.touch();
    this.importing = undefined;
    if (this.takesContent(idLength)) {
      // Git has agreed that these files' blobs are their bytes: fast-import is given the bytes.
      this.importing = { blobs: files.map((f) => f.content) };
      return files.map((f) => objectId('blob', f.content, idLength!));
    }
    if (!onDisk) throw new InternalServiceError('the files of this commit are not written yet, and git must read them; nothing was committed, try again');
    if (files.some((f) => /[\n\r]/.test(f.path))) throw new InternalServiceError('a path holds a line break');
    const answers = files.map((f) => this.blobs.ask(`${f.path}\n`).then(oidOrFail));
    files.forEach((f, i) => {
      const read = answers[i]!.catch(() => undefined);
      this.blobsReading.set(f.path, read);
      void read.then(() => this.blobsReading.get(f.path) === read && this.blobsReading.delete(f.path));
    });
    const computed = idLength === undefined ? undefined : files.map((f) => objectId('blob', f.content, idLength));
    if (computed && this.blobIdsHold) {
      this.unsettled.push(this.checked(answers, computed, () => (this.blobIdsHold = false)));
      return computed;
    }
    const got = await Promise.all(answers);
    if (computed && this.blobIdsHold === undefined) this.blobIdsHold = got.every((oid, i) => oid === computed[i]);
    return got;
  }

  /**
   * Whether `writeBlobs` takes the files' bytes as they are (the pack lane, once git has agreed that a
   * blob is its file's bytes) rather than having git read the files: then they need not be in the work
   * tree yet (transaction.ts writes them when the batch lands).
   */
  takesContent(idLength: number | undefined): boolean {
    return this.packLane && this.blobIdsHold === true && idLength !== undefined;
  }

  /** Resolves once git has read those of `paths` that `writeBlobs` asked for: until then they must not be rewritten. */
  async blobsRead(paths: readonly string[]): Promise<void> {
    await Promise.all(paths.map((p) => this.blobsReading.get(p)));
  }

  /** Resolves to the error to report when an answer is not the id a commit was built on (see `settle`). */
  private checked(answers: readonly Promise<string>[], computed: readonly string[], disagreed: () => void): Promise<Error | undefined> {
    return Promise.all(answers).then(
      (got) => {
        const wrong = got.findIndex((oid, i) => oid !== computed[i]);
        if (wrong < 0) return undefined;
        disagreed();
        return new InternalServiceError(`git wrote object ${got[wrong]} where ${computed[wrong]} was computed; nothing was committed, try again`);
      },
      (err: unknown) => (err instanceof Error ? err : new InternalServiceError(String(err))),
    );
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
    const existing = new Map<string, TreeEntry[]>();
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
    if (this.importing) {
      // writeBlobs gave fast-import the blobs, so it must build on a parent (writeBlobs was told its id length).
      if (base === undefined) throw new InternalServiceError('a commit made through fast-import has no parent; nothing was committed');
      // fast-import builds the trees from the parent's itself; the ids computed here are what its commit must name.
      this.importing.changes = changes;
      return this.computeDir('', existing, byDir, order, idLength, () => undefined)!;
    }
    return (await this.writeDir('', existing, byDir, order, idLength))!;
  }

  /**
   * The trees the next commit's `apply` reads are mostly the ones this commit wrote (the same folders,
   * one commit on): remembered under the commit's names, they cost that commit no round trip to git.
   */
  private primeWritten(commit: string, tree: string, imported: boolean): void {
    const written = this.written;
    this.written = undefined;
    // Its trees may still be on their way to git: reads of this commit use the primed ones, or wait.
    const unwritten: Unwritten = imported
      ? { written: this.imports.visible(), hurry: () => void this.imports.checkpoint().catch(() => undefined) }
      : { written: Promise.allSettled(this.unsettled) };
    this.primed = { commit, objects: [], written: unwritten };
    this.reader.expect(commit, unwritten);
    if (written?.root !== tree) return;
    for (const [dir, obj] of written.trees) {
      this.reader.prime(treeSpec(commit, dir), obj);
      this.primed.objects.push({ spec: treeSpec(commit, dir), obj });
    }
  }

  /**
   * The trees of `commit` (the last one written) under their names, for another reader to remember too,
   * and when git will have written them all (see ObjectReader.expect).
   */
  writtenOf(commit: string): { readonly trees: readonly { readonly spec: string; readonly obj: GitObject }[]; readonly written: Unwritten } {
    return this.primed?.commit === commit ? { trees: this.primed.objects, written: this.primed.written } : { trees: [], written: { written: Promise.resolve() } };
  }

  /** Writes a commit object (see commit-writer.ts); `git` makes it when the warm way cannot. */
  async writeCommit(git: Git, draft: CommitDraft): Promise<string> {
    this.touch();
    const importing = this.importing;
    this.importing = undefined;
    if (importing?.changes) {
      const commit = await this.importCommit(git, draft, importing.blobs, importing.changes);
      this.commitsWritten++;
      this.primeWritten(commit, draft.tree, true);
      return commit;
    }
    const commit = await this.commits.write(git, draft, () => this.settle(), (check) => this.unsettled.push(check));
    this.commitsWritten++;
    this.primeWritten(commit, draft.tree, false);
    // From the client's third commit on: its second was the first written the warm way (a CLI command makes one).
    this.packLane = this.commitsWritten > 1 && this.importsHold && this.computedIdsHold && this.blobIdsHold === true && (await this.commits.warm(git));
    return commit;
  }

  /**
   * `draft` with its blobs and changes written by fast-import; its id, computed here (as for the warm way
   * in commit-writer.ts), which `settle` checks against fast-import's before HEAD may move.
   */
  private async importCommit(git: Git, draft: CommitDraft, blobs: readonly Buffer[], changes: readonly TreeChange[]): Promise<string> {
    const text = await this.commits.text(git, draft);
    if (text === undefined) throw new InternalServiceError('the commit identity is no longer known; nothing was committed, try again');
    const oid = objectId('commit', Buffer.from(text), draft.tree.length);
    // fast-import reads a parent it did not write from the object database: git must have it first.
    if (draft.parents[0] !== this.imports.tip) await Promise.allSettled(this.unsettled);
    this.imports.write({ oid, text, parents: draft.parents, blobs, changes });
    this.imported = oid;
    return oid;
  }

  /** Ends the processes (a CLI command's end); safe to call twice. */
  close(): void {
    clearTimeout(this.idle);
    this.commits.close();
    this.imports.close();
    this.reader.close();
    this.blobs.close();
    for (const trees of this.trees) trees.close();
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
  private async writeDir(dir: string, existing: Map<string, TreeEntry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[], idLength: number): Promise<string | undefined> {
    if (!this.computedIdsHold) {
      this.written = undefined;
      return this.buildDirOneByOne(dir, existing, byDir, dirs);
    }
    const computed: string[] = [];
    const answers: Promise<string>[] = [];
    const root = this.computeDir(dir, existing, byDir, dirs, idLength, (oid, entries) => {
      computed.push(oid);
      answers.push(this.treeProcess().ask(mktreeRequest(entries)).then(oidOrFail));
    });
    this.unsettled.push(this.checked(answers, computed, () => (this.computedIdsHold = false)));
    return root;
  }

  /** The trees of `dir` and its changed folders with ids computed here, remembered for `primeWritten`; each is handed to `send`. */
  private computeDir(dir: string, existing: Map<string, TreeEntry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[], idLength: number, send: (oid: string, entries: TreeEntry[]) => void): string | undefined {
    const trees = new Map<string, GitObject>();
    const root = this.buildDir(dir, existing, byDir, dirs, (folder, entries) => {
      const content = treeBody(entries);
      const oid = objectId('tree', content, idLength);
      trees.set(folder, { oid, type: 'tree', content });
      send(oid, entries);
      return oid;
    });
    this.written = { root: root!, trees };
    return root;
  }

  /**
   * Waits until every tree `apply` sent is written, and throws if git failed or gave another id than the
   * one a commit was built on: call before reading or landing commits built since the last call. A
   * failure stays until `forget` (the commits built on it must not land).
   */
  async settle(): Promise<void> {
    // Commits made through fast-import become visible to other git processes (update-ref among them),
    // and the last one must be there under the id computed here.
    const imported = this.imported;
    this.imported = undefined;
    if (imported !== undefined) this.unsettled.push(this.importChecked(imported));
    const errors = await Promise.all(this.unsettled.splice(0));
    this.failure ??= errors.find((e) => e !== undefined);
    if (this.failure) throw this.failure;
  }

  /** After a checkpoint, the error to report unless `commit` (the last one sent to fast-import) is in git as computed. */
  private async importChecked(commit: string): Promise<Error | undefined> {
    try {
      await this.imports.checkpoint();
      if ((await this.reader.read(commit))?.type === 'commit') return undefined;
    } catch (err) {
      return err instanceof Error ? err : new InternalServiceError(String(err));
    }
    this.packLane = this.importsHold = false;
    return new InternalServiceError(`git fast-import did not write commit ${commit} as computed; nothing was committed, try again`);
  }

  /** Drops what `settle` would report: the commits it was about will never land (a new batch begins). */
  async forget(): Promise<void> {
    await Promise.all(this.unsettled.splice(0));
    this.failure = undefined;
    this.imported = undefined;
  }

  /** The trees written one level at a time, each parent with its children's ids as git answered them. */
  private async buildDirOneByOne(dir: string, existing: Map<string, TreeEntry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[]): Promise<string | undefined> {
    const entries = dirEntries(dir, existing, byDir);
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const child of childDirs(dir, dirs)) {
      const name = child.slice(prefix.length);
      setChild(entries, name, await this.buildDirOneByOne(child, existing, byDir, dirs));
    }
    if (entries.size === 0 && dir !== '') return undefined;
    return oidOrFail(await this.treeProcess().ask(mktreeRequest(sortTree([...entries.values()]))));
  }

  /** The tree of `dir` with its changed subfolders, bottom up; `write` is given each tree's entries in order. */
  private buildDir(dir: string, existing: Map<string, TreeEntry[]>, byDir: Map<string, TreeChange[]>, dirs: readonly string[], write: (dir: string, entries: TreeEntry[]) => string): string | undefined {
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
function dirEntries(dir: string, existing: Map<string, TreeEntry[]>, byDir: Map<string, TreeChange[]>): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>((existing.get(dir) ?? []).map((e) => [e.name.toString('latin1'), e]));
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

function setChild(entries: Map<string, TreeEntry>, name: string, oid: string | undefined): void {
  if (oid === undefined) entries.delete(nameKey(name)); // a folder emptied by deletions disappears
  else entries.set(nameKey(name), { mode: '40000', name: Buffer.from(name, 'utf8'), oid });
}

/**
 * Git's order of tree entries (`base_name_compare`): by name bytes, a folder's name compared as if it
 * ended in '/'. mktree sorts the same way, so the id computed here is the id of what it writes.
 */
function sortTree(entries: TreeEntry[]): TreeEntry[] {
  const sortKey = (e: TreeEntry) => (e.mode === '40000' ? Buffer.concat([e.name, Buffer.from('/')]) : e.name);
  return entries.map((e) => ({ e, k: sortKey(e) })).sort((a, b) => Buffer.compare(a.k, b.k)).map(({ e }) => e);
}

/** The mode as mktree writes it (octal, no leading zeros). */
const canonicalMode = (mode: string) => (mode.startsWith('0') ? parseInt(mode, 8).toString(8) : mode);

function typeOf(mode: string): string {
  return mode === '40000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
}

/** The tree object's content: `<mode> <name>\0<raw id>` per entry, in order. */
function treeBody(entries: readonly TreeEntry[]): Buffer {
  return encode(entries, (e) => `${canonicalMode(e.mode)} `, (e) => e.oid.length / 2, (out, pos, e) => out.write(e.oid, pos, 'hex'), 0);
}

/** One `mktree -z --batch` request: `<mode> <type> <id>\t<name>\0` per entry, then the NUL that ends the tree. */
function mktreeRequest(entries: readonly TreeEntry[]): Buffer {
  return encode(entries, (e) => `${e.mode} ${typeOf(e.mode)} ${e.oid}\t`, () => 0, () => 0, 1);
}

/**
 * `head(e)`, the name's bytes, a NUL and `tailLength(e)` bytes from `tail` per entry, then `end` NULs, in
 * one buffer (a tree of a few hundred versions is written on every put: no buffer per field).
 */
function encode(
  entries: readonly TreeEntry[],
  head: (e: TreeEntry) => string,
  tailLength: (e: TreeEntry) => number,
  tail: (out: Buffer, pos: number, e: TreeEntry) => number,
  end: number,
): Buffer {
  const heads = entries.map(head);
  let size = end;
  entries.forEach((e, i) => (size += heads[i]!.length + e.name.length + 1 + tailLength(e)));
  const out = Buffer.alloc(size);
  let pos = 0;
  entries.forEach((e, i) => {
    pos += out.write(heads[i]!, pos, 'latin1');
    pos += e.name.copy(out, pos);
    pos += 1; // the NUL
    pos += tail(out, pos, e);
  });
  return out;
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
