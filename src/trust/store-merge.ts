/**
 * secretstore's own merge of two commits' stores, computed from git objects: the 3-way merge over store
 * paths, with each `secret.yaml` changed on both sides merged by meaning (core/merge.ts, as the merge
 * driver does). A reader uses it to accept an unsigned merge commit exactly when its store is what this
 * merge gives (a plain `git pull` by anyone, with the driver installed), so an unsigned merge can bring
 * nothing that its authenticated parents do not.
 */
import { CONFIG_FILE, parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { INDEX_FILE, SECRETS_DIR } from '../core/layout.js';
import { mergeSecretIndex, PREFERENCES, type Preference } from '../core/merge.js';
import type { Policy } from '../model/store.js';
import type { Git } from '../shell/git.js';
import type { ObjectReader } from '../shell/objects.js';

/** A path's entry in a tree: mode and object id; null when the path is absent. */
type Entry = { readonly mode: string; readonly oid: string } | null;

/** Pruning is not part of a merge (the post-merge hook prunes in a commit of its own), as in the driver. */
const NEVER = Number.MAX_SAFE_INTEGER;

export interface MergeCheck {
  readonly commit: string;
  readonly ours: string;
  readonly theirs: string;
  readonly policy: Policy;
  readonly prefer?: string;
}

/** Whether `commit`'s store is exactly secretstore's merge of `ours` and `theirs`. */
export async function storeMergeMatches(git: Git, objects: ObjectReader, prefix: string, m: MergeCheck): Promise<boolean> {
  const base = (await git.run(['merge-base', m.ours, m.theirs]).catch(() => '')).trim().split('\n')[0];
  if (!base) return false;
  const paths = [`${prefix}${CONFIG_FILE}`, `${prefix}.secretstore`, `${prefix}${SECRETS_DIR}`];
  const [mine, incoming, actual] = await Promise.all([diff(git, base, m.ours, paths), diff(git, base, m.theirs, paths), diff(git, m.ours, m.commit, paths)]);
  const expected = new Map<string, Entry | { readonly text: string }>();
  for (const [path, theirs] of incoming) {
    if (!mine.has(path)) {
      expected.set(path, theirs);
      continue;
    }
    const ours = mine.get(path)!;
    if (same(ours, theirs)) continue;
    if (!path.endsWith(`/${INDEX_FILE}`)) return false; // anything else changed differently on both sides needs a person (and a signature)
    const text = await mergedIndex(objects, path, base, ours, theirs, m);
    if (text === undefined) return false;
    // A merged index that comes out as ours is no change against ours.
    if (ours === null || (await blobText(objects, ours.oid)) !== text) expected.set(path, { text });
  }
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

async function mergedIndex(objects: ObjectReader, path: string, base: string, ours: Entry, theirs: Entry, m: MergeCheck): Promise<string | undefined> {
  const read = async (entry: Entry | undefined, side: string) => {
    const text = entry ? await blobText(objects, entry.oid) : undefined;
    return text === undefined ? undefined : parseSecretIndex(text, `${path} (${side})`);
  };
  const prefer = PREFERENCES.includes(m.prefer as Preference) ? (m.prefer as Preference) : undefined;
  try {
    const outcome = mergeSecretIndex(await read(await entryAt(objects, base, path), 'base'), await read(ours, 'ours'), await read(theirs, 'theirs'), {
      now: new Date(0),
      policy: { ...m.policy, pruneAbove: NEVER },
      ...(prefer ? { prefer } : {}),
    });
    if (outcome.kind !== 'merged' || outcome.index === undefined) return undefined;
    return serializeSecretIndex(outcome.index);
  } catch {
    return undefined;
  }
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

/** `git diff-tree -r` between two commits over `paths`: path -> new entry (null when deleted). */
async function diff(git: Git, from: string, to: string, paths: readonly string[]): Promise<Map<string, Entry>> {
  const out = await git.run(['diff-tree', '-r', '-z', '--no-renames', from, to, '--', ...paths]);
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
