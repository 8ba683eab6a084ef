/**
 * `git update-index --add --remove -z --stdin`, started before its paths are known: git starts, takes the
 * index's own `index.lock` and reads the index while the caller still works (a transaction starts it as
 * it first writes the work tree), then waits for its input. What is left once the paths come is only the
 * part that depends on them: hashing the files and writing the index (a process started then costs
 * ~3.5 ms here).
 *
 * `finish([])` ends git without writing the index (it writes only what changed); a killed caller closes
 * git's input to the same effect. git's own lock-file handling removes `index.lock` however it exits.
 * Only the first `finish` sends paths: a later call answers with its outcome.
 */
import { gitLauncher } from './launcher.js';

const ARGS = ['update-index', '--add', '--remove', '-z', '--stdin'] as const;

export class IndexUpdate {
  private readonly git: { feed(input: Buffer): Promise<void> };
  private finished?: Promise<void>;

  /** Starts git; it holds `index.lock` from about now until `finish`. */
  constructor(repoRoot: string) {
    this.git = gitLauncher(repoRoot).launch(ARGS);
  }

  /**
   * The index learns the content of `paths` (repo-relative; none: nothing changes) from the work tree;
   * resolves once git has exited. Throws GitCommandError when git failed, e.g. because another git command
   * held `index.lock` when it started: nothing was changed then.
   */
  finish(paths: readonly string[]): Promise<void> {
    return (this.finished ??= this.git.feed(Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8')));
  }
}
