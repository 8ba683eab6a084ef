/**
 * HEAD's compare-and-swap, `git update-ref --stdin`, with its process started ahead of time: a lone
 * transaction starts it as soon as it knows the reflog message (right after its plan), so git's start-up
 * overlaps the work of writing blobs, trees and the commit, and moving HEAD then costs one write to a
 * waiting process. git reads its commands only at the end of its input and applies them as one
 * transaction, so a process that is started and then cancelled (stdin closed with nothing written)
 * locks and changes nothing; the same happens when its parent dies.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { debugGit } from './debug.js';
import { GitCommandError, gitEnv } from './git-env.js';

export class RefUpdate {
  private readonly args: readonly string[];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<{ readonly code: number | null; readonly stderr: string }>;
  private readonly started = performance.now();
  private sent = false;

  constructor(
    repoRoot: string,
    /** The reflog message of the update (`-m`): a process is started for one message. */
    readonly reflog: string,
    source: NodeJS.ProcessEnv = process.env,
  ) {
    this.args = ['update-ref', '--stdin', '-z', '-m', reflog];
    const child = spawn('git', this.args, { cwd: repoRoot, env: gitEnv(source), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.resume();
    child.stdin.on('error', () => undefined); // a process that died early: `close` says why
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => resolve({ code: null, stderr: err.message }));
      child.once('close', (code) => resolve({ code, stderr }));
    });
  }

  /**
   * Moves HEAD (through its branch) from `expected` (all zeros: it must not exist yet) to `tip`, or throws
   * GitCommandError (`... but expected ...` / `... already exists` when HEAD moved meanwhile).
   */
  async commit(tip: string, expected: string): Promise<void> {
    if (this.sent) throw new Error('RefUpdate.commit called twice');
    this.sent = true;
    this.child.stdin.end(`update HEAD\0${tip}\0${expected}\0`);
    const { code, stderr } = await this.exited;
    debugGit([...this.args, 'HEAD', tip, expected], this.started, code === 0 ? undefined : code);
    if (code !== 0) throw new GitCommandError(this.args, code, stderr);
  }

  /** Lets the process end without changing anything (the transaction went another way). */
  cancel(): void {
    if (this.sent) return;
    this.sent = true;
    this.child.stdin.end();
  }
}
