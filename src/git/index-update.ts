/**
 * The index learns the content of exactly some paths from the work tree: `git update-index --add --remove
 * --info-only`, under git's own `index.lock`, started by the warm shell (git/launcher.ts). A few paths go as
 * arguments (the shell then starts git alone: 0.4-0.5 ms sooner here than through a pipeline); many, on its
 * input (`-z --stdin`), where no limit on a command's arguments applies. No path may hold a NUL, nor, as an
 * argument, a line break (secret names hold neither).
 */
import { gitLauncher } from './launcher.js';

/** Up to this many bytes of paths go as arguments (far below any system's limit on them). */
const ARGUMENT_BYTES = 32 * 1024;

export function updateIndexPaths(repoRoot: string, paths: readonly string[]): Promise<void> {
  // --info-only: the blobs are the commit's, written by the object writers (tree-writer.ts); update-index
  // would otherwise write each again as a loose object when it runs before fast-import's checkpoint.
  const args = ['update-index', '--add', '--remove', '--info-only'];
  const launcher = gitLauncher(repoRoot);
  const bytes = paths.reduce((n, p) => n + Buffer.byteLength(p) + 3, 0);
  if (bytes <= ARGUMENT_BYTES && !paths.some((p) => /[\n\r]/.test(p))) return launcher.run([...args, '--', ...paths]);
  return launcher.run([...args, '-z', '--stdin'], Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8'));
}
