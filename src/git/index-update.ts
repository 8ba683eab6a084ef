/**
 * `git update-index --add --remove -z --stdin`, started before its paths are final: git starts, takes the
 * index's own `index.lock` and reads the index while the caller still works (a transaction starts it
 * before moving HEAD), then waits for its input. What is left once the paths come is only the part that
 * depends on them: hashing the files and writing the index (a process started then costs ~3.5 ms here).
 *
 * The input's length is fixed when git starts (git/launcher.ts), so `finish(false)` sends as many bytes
 * that change nothing: one path inside `.git/`, which update-index ignores, and git exits without
 * writing the index (it writes only what changed). A killed caller closes git's input, with the same
 * effect; git's own lock-file handling removes `index.lock` however it exits.
 */
import { gitLauncher } from './launcher.js';

const ARGS = ['update-index', '--add', '--remove', '-z', '--stdin'] as const;

export class IndexUpdate {
  private readonly input: Buffer;
  private readonly git: { feed(input?: Buffer): Promise<void> };

  /** Starts git for `paths` (repo-relative); it holds `index.lock` from now until `finish`. */
  constructor(repoRoot: string, paths: readonly string[]) {
    this.input = Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8');
    this.git = gitLauncher(repoRoot).launch(ARGS, this.input.length);
  }

  /**
   * With `apply`, the index learns the content of the paths from the work tree; without, nothing changes.
   * Resolves once git has exited. Throws GitCommandError when git failed, e.g. because another git command
   * held `index.lock` when it started: nothing was changed then.
   */
  finish(apply: boolean): Promise<void> {
    return this.git.feed(apply ? this.input : ignored(this.input.length));
  }
}

/** `length` bytes that update-index reads as paths it ignores (inside `.git/`, or empty). */
function ignored(length: number): Buffer {
  const path = '.git/';
  return length > path.length ? Buffer.from(`${path}${'x'.repeat(length - path.length - 1)}\0`) : Buffer.alloc(length);
}
