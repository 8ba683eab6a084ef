/**
 * A progress line for operations that touch many files (prune, rotate-due, a cold listing; later re-keying,
 * verify, sync): `label [#####.....] 4,213/10,000 42%` (or `label 4,213` when the total is unknown), drawn
 * on one self-overwriting line (`\r`) at most ~10 times a second and wiped by `done()`.
 *
 * It draws only on a terminal: the stream (stderr by default, never stdout, so JSON output stays clean)
 * must be a TTY, and neither `NO_COLOR`, `CI`, `SECRETSTORE_NO_PROGRESS` nor the `--debug` log (whose lines
 * it would garble) may say otherwise. Otherwise every call is a no-op, so callers need no `if`.
 * Only shell code draws; the pure core never sees it.
 */
import { debugEnabled } from '../debug.js';

export interface Progress {
  /** `n` (default 1) more items done. */
  tick(n?: number): void;
  /** Wipes the line; later calls do nothing. Call it in a `finally`, so an error starts on a clean line. */
  done(): void;
}

/** Where a progress line is drawn: `process.stderr`, or anything shaped like it (tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/** Makes a progress line for `total` items (undefined: unknown). Callers that take one treat it as optional. */
export type ProgressFactory = (label: string, total: number | undefined) => Progress;

/** At most this many redraws a second. */
const INTERVAL_MS = 100;
const BAR_WIDTH = 20;

const NONE: Progress = { tick: () => {}, done: () => {} };

/** The no-op progress: what every caller gets off a terminal. */
export const noProgress: ProgressFactory = () => NONE;

function on(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** Whether a progress line may be drawn on `stream` in this environment. */
export function progressAllowed(stream: ProgressStream | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (stream === undefined || stream.isTTY !== true) return false;
  if (stream === (process.stdout as ProgressStream)) return false;
  // NO_COLOR: "when present and not an empty string" (no-color.org).
  if ((env.NO_COLOR ?? '') !== '' || on(env.CI) || on(env.SECRETSTORE_NO_PROGRESS)) return false;
  return !debugEnabled();
}

const count = (n: number) => n.toLocaleString('en-US');

/** The line as drawn (without the leading `\r`), cut to fit `columns` so it never wraps. */
export function renderProgress(label: string, done: number, total: number | undefined, columns?: number): string {
  let line: string;
  if (total === undefined || total <= 0) {
    line = `${label} ${count(done)}`;
  } else {
    const ratio = Math.min(1, Math.max(0, done / total));
    const filled = Math.floor(ratio * BAR_WIDTH);
    line = `${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${count(done)}/${count(total)} ${Math.floor(ratio * 100)}%`;
  }
  const max = columns !== undefined && columns > 1 ? columns - 1 : undefined;
  return max !== undefined && line.length > max ? line.slice(0, max) : line;
}

/**
 * A progress line on `stream` (default: process.stderr), or the no-op one when it may not be drawn
 * (see `progressAllowed`). `now` is injectable for tests.
 */
export function createProgress(
  label: string,
  total: number | undefined,
  stream: ProgressStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = () => performance.now(),
): Progress {
  if (!progressAllowed(stream, env)) return NONE;
  let current = 0;
  let drawnAt: number | undefined;
  let width = 0;
  let finished = false;
  const draw = (): void => {
    const line = renderProgress(label, current, total, stream.columns);
    // Spaces wipe what is left of a longer previous line; \r brings the cursor back for the next one.
    stream.write(`\r${line}${' '.repeat(Math.max(0, width - line.length))}`);
    width = line.length;
  };
  return {
    tick(n = 1) {
      if (finished) return;
      current += n;
      const t = now();
      if (drawnAt !== undefined && t - drawnAt < INTERVAL_MS) return;
      drawnAt = t;
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      if (drawnAt !== undefined) stream.write(`\r${' '.repeat(width)}\r`);
    },
  };
}

/** A factory drawing on `stream` (the CLI passes `process.stderr`); undefined gives the no-op one. */
export function progressOn(stream: ProgressStream | undefined, env: NodeJS.ProcessEnv = process.env): ProgressFactory {
  return stream === undefined ? noProgress : (label, total) => createProgress(label, total, stream, env);
}
