/**
 * Crash-test instrumentation: `SECRETSTORE_FAULT_AT=<point>` makes the process SIGKILL itself when
 * it reaches that point, so tests can prove a kill anywhere leaves the old state or the new one.
 */
import type { FileChange } from '../model/repository.js';

/**
 * The points of one transaction, in the order they are reached. `<n>` stands for the 1-based index
 * of a file change (among those that change something): `after-temp-<n>` (temp file written, not
 * yet renamed; written files only) and `after-write-<n>` (the file is in place, or deleted).
 * `after-blobs`: the written files are blobs in the object database; `after-trees`: so are the trees
 * on their paths (both unreachable until HEAD moves). `after-commit-tree`: the commit object exists;
 * `after-update-ref`: HEAD names it; `after-index`: the real index has the changed paths too.
 */
export const FAULT_POINTS = [
  'after-lock',
  'after-journal',
  'after-temp-<n>',
  'after-write-<n>',
  'after-blobs',
  'after-trees',
  'after-commit-tree',
  'after-update-ref',
  'after-index',
  'before-unlock',
] as const;

/** Reached while taking over a dead writer's lock: its journal is inherited but not yet recovered, or recovered. */
export const RECOVERY_FAULT_POINTS = ['after-takeover', 'after-recover'] as const;

/** FAULT_POINTS with the `<n>` points spelled out for a plan's changes. */
export function expandFaultPoints(changes: readonly FileChange[]): string[] {
  return FAULT_POINTS.flatMap((point): string[] => {
    if (point === 'after-temp-<n>') return []; // spelled out together with after-write-<n>
    if (point !== 'after-write-<n>') return [point];
    return changes.flatMap((c, i) => ('delete' in c ? [] : [`after-temp-${i + 1}`]).concat(`after-write-${i + 1}`));
  });
}

const reached = new Map<string, number>();

/**
 * Kills the process at `name` when SECRETSTORE_FAULT_AT names it: `<point>` the first time it is
 * reached, `<point>#<k>` the k-th time (a long-lived client's later transactions).
 */
export function faultPoint(name: string): void {
  const at = process.env.SECRETSTORE_FAULT_AT;
  if (at === undefined || !at.startsWith(name)) return;
  const [point, nth = '1'] = at.split('#');
  if (point !== name) return;
  const times = (reached.get(name) ?? 0) + 1;
  reached.set(name, times);
  if (times === Number(nth)) process.kill(process.pid, 'SIGKILL');
}
