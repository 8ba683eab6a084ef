/**
 * Looks up a few paths in git's index file (gitformat-index) without a git process: what a write needs
 * to know that the user has staged nothing at the paths it is about to change. Only the plain forms are
 * read (versions 2 and 3, not split, not sparse); anything else answers `undefined`, and the caller asks
 * git instead. Nothing here writes the index: git's own commands do, under git's `index.lock`.
 */
import { readFileSync } from 'node:fs';

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

/**
 * The entries of `file` at `paths` (repo-relative), keyed by path; a path the index does not hold is
 * absent. `hashLength` is the repository's object id length in bytes (20, or 32 for SHA-256).
 * Undefined when the index is missing, malformed, or in a form this reader does not read.
 */
export function readIndexEntries(file: string, paths: readonly string[], hashLength: number): Map<string, IndexEntry> | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  if (buf.length < 12 + hashLength || buf.toString('latin1', 0, 4) !== 'DIRC') return undefined;
  const version = buf.readUInt32BE(4);
  if (version !== 2 && version !== 3) return undefined; // 4 compresses paths: git reads it
  const count = buf.readUInt32BE(8);
  // Only names of a wanted length are compared, so most entries cost a few reads of their header.
  const wanted = new Map<number, Buffer[]>();
  for (const path of paths) {
    const name = Buffer.from(path, 'utf8');
    wanted.set(name.length, [...(wanted.get(name.length) ?? []), name]);
  }
  const found = new Map<string, IndexEntry>();
  const end = buf.length - hashLength;
  const fixed = 40 + hashLength + 2; // ctime, mtime, dev, ino, mode, uid, gid, size; id; flags
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + fixed > end) return undefined;
    const flags = buf.readUInt16BE(at + fixed - 2);
    const extended = version >= 3 && (flags & EXTENDED) !== 0;
    const nameAt = at + fixed + (extended ? 2 : 0);
    let length = flags & 0xfff;
    if (length === 0xfff) length = buf.indexOf(0, nameAt) - nameAt; // a name of 4095 bytes or more
    if (length < 0 || nameAt + length > end) return undefined;
    const candidates = wanted.get(length);
    if (candidates !== undefined) for (const name of candidates) {
      if (name.compare(buf, nameAt, nameAt + length) !== 0) continue;
      const path = name.toString('utf8');
      const stage = (flags >> 12) & 3;
      const hidden = (flags & ASSUME_VALID) !== 0 || (extended && buf.readUInt16BE(at + fixed) !== 0);
      // Several entries at one path are the stages of a conflict: unusual, whichever comes last.
      const unusual = stage !== 0 || hidden || found.has(path);
      found.set(path, { mode: buf.readUInt32BE(at + 24).toString(8), oid: buf.toString('hex', at + 40, at + 40 + hashLength), unusual });
    }
    // Each entry is padded with 1 to 8 NULs to a multiple of 8 bytes (versions 2 and 3).
    at += (nameAt - at + length + 8) & ~7;
  }
  for (; at + 8 <= end; ) {
    const signature = buf.toString('latin1', at, at + 4);
    if (UNREADABLE_EXTENSIONS.has(signature)) return undefined;
    at += 8 + buf.readUInt32BE(at + 4);
  }
  return at === end ? found : undefined;
}
