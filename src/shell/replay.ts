/**
 * Replays (issue #4): someone with push access restores an OLD, validly signed `secret.yaml` in a new
 * commit (a label rolled back to a version its writer once signed). The signature holds, so reads check
 * the chain too: a signed state's `previous` must be the state it replaced, that is the file at HEAD when
 * the work tree differs from it, else the file in the parent(s) of the commit that last changed it.
 *
 * Checking that costs git calls, so each clone remembers, per index file, the unsigned-text hash of the
 * last state it verified or wrote (`<git dir>/secretstore-cache/known/<hash of the path>`): a read of an
 * unchanged secret costs one small file read; only a state this clone has not seen yet (after a pull)
 * costs `git cat-file`/`git log` once, and is then remembered. One entry per path, never a set of all
 * states ever seen, so an old state seen once and restored later is checked again, and caught.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256Hex, splitSigned, type Previous } from '../core/signature.js';
import type { StoreLocation } from './types.js';

function knownFile(loc: StoreLocation, path: string): string {
  const id = createHash('sha256').update(`${loc.prefix}${path}`).digest('hex');
  return join(loc.gitDir, 'secretstore-cache', 'known', id.slice(0, 2), id.slice(2));
}

/** Whether `hash` is the state of `path` this clone verified or wrote last. */
export function isKnown(loc: StoreLocation, path: string, hash: string): boolean {
  try {
    return readFileSync(knownFile(loc, path), 'utf8') === hash;
  } catch {
    return false;
  }
}

export function remember(loc: StoreLocation, path: string, hash: string): void {
  const file = knownFile(loc, path);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, hash);
    renameSync(temp, file);
  } catch {
    // An optimisation: a read-only git dir only makes the next read check git again.
  }
}

/** Whether `previous` names exactly the parents' states (null for none). */
export function chainsTo(previous: Previous, parents: readonly (string | null)[]): boolean {
  if (previous === null || typeof previous === 'string') return parents.includes(previous);
  const [a, b] = previous;
  return parents.length === 2 && ((parents[0] === a && parents[1] === b) || (parents[0] === b && parents[1] === a));
}

const hashOf = (text: string | undefined): string | null => (text === undefined ? null : sha256Hex(splitSigned(text).unsigned));

/**
 * Whether the signed index at `path` (unsigned-text hash `hash`, signature `previous`) follows the state
 * it replaced, asking git when this clone has not seen the state yet; remembers it when it does.
 */
export async function followsHistory(loc: StoreLocation, path: string, hash: string, previous: Previous): Promise<boolean> {
  if (isKnown(loc, path, hash)) return true;
  const { openGit, readTexts } = await import('./git.js');
  const repoPath = `${loc.prefix}${path}`;
  const [atHead] = await readTexts(loc.repoRoot, [`HEAD:${repoPath}`]);
  let parents: (string | null)[];
  if (hashOf(atHead) !== hash) {
    parents = [hashOf(atHead)]; // changed in the work tree (a write in flight, or a hand edit): HEAD is what it replaces
  } else {
    const git = openGit(loc.repoRoot);
    const [commit, ...revs] = (await git.run(['log', '-1', '--format=%H %P', '--no-renames', 'HEAD', '--', repoPath])).trim().split(' ').filter(Boolean);
    // A shallow clone (CI's depth-1 checkout) has no parent to compare with: the chain cannot be checked
    // there, so the state is accepted, not remembered; `verify` in a full clone checks it.
    if (revs.length === 0 && commit !== undefined && shallowCommits(loc).has(commit)) return true;
    parents = revs.length === 0 ? [null] : (await readTexts(loc.repoRoot, revs.map((r) => `${r}:${repoPath}`))).map(hashOf);
  }
  const ok = chainsTo(previous, parents);
  if (ok) remember(loc, path, hash);
  return ok;
}

/** The boundary commits of a shallow clone (`<git dir>/shallow`); empty for a full clone. */
export function shallowCommits(loc: StoreLocation): Set<string> {
  try {
    return new Set(readFileSync(join(loc.gitDir, 'shallow'), 'utf8').split('\n').filter(Boolean));
  } catch {
    return new Set();
  }
}
