/**
 * The index learns the content of exactly some paths from the work tree: `git update-index --add --remove
 * --info-only -z --stdin`, under git's own `index.lock`, started by the warm shell (git/launcher.ts) with the paths on
 * its input (none may hold a NUL; any other byte is fine).
 */
import { gitLauncher } from './launcher.js';

export function updateIndexPaths(repoRoot: string, paths: readonly string[]): Promise<void> {
  // --info-only: the blobs are the commit's, written by the object writers (tree-writer.ts); update-index
  // would otherwise write each again as a loose object when it runs before fast-import's checkpoint.
  return gitLauncher(repoRoot).run(['update-index', '--add', '--remove', '--info-only', '-z', '--stdin'], Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8'));
}
