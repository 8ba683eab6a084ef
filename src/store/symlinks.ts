/**
 * No path component inside the store may be a symbolic link (issue 13.3): a committed link
 * `secrets/app -> /some/dir` would make a write land outside the repository (git refuses it only after
 * the files are there) and a read follow it anywhere (`secret.yaml -> /dev/zero`). Writes and reads call
 * this before touching a path; `.git` itself, gitfiles and worktrees are git's business and are above it.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { InvalidRequestException } from '../errors.js';

/**
 * Throws InvalidRequestException naming the first link among the components of each of `paths`
 * (POSIX, relative to `root`, which itself is not checked). Components that do not exist end the walk.
 */
export function refuseSymlinks(root: string, paths: readonly string[]): void {
  const checked = new Set<string>();
  for (const path of paths) {
    let rel = '';
    for (const part of path.split('/')) {
      if (part === '') continue;
      rel = rel === '' ? part : `${rel}/${part}`;
      if (checked.has(rel)) continue;
      checked.add(rel);
      const st = lstatSync(`${root}/${rel}`, { throwIfNoEntry: false });
      if (st === undefined) break;
      if (st.isSymbolicLink()) {
        let target = '';
        try {
          target = ` (to ${readlinkSync(`${root}/${rel}`)})`;
        } catch {
          // named without its target
        }
        throw new InvalidRequestException(
          `${rel} is a symbolic link${target}: secretstore never follows links inside the store; remove it (git rm ${rel}) or replace it with what it points to`,
        );
      }
    }
  }
}
