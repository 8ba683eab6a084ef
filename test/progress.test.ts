import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { parseConfig, serializeSecretIndex } from '../src/core/codec.js';
import { indexPath, versionPath } from '../src/core/layout.js';
import { secretArn } from '../src/core/arn.js';
import { cryptoReady, parseRecipient, sealValue } from '../src/crypto/index.js';
import { commitSigned } from './helpers/sign.js';
import { createProgress, progressAllowed, renderProgress, type ProgressStream } from '../src/terminal/progress.js';
import { setDebug } from '../src/debug.js';
import { HAS_SCRIPT } from './helpers/tools.js';

/** A stream that records what is written; `isTTY` as given. */
function fakeStream(isTTY: boolean, columns?: number): ProgressStream & { writes: string[] } {
  const writes: string[] = [];
  return { isTTY, ...(columns === undefined ? {} : { columns }), writes, write: (text: string) => writes.push(text) };
}

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('createProgress', () => {
  it('draws one self-overwriting line on a terminal, throttled, and wipes it on done', () => {
    const stream = fakeStream(true);
    const c = clock();
    const bar = createProgress('prune', 10_000, stream, {}, c.now);
    bar.tick(); // the first tick draws at once
    expect(stream.writes).toEqual([`\r${renderProgress('prune', 1, 10_000)}`]);
    expect(stream.writes[0]).toBe('\rprune [....................] 1/10,000 0%');
    for (let i = 0; i < 4212; i++) bar.tick(); // all within the same 100 ms: no redraw
    expect(stream.writes).toHaveLength(1);
    c.advance(100);
    bar.tick(0);
    expect(stream.writes[1]).toBe('\rprune [########............] 4,213/10,000 42%');
    c.advance(50);
    bar.tick(5787);
    expect(stream.writes).toHaveLength(2);
    c.advance(50);
    bar.tick(0);
    expect(stream.writes[2]).toBe('\rprune [####################] 10,000/10,000 100%');
    bar.done();
    const width = stream.writes[2]!.length - 1;
    expect(stream.writes[3]).toBe(`\r${' '.repeat(width)}\r`);
    bar.tick();
    bar.done();
    expect(stream.writes).toHaveLength(4);
    expect(stream.writes.every((w) => !w.includes('\n'))).toBe(true);
  });

  it('draws at most ~10 times a second however often it ticks', () => {
    const stream = fakeStream(true);
    const c = clock();
    const bar = createProgress('walk', 100_000, stream, {}, c.now);
    for (let i = 0; i < 100_000; i++) {
      bar.tick();
      c.advance(0.02); // 100,000 ticks over 2 s
    }
    bar.done();
    expect(stream.writes.length).toBeGreaterThanOrEqual(20);
    expect(stream.writes.length).toBeLessThanOrEqual(22);
  });

  it('shows a count when the total is unknown, wipes a longer earlier line, and never wraps', () => {
    const stream = fakeStream(true, 20);
    const c = clock();
    const bar = createProgress('reading secret indexes', undefined, stream, {}, c.now);
    bar.tick(12_345);
    expect(stream.writes[0]).toBe('\rreading secret inde'); // cut to columns - 1: never wraps
    expect(renderProgress('reading', 12_345, undefined)).toBe('reading 12,345');
    expect(renderProgress('x', 5, 0)).toBe('x 5');
    const s2 = fakeStream(true);
    const b2 = createProgress('n', 100, s2, {}, c.now);
    b2.tick(99);
    c.advance(100);
    b2.tick(-98); // a shorter line: padded over the old one
    expect(s2.writes[1]!.length).toBe(s2.writes[0]!.length);
    bar.done();
    b2.done();
  });

  it('writes nothing when the stream is not a terminal, or the environment says no', () => {
    const cases: [ProgressStream & { writes: string[] }, NodeJS.ProcessEnv][] = [
      [fakeStream(false), {}],
      [{ writes: [], write(text: string) { this.writes.push(text); } }, {}],
      [fakeStream(true), { NO_COLOR: '1' }],
      [fakeStream(true), { CI: 'true' }],
      [fakeStream(true), { SECRETSTORE_NO_PROGRESS: '1' }],
    ];
    for (const [stream, env] of cases) {
      const bar = createProgress('prune', 10, stream, env);
      for (let i = 0; i < 10; i++) bar.tick();
      bar.done();
      expect(stream.writes, JSON.stringify(env)).toEqual([]);
    }
    expect(progressAllowed(fakeStream(true), { NO_COLOR: '', CI: 'false', SECRETSTORE_NO_PROGRESS: '0' })).toBe(true);
    setDebug(true, () => {});
    try {
      expect(progressAllowed(fakeStream(true), {})).toBe(false); // it would garble the --debug lines
    } finally {
      setDebug(false);
    }
  });

  it('never writes to stdout, even when it is a terminal', () => {
    expect(progressAllowed(process.stdout, {})).toBe(false);
  });
});

// Above 500 so a cold listing draws its own line (src/store/commit-view.ts draws one past 500 unread indexes).
const COUNT = 600;
let t: TestStore;

/** COUNT secrets written straight with the codec and sealing (as bench/store.mjs does), in one signed commit. */
async function fillStore(): Promise<void> {
  const config = parseConfig(readFileSync(join(t.dir, '.secretstore.yaml'), 'utf8'), '.secretstore.yaml');
  await cryptoReady();
  const recipients = config.recipients.map((r) => parseRecipient(r.publicKey));
  const now = new Date().toISOString();
  for (let i = 0; i < COUNT; i++) {
    const name = `app-${i % 10}/service-${i}`;
    const arn = secretArn(config, name, 'AbC123');
    const versionId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const index = { name, arn, createdDate: now, lastChangedDate: now, labels: { AWSCURRENT: versionId }, versions: { [versionId]: now } };
    const sealed = sealValue({ type: 'string', text: `value-${i}` }, { storeId: config.storeId, secretArn: arn, versionId }, recipients);
    const files: [string, string][] = [
      [indexPath(name), serializeSecretIndex(index)],
      [versionPath(name, versionId), sealed],
    ];
    for (const [path, content] of files) {
      mkdirSync(dirname(join(t.dir, path)), { recursive: true });
      writeFileSync(join(t.dir, path), content);
    }
  }
  // One commit signed by the store's writer, as bench/store.mjs makes it, or every read would refuse it.
  await commitSigned(t, `test: ${COUNT} secrets`);
}

beforeAll(async () => {
  t = makeStore();
  await fillStore();
});
afterAll(() => t.cleanup());

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

describe.skipIf(!HAS_SCRIPT)('secretstore prune', () => {
  it('shows the progress line on a terminal', () => {
    const cmd = [process.execPath, CLI, 'prune'].map(quote).join(' ');
    // No cache yet, so the listing is cold and draws its own line first.
    const screen = execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    expect(screen).toMatch(new RegExp(`\\rreading secret indexes \\[[#.]{20}\\] \\d[\\d,]*/${COUNT}`));
    expect(screen).toMatch(new RegExp(`\\rprune \\[[#.]{20}\\] \\d[\\d,]*/${COUNT} \\d+%`));
    // Wiped before the result is printed: the JSON starts on a clean line.
    expect(screen).toMatch(/\r +\r\{/);
    expect(screen).toContain('"Pruned": []');
  });

  it('prints only the JSON result, and nothing on stderr, through a pipe', () => {
    for (const env of [t.env, { ...t.env, SECRETSTORE_NO_CACHE: '1' }]) {
      const r = spawnSync(process.execPath, [CLI, 'prune'], { cwd: t.dir, env, encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ Pruned: [] });
    }
  });

  it('stays quiet on a terminal when SECRETSTORE_NO_PROGRESS or CI is set', () => {
    const cmd = [process.execPath, CLI, 'prune'].map(quote).join(' ');
    for (const extra of [{ SECRETSTORE_NO_PROGRESS: '1' }, { CI: 'true' }]) {
      const screen = execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: { ...t.env, ...extra, SECRETSTORE_NO_CACHE: '1' }, encoding: 'utf8' });
      expect(screen).not.toContain('\r ');
      expect(screen).not.toMatch(/prune \[/);
      expect(JSON.parse(screen)).toEqual({ Pruned: [] });
    }
  });

  it('rotate-due --dry-run shows its scan on a terminal and nothing through a pipe', () => {
    const cmd = [process.execPath, CLI, 'rotate-due', '--dry-run'].map(quote).join(' ');
    const screen = execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    expect(screen).toMatch(new RegExp(`\\rrotate-due: checking \\[[#.]{20}\\] \\d[\\d,]*/${COUNT}`));
    const r = spawnSync(process.execPath, [CLI, 'rotate-due', '--dry-run'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ Rotated: [], Failed: [] });
  });
});
