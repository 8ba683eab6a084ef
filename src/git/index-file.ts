/**
 * Looks up a few paths in git's index file (gitformat-index) without a git process: what a write needs
 * to know that the user has staged nothing at the paths it is about to change. Only the plain forms are
 * read (versions 2 and 3, not split, not sparse); anything else answers `undefined`, and the caller asks
 * git instead. Nothing here writes the index: git's own commands do, under git's `index.lock`.
 *
 * The file is read and walked once per version of it (git replaces it whole, by rename): the walk notes
 * where each entry starts, and a path is then found by binary search, as git finds it (entries are sorted
 * by name). So a batch of writes in a long-lived client walks the index once, not once per write (at
 * 10,000 secrets a walk, the read included, is ~1.7 ms here).
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

/** An index entry at one of the paths asked for. */
export interface IndexEntry {
  /** As a tree writes it: `100644`, `100755`, `120000`, `160000`. */
  readonly mode: string;
  readonly oid: string;
  /** A merge stage other than 0, or a flag (assume-valid, skip-worktree, intent-to-add) that hides the work tree from git. */
  readonly unusual: boolean;
}

const ASSUME_VALID = 0x8000;
const EXTENDED = 0x4000;
/** Required extensions this reader does not follow: a split index's link, a sparse index's folders. */
const UNREADABLE_EXTENSIONS = new Set(['link', 'sdir']);

/** An index file as walked: its bytes and where each entry starts. */
interface WalkedIndex {
  readonly buf: Buffer;
  readonly version: number;
  readonly hashLength: number;
  readonly starts: Uint32Array;
}

/** The last version of each index file walked, by its stat data (undefined: a form this reader does not read). */
const walked = new Map<string, { readonly stamp: string; readonly index: WalkedIndex | undefined }>();

/**
 * The entries of `file` at `paths` (repo-relative), keyed by path; a path the index does not hold is
 * absent. `hashLength` is the repository's object id length in bytes (20, or 32 for SHA-256).
 * Undefined when the index is missing, malformed, or in a form this reader does not read.
 */
export function readIndexEntries(file: string, paths: readonly string[], hashLength: number): Map<string, IndexEntry> | undefined {
  const index = walk(file, hashLength);
  if (index === undefined) return undefined;
  const { buf, starts } = index;
  const found = new Map<string, IndexEntry>();
  for (const path of paths) {
    const name = Buffer.from(path, 'utf8');
    // The first entry whose name is not below `name`; a conflict's stages follow it under the same name.
    let low = 0;
    for (let high = starts.length; low < high; ) {
      const mid = (low + high) >>> 1;
      if (compareName(index, mid, name) < 0) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < starts.length && compareName(index, i, name) === 0; i++) {
      const at = starts[i]!;
      const { flags, extended } = header(index, at);
      const stage = (flags >> 12) & 3;
      const hidden = (flags & ASSUME_VALID) !== 0 || (extended && buf.readUInt16BE(at + fixedLength(hashLength)) !== 0);
      // Several entries at one path are the stages of a conflict: unusual, whichever comes last.
      const unusual = stage !== 0 || hidden || found.has(path);
      found.set(path, { mode: buf.readUInt32BE(at + 24).toString(8), oid: buf.toString('hex', at + 40, at + 40 + hashLength), unusual });
    }
  }
  return found;
}

/** The index at `file`, walked now unless this very version of it was (same inode, size and times). */
function walk(file: string, hashLength: number): WalkedIndex | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    // The stat data and the bytes of one open file: git replaces the index by rename, never in place.
    const st = fstatSync(fd);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${hashLength}`;
    const seen = walked.get(file);
    if (seen?.stamp === stamp) return seen.index;
    const index = entryStarts(readFileSync(fd), hashLength);
    walked.set(file, { stamp, index });
    return index;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Where each entry of `buf` starts, once the whole file is found well-formed and in a form read here. */
function entryStarts(buf: Buffer, hashLength: number): WalkedIndex | undefined {
  if (buf.length < 12 + hashLength || buf.toString('latin1', 0, 4) !== 'DIRC') return undefined;
  const version = buf.readUInt32BE(4);
  if (version !== 2 && version !== 3) return undefined; // 4 compresses paths: git reads it
  const count = buf.readUInt32BE(8);
  const index: WalkedIndex = { buf, version, hashLength, starts: new Uint32Array(count) };
  const end = buf.length - hashLength;
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + fixedLength(hashLength) > end) return undefined;
    index.starts[i] = at;
    const { nameAt, length } = header(index, at);
    if (length < 0 || nameAt + length > end) return undefined;
    // Each entry is padded with 1 to 8 NULs to a multiple of 8 bytes (versions 2 and 3).
    at += (nameAt - at + length + 8) & ~7;
  }
  for (; at + 8 <= end; ) {
    const signature = buf.toString('latin1', at, at + 4);
    if (UNREADABLE_EXTENSIONS.has(signature)) return undefined;
    at += 8 + buf.readUInt32BE(at + 4);
  }
  return at === end ? index : undefined;
}

/** ctime, mtime, dev, ino, mode, uid, gid, size; id; flags. */
function fixedLength(hashLength: number): number {
  return 40 + hashLength + 2;
}

/** An entry's flags, and where its name is and how long. */
function header({ buf, version, hashLength }: WalkedIndex, at: number): { flags: number; extended: boolean; nameAt: number; length: number } {
  const fixed = fixedLength(hashLength);
  const flags = buf.readUInt16BE(at + fixed - 2);
  const extended = version >= 3 && (flags & EXTENDED) !== 0;
  const nameAt = at + fixed + (extended ? 2 : 0);
  let length = flags & 0xfff;
  if (length === 0xfff) length = buf.indexOf(0, nameAt) - nameAt; // a name of 4095 bytes or more
  return { flags, extended, nameAt, length };
}

/** Entry `i`'s name against `name`, byte by byte as git orders them. */
function compareName(index: WalkedIndex, i: number, name: Buffer): number {
  const { nameAt, length } = header(index, index.starts[i]!);
  return index.buf.compare(name, 0, name.length, nameAt, nameAt + length);
}
