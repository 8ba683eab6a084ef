/**
 * The index learns the content of exactly some paths from the work tree: `git update-index --add --remove
 * -z --stdin`, under git's own `index.lock`, started by the warm shell (git/launcher.ts) with the paths on
 * its input (none may hold a NUL; any other byte is fine).
 */
import { gitLauncher } from './launcher.js';

export function updateIndexPaths(repoRoot: string, paths: readonly string[]): Promise<void> {
  return gitLauncher(repoRoot).run(['update-index', '--add', '--remove', '-z', '--stdin'], Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8'));
}
