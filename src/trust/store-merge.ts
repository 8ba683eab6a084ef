/**
 * secretstore's own merge of two commits, computed from git objects: the 3-way merge over paths, with
 * each `secret.yaml` changed on both sides merged by meaning (core/merge.ts, as the merge driver does),
 * and each merged secret's version files made to match its merged index. One implementation, two uses:
 * `sync` builds its merge commit from `mergeTrees`, and a reader accepts an unsigned merge commit
 * exactly when its store is what `mergeTrees` gives (`storeMergeMatches`: a plain `git pull` by anyone,
 * with the driver installed), so an unsigned merge can bring nothing that its authenticated parents do
 * not, and what sync writes is always what readers accept.
 *
 * Pruning is never part of a merge: an unsigned merge must be recomputable by any reader, so pruning
 * happens in a signed commit of its own (sync's, the post-merge hook's) or later by a writer.
 */
import { CONFIG_FILE, parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { INDEX_FILE, SECRETS_DIR, versionPath, VERSIONS_DIR } from '../core/layout.js';
import { mergeSecretIndex, PREFERENCES, type Contest, type Decision, type Preference } from '../core/merge.js';
import type { Policy } from '../model/store.js';
import type { Git } from '../git/client.js';
import type { ObjectReader } from '../git/objects.js';

/** A path's entry in a tree: mode and object id; null when the path is absent. */
export type Entry = { readonly mode: string; readonly oid: string } | null;
/** What the merge puts at a path against ours: theirs' entry, nothing, or a merged label index's text. */
export type Planned = Entry | { readonly text: string };

/** A threshold no index reaches: see above. */
const NEVER = Number.MAX_SAFE_INTEGER;

export interface MergeInput {
  readonly ours: string;
  readonly theirs: string;
  /** The policy of ours' `.secretstore.yaml` (pruning is off whatever it says). */
  readonly policy: Policy;
  readonly prefer?: string;
  /** Limit the merge to these pathspecs (a reader: the store's paths); default the whole tree. */
  readonly paths?: readonly string[];
}

export type TreeMerge =
  | {
      readonly kind: 'merged';
      readonly base: string;
      /** Every path whose entry differs from ours, repository-relative. */
      readonly changes: ReadonlyMap<string, Planned>;
      /** The label indexes merged by meaning (changed on both sides). */
      readonly indexes: readonly string[];
      readonly decisions: readonly Decision[];
    }
  | { readonly kind: 'contested'; readonly base: string; readonly contests: readonly { readonly path: string; readonly contest: Contest }[] }
  /** Something only a person can merge: a path other than a label index changed differently on both sides, a damaged index... */
  | { readonly kind: 'conflict'; readonly path: string; readonly why: string }
  | { readonly kind: 'unrelated' };

/** The store's three top-level paths under `prefix`, as pathspecs. */
export function storePaths(prefix: string): string[] {
  return [`${prefix}${CONFIG_FILE}`, `${prefix}.secretstore`, `${prefix}${SECRETS_DIR}`];
}

/** secretstore's merge of `ours` and `theirs`, as changes against ours. */
export async function mergeTrees(git: Git, objects: ObjectReader, prefix: string, m: MergeInput): Promise<TreeMerge> {
  const base = (await git.run(['merge-base', m.ours, m.theirs]).catch(() => '')).trim().split('\n')[0];
  if (!base) return { kind: 'unrelated' };
  const paths = m.paths ?? [];
  const [mine, incoming] = await Promise.all([diff(git, base, m.ours, paths), diff(git, base, m.theirs, paths)]);
  const changes = new Map<string, Planned>();
  const indexes: string[] = [];
  const decisions: Decision[] = [];
  const contests: { path: string; contest: Contest }[] = [];
  const folders: { folder: string; name?: string; versions: readonly string[] }[] = [];
  const prefer = PREFERENCES.includes(m.prefer as Preference) ? (m.prefer as Preference) : undefined;
  const secretsRoot = `${prefix}${SECRETS_DIR}/`;
  for (const [path, theirs] of incoming) {
    if (!mine.has(path)) {
      changes.set(path, theirs);
      continue;
    }
    const ours = mine.get(path)!;
    if (same(ours, theirs)) continue;
    if (!(path.startsWith(secretsRoot) && path.endsWith(`/${INDEX_FILE}`))) {
      return { kind: 'conflict', path, why: 'changed differently on both sides, and only label indexes merge by meaning' };
    }
    indexes.push(path);
    const read = async (entry: Entry | undefined, side: string) => {
      const text = entry ? await blobText(objects, entry.oid) : undefined;
      return text === undefined ? undefined : parseSecretIndex(text, `${path} (${side})`);
    };
    let outcome;
    try {
      outcome = mergeSecretIndex(await read(await entryAt(objects, base, path), 'base'), await read(ours, 'ours'), await read(theirs, 'theirs'), {
        now: new Date(0),
        policy: { ...m.policy, pruneAbove: NEVER },
        ...(prefer ? { prefer } : {}),
      });
    } catch (err) {
      return { kind: 'conflict', path, why: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
    }
    if (outcome.kind === 'contested') {
      contests.push(...outcome.contests.map((contest) => ({ path, contest })));
      continue;
    }
    decisions.push(...outcome.decisions);
    const folder = path.slice(0, -INDEX_FILE.length - 1);
    const index = outcome.index;
    if (index === undefined) {
      changes.set(path, null);
      folders.push({ folder, versions: [] });
      continue;
    }
    const text = serializeSecretIndex(index);
    // A merged index that comes out as ours is no change against ours.
    if (ours === null || (await blobText(objects, ours.oid)) !== text) changes.set(path, { text });
    folders.push({ folder, name: index.name, versions: Object.keys(index.versions).map((id) => `${prefix}${versionPath(index.name, id)}`) });
  }
  if (contests.length > 0) return { kind: 'contested', base, contests };

  // Each merged secret holds exactly the version files its merged index lists: none left over, and one
  // the merge keeps but a side deleted (a purge on one side, kept by the preference) comes back.
  for (const { folder, versions } of folders) {
    const dir = `${folder}/${VERSIONS_DIR}/`;
    const [inOurs, inTheirs] = await Promise.all([lsTree(git, m.ours, dir), lsTree(git, m.theirs, dir)]);
    const present = new Map(inOurs);
    for (const [path, entry] of changes) {
      if (!path.startsWith(dir)) continue;
      if (entry === null) present.delete(path);
      else if (!('text' in entry)) present.set(path, entry);
    }
    const wanted = new Set(versions);
    for (const path of present.keys()) if (!wanted.has(path)) changes.set(path, null);
    for (const path of versions) {
      if (present.has(path)) continue;
      const entry = inOurs.get(path) ?? inTheirs.get(path);
      if (entry === undefined) return { kind: 'conflict', path, why: 'is in the merged index but on neither side' };
      changes.set(path, entry);
    }
  }
  // Changes that put back ours' own entry are none.
  const oursEntries = await lsTree(git, m.ours, ...[...changes.keys()].filter((p) => p.includes(`/${VERSIONS_DIR}/`)));
  for (const [path, entry] of changes) {
    if (entry !== null && !('text' in entry) && same(oursEntries.get(path) ?? null, entry)) changes.delete(path);
    if (entry === null && !oursEntries.has(path) && path.includes(`/${VERSIONS_DIR}/`)) changes.delete(path);
  }
  return { kind: 'merged', base, changes, indexes, decisions };
}

export interface MergeCheck {
  readonly commit: string;
  readonly ours: string;
  readonly theirs: string;
  readonly policy: Policy;
  readonly prefer?: string;
}

/** Whether `commit`'s store is exactly secretstore's merge of `ours` and `theirs`. */
export async function storeMergeMatches(git: Git, objects: ObjectReader, prefix: string, m: MergeCheck): Promise<boolean> {
  const paths = storePaths(prefix);
  const merged = await mergeTrees(git, objects, prefix, { ...m, paths });
  if (merged.kind !== 'merged') return false;
  const expected = merged.changes;
  const actual = await diff(git, m.ours, m.commit, paths);
  if (actual.size !== expected.size) return false;
  for (const [path, got] of actual) {
    if (!expected.has(path)) return false;
    const want = expected.get(path)!;
    if (want !== null && 'text' in want) {
      if (got === null || (await blobText(objects, got.oid)) !== want.text) return false;
    } else if (!same(got, want)) return false;
  }
  return true;
}

async function entryAt(objects: ObjectReader, commit: string, path: string): Promise<Entry> {
  const obj = await objects.read(`${commit}:${path}`);
  return obj ? { mode: '100644', oid: obj.oid } : null;
}

async function blobText(objects: ObjectReader, oid: string | undefined): Promise<string | undefined> {
  if (oid === undefined) return undefined;
  return (await objects.read(oid))?.content.toString('utf8');
}

function same(a: Entry | undefined, b: Entry | undefined): boolean {
  return (a ?? null) === null ? (b ?? null) === null : b != null && a!.oid === b.oid && a!.mode === b.mode;
}

/** The blobs under `paths` in `commit`: path -> entry. */
async function lsTree(git: Git, commit: string, ...paths: string[]): Promise<Map<string, Entry & object>> {
  const result = new Map<string, Entry & object>();
  if (paths.length === 0) return result;
  for (let i = 0; i < paths.length; i += 200) {
    const out = await git.run(['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...paths.slice(i, i + 200)]);
    for (const record of out.split('\0')) {
      const tab = record.indexOf('\t');
      if (tab < 0) continue;
      const [mode, , oid] = record.slice(0, tab).split(' ');
      result.set(record.slice(tab + 1), { mode: mode!, oid: oid! });
    }
  }
  return result;
}

/** `git diff-tree -r` between two commits over `paths` (all when empty): path -> new entry (null when deleted). */
export async function diff(git: Git, from: string, to: string, paths: readonly string[]): Promise<Map<string, Entry>> {
  const out = await git.run(['diff-tree', '-r', '-z', '--no-renames', from, to, ...(paths.length > 0 ? ['--', ...paths] : [])]);
  const fields = out.split('\0');
  const result = new Map<string, Entry>();
  // Records: ":<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0"
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i]!;
    if (!meta.startsWith(':')) {
      i -= 1; // a stray separator: realign
      continue;
    }
    const [, newMode, , newOid, status] = meta.slice(1).split(' ');
    result.set(fields[i + 1]!, status === 'D' ? null : { mode: newMode!, oid: newOid! });
  }
  return result;
}
