/** The entries of a binary git tree object, as the tree writer and the object reader both need them. */
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
