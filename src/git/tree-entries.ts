/**
 * Reading binary git tree objects (`<mode> <name>\0<raw id>` per entry; `idLength`/`hashLength` is the
 * repository's, 20 or 32 bytes): every entry with its name's bytes (the tree writer), one entry by name
 * (reads), every entry with its name as text (the checks before a write).
 */
import { InternalServiceError } from '../errors.js';

export interface TreeEntry {
  mode: string;
  /** The name's bytes as the tree holds them (a user's file name need not be UTF-8). */
  name: Buffer;
  oid: string;
}

/** `<mode> <name>\0<raw id>` per entry; `idLength` is the repository's (20 or 32 bytes). */
export function parseTree(content: Buffer, idLength: number): TreeEntry[] {
  const entries: TreeEntry[] = [];
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

/**
 * One entry of a raw tree object, found without decoding the others: a get of a secret with 300 versions
 * decodes one entry of its versions folder, as a get of a secret with one does.
 */
export function treeEntry(content: Buffer, name: string, hashLength: number): { mode: string; name: string; oid: string } | undefined {
  const wanted = Buffer.from(name, 'utf8');
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 1 + hashLength > content.length) return undefined;
    if (nul - space - 1 === wanted.length && content.compare(wanted, 0, wanted.length, space + 1, nul) === 0) {
      return { mode: content.toString('latin1', at, space), name, oid: content.toString('hex', nul + 1, nul + 1 + hashLength) };
    }
    at = nul + 1 + hashLength;
  }
  return undefined;
}

/** The entries of a raw tree object: `<mode> <name>\0<binary oid>` each (gitformat: tree objects). */
export function treeEntries(content: Buffer, hashLength: number): { mode: string; name: string; oid: string }[] {
  const entries: { mode: string; name: string; oid: string }[] = [];
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 1 + hashLength > content.length) break;
    entries.push({
      mode: content.toString('latin1', at, space),
      name: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 1 + hashLength),
    });
    at = nul + 1 + hashLength;
  }
  return entries;
}
