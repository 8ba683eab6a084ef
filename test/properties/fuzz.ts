/**
 * The run count and seed every property test shares (issue 13 item 11).
 *
 * `npm test` runs each property a small, fixed number of times with a fixed seed, so a failure reproduces
 * exactly. `npm run fuzz` (scripts/fuzz.mjs) sets FUZZ_RUNS (cases per property) and a fresh FUZZ_SEED, so
 * each fuzz run explores new inputs; a failure prints the counterexample and the seed to replay it with:
 *
 *     FUZZ_SEED=<printed seed> FUZZ_RUNS=<runs> npx vitest run test/properties/<file>.test.ts
 *
 * A new property file: `import { property, propertyAsync } from './fuzz.js'` and write
 * `property('codec: what always holds', fc.property(arbitrary, (x) => { ... }), 200)` inside a describe.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { SecretsManagerError } from '../../src/errors.js';

const FIXED_SEED = 20261206;
const fuzzRuns = process.env.FUZZ_RUNS === undefined ? undefined : Number(process.env.FUZZ_RUNS);
if (fuzzRuns !== undefined && (!Number.isInteger(fuzzRuns) || fuzzRuns < 1)) throw new Error('FUZZ_RUNS must be a whole number of cases');
export const SEED = process.env.FUZZ_SEED === undefined ? FIXED_SEED : Number(process.env.FUZZ_SEED);
export const FUZZING = fuzzRuns !== undefined;

/**
 * Cases for one property: `quick` in `npm test`, FUZZ_RUNS when fuzzing. A property whose case costs a
 * real git commit or a process gives `cost` (how many cheap cases one of its cases is worth), so
 * FUZZ_RUNS=10000 runs it 10000 / cost times rather than for hours.
 */
export function runs(quick: number, cost = 1): number {
  return fuzzRuns === undefined ? quick : Math.max(quick, Math.ceil(fuzzRuns / cost));
}

function parameters<T>(numRuns: number, seed = SEED): fc.Parameters<T> {
  // Seeded and bounded; a hung case is caught by the test's own timeout.
  return { seed, numRuns, includeErrorInReport: true };
}

function report(name: string, cases: number, ms: number): void {
  // The figures the closing note of a fuzz run asks for: cases tried per property.
  if (FUZZING) console.log(`[fuzz] ${name}: ${cases} cases in ${(ms / 1000).toFixed(1)} s (seed ${SEED})`);
}

/**
 * A synchronous property runs in batches with a pause between them: a batch that held the worker for
 * a minute would time out vitest's calls to it. Batch i uses seed SEED + i, so the seed a failure
 * prints replays it as the first batch (FUZZ_SEED=<that seed>).
 */
const BATCH = 250;

/** A test that checks a synchronous property: `it(name)` with the shared seed and run count. */
export function property<T>(name: string, prop: fc.IProperty<T>, quick: number, cost = 1): void {
  it(name, async () => {
    const started = performance.now();
    const total = runs(quick, cost);
    for (let done = 0, batch = 0; done < total; batch += 1) {
      const n = FUZZING ? Math.min(BATCH, total - done) : total;
      const details = fc.check(prop, parameters<T>(n, SEED + batch));
      if (details.failed) throw new Error(`${name}\n${fc.defaultReportMessage(details)}`);
      done += n;
      await new Promise((resolve) => setImmediate(resolve));
    }
    report(name, total, performance.now() - started);
  }, FUZZING ? 0 : undefined);
}

/** The same for an asynchronous property (one that reads a store, starts a process...). */
export function propertyAsync<T>(name: string, prop: fc.IAsyncPropertyWithHooks<T>, quick: number, cost = 1): void {
  // A case that never waits on I/O runs on microtasks alone: a pause before each lets vitest's calls through.
  const paused = prop.beforeEach(async (previous) => {
    await new Promise((resolve) => setImmediate(resolve));
    await previous();
  });
  it(name, async () => {
    const started = performance.now();
    const details = await fc.check(paused, parameters<T>(runs(quick, cost)));
    if (details.failed) throw new Error(`${name}\n${await fc.asyncDefaultReportMessage(details)}`);
    report(name, details.numRuns, performance.now() - started);
  }, FUZZING ? 0 : undefined);
}

/**
 * The rule every parser and operation keeps: a result, or an AWS-named exception (one of src/errors.ts,
 * or the protocol's own, which extend the same class) with a one-line message; never a TypeError, a
 * RangeError or another crash. Returns which of the two it was.
 */
export function resultOrNamedError<T>(fn: () => T): { value: T } | { error: SecretsManagerError } {
  try {
    return { value: fn() };
  } catch (err) {
    expectNamed(err);
    return { error: err as SecretsManagerError };
  }
}

export async function resultOrNamedErrorAsync<T>(fn: () => Promise<T>): Promise<{ value: T } | { error: SecretsManagerError }> {
  try {
    return { value: await fn() };
  } catch (err) {
    expectNamed(err);
    return { error: err as SecretsManagerError };
  }
}

function expectNamed(err: unknown): void {
  if (!(err instanceof SecretsManagerError)) {
    // The crash itself is the counterexample: show it whole.
    throw new Error(`not a named error: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err)}`);
  }
  expect(err.name).toMatch(/^[A-Z][A-Za-z]+(Exception|Failure|Error)$/);
  expect(err.message).not.toContain('\n');
}

/** Text a hand, a merge or a disk may leave: short YAML-ish fragments and any characters. */
const noise = fc.oneof(
  fc.constantFrom(':', ': ', '- ', '\n', '  ', '"', "'", '#', '&a ', '*a', '!!binary ', '<<: ', '{', '}', '[', ']', '? ', '|', '>', '%YAML 1.2\n', '---\n', '...\n', '\t', '\r', '\u0000', '\uFEFF', 'null', '~', 'true', '0x1F', '1e400', '.nan', '2026-13-45T99:00:00Z'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

/**
 * Edits the way files get damaged: characters inserted, deleted or replaced, lines repeated, swapped or
 * dropped, the end cut off.
 */
export const textEdits = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('insert' as const), fc.nat(), noise),
    fc.tuple(fc.constant('delete' as const), fc.nat(), fc.integer({ min: 1, max: 20 })),
    fc.tuple(fc.constant('replace' as const), fc.nat(), noise),
    fc.tuple(fc.constant('repeat-line' as const), fc.nat(), fc.constant('')),
    fc.tuple(fc.constant('swap-lines' as const), fc.nat(), fc.nat()),
    fc.tuple(fc.constant('drop-line' as const), fc.nat(), fc.constant('')),
    fc.tuple(fc.constant('cut' as const), fc.nat(), fc.constant('')),
  ),
  { minLength: 1, maxLength: 4 },
);
export type TextEdits = typeof textEdits extends fc.Arbitrary<infer E> ? E : never;

export function applyEdits(text: string, edits: TextEdits): string {
  let t = text;
  for (const [kind, at, arg] of edits) {
    const i = t.length === 0 ? 0 : at % t.length;
    const lines = t.split('\n');
    const l = at % lines.length;
    if (kind === 'insert') t = t.slice(0, i) + arg + t.slice(i);
    else if (kind === 'delete') t = t.slice(0, i) + t.slice(i + (arg as number));
    else if (kind === 'replace') t = t.slice(0, i) + arg + t.slice(i + String(arg).length);
    else if (kind === 'repeat-line') t = [...lines.slice(0, l + 1), ...lines.slice(l)].join('\n');
    else if (kind === 'swap-lines') {
      const m = (arg as number) % lines.length;
      [lines[l], lines[m]] = [lines[m]!, lines[l]!];
      t = lines.join('\n');
    } else if (kind === 'drop-line') t = [...lines.slice(0, l), ...lines.slice(l + 1)].join('\n');
    else t = t.slice(0, i);
  }
  return t;
}

/** A valid file, damaged: most cases get deep into the parser. */
export function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(base, textEdits).map(([text, edits]) => applyEdits(text, edits));
}

/** Any text at all: random characters, random YAML documents, and damaged valid files. */
export function anyText(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 2, arbitrary: fc.anything().map((v) => { try { return stringifyYaml(v) ?? ""; } catch { return String(v); } }) },
    { weight: 6, arbitrary: mutated(valid) },
  );
}
