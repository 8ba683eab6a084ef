/**
 * A git process started ahead of need. A cold command spends ~20 ms loading the program before it opens
 * the store and starts its `git cat-file --batch`; the entry (src/cli/bin.ts) starts that process first,
 * so git starts up while Node loads, and the reader (line-process.ts) takes it over instead of spawning.
 *
 * It is taken over only by a reader whose spawn would have been the very same: the same repository
 * folder, arguments and environment object (whose git environment is derived the same way). Anything
 * else, or a spare that already ended, is not used: the reader starts its own process as before. The
 * entry and the program are separate bundles, so the spare is handed over through a global slot.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { gitEnv } from './git-env.js';

interface Spare {
  readonly repoRoot: string;
  readonly args: string;
  readonly source: NodeJS.ProcessEnv;
  readonly child: ChildProcessWithoutNullStreams;
  ended: boolean;
}

const SLOT = Symbol.for('secretstore.spare-git');
const slot = globalThis as { [SLOT]?: Spare };

/** Starts `git <args>` in `repoRoot` for a reader to take over; it never keeps Node alive on its own. */
export function startSpare(repoRoot: string, args: readonly string[], source: NodeJS.ProcessEnv): void {
  if (slot[SLOT]) return;
  const child = spawn('git', args, { cwd: repoRoot, env: gitEnv(source), stdio: ['pipe', 'pipe', 'pipe'] });
  const spare: Spare = { repoRoot, args: JSON.stringify(args), source, child, ended: false };
  // A spare nobody takes over ends unseen: its failure is reported, should it be used, by its reader.
  const ended = () => (spare.ended = true);
  child.on('error', ended);
  child.on('exit', ended);
  child.stdin.on('error', () => undefined);
  for (const handle of [child, child.stdout, child.stderr, child.stdin] as unknown as { unref?: () => void }[]) handle.unref?.();
  slot[SLOT] = spare;
}

/** The spare, when it is the process `git <args>` in `repoRoot` with `source` would start; else undefined. */
export function takeSpare(repoRoot: string, args: readonly string[], source: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams | undefined {
  const spare = slot[SLOT];
  if (!spare) return undefined;
  if (spare.repoRoot !== repoRoot || spare.args !== JSON.stringify(args) || spare.source !== source) return undefined;
  slot[SLOT] = undefined;
  if (spare.ended || spare.child.exitCode !== null || spare.child.signalCode !== null) {
    spare.child.stdin.end();
    return undefined;
  }
  return spare.child;
}
