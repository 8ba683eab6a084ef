/**
 * The object reader a cold command starts before its program loads (src/shell/spare-git.ts, issue 12
 * target 2): it is taken over only by a reader that would have started the very same process, a spare
 * that failed or ended is never used, and the CLI prints the same bytes with it (from the store's folder)
 * as without it (--store from another folder, where no spare is started). Real git, the real CLI process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { startSpare, takeSpare } from '../src/shell/spare-git.js';
import { makeStore, type CliResult, type TestStore } from './helpers/store.js';

let t: TestStore;

beforeAll(() => {
  t = makeStore();
  const off = { SECRETSTORE_AGENT: 'off' };
  expect(t.cli(['create-secret', '--name', 'app/db', '--secret-string', '-'], { input: 'first-VALUE', env: off }).status).toBe(0);
  expect(t.cli(['put-secret-value', '--secret-id', 'app/db', '--secret-string', '-'], { input: 'second-VALUE', env: off }).status).toBe(0);
});
afterAll(() => t.cleanup());

const ARGS = ['cat-file', '--batch'] as const;

/** Asks a taken-over `cat-file --batch` for HEAD and returns its answer line. */
function headLine(child: NonNullable<ReturnType<typeof takeSpare>>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('latin1');
      const eol = out.indexOf('\n');
      if (eol >= 0) resolve(out.slice(0, eol));
    });
    child.on('error', reject);
    child.stdin.end('HEAD\n');
  });
}

describe('issue 12 target 2: a spare git process is used only where it is the same process', () => {
  it('the same folder, arguments and environment object take it over, once; it answers as a fresh one would', async () => {
    const env = { ...process.env };
    startSpare(t.dir, ARGS, env);
    expect(takeSpare(t.dir, ['cat-file', '--batch-check'], env)).toBeUndefined();
    expect(takeSpare(join(t.dir, 'secrets'), ARGS, env)).toBeUndefined();
    expect(takeSpare(t.dir, ARGS, { ...env })).toBeUndefined();
    const child = takeSpare(t.dir, ARGS, env);
    expect(child).toBeDefined();
    expect(takeSpare(t.dir, ARGS, env)).toBeUndefined();
    const head = t.git(['rev-parse', 'HEAD']).trim();
    expect(await headLine(child!)).toBe(`${head} commit ${t.git(['cat-file', '-s', 'HEAD']).trim()}`);
  });

  it('a spare that could not start (its folder is gone) is not taken over', async () => {
    const env = { ...process.env };
    const missing = join(t.base, 'no-such-folder');
    startSpare(missing, ARGS, env);
    // Node reports a failed spawn on the next tick: by the next turn of the event loop it has been seen.
    await new Promise((resolve) => setImmediate(resolve));
    expect(takeSpare(missing, ARGS, env)).toBeUndefined();
  });
});

describe('issue 12 target 2: the CLI prints the same with the early reader as without it', () => {
  const off = { SECRETSTORE_AGENT: 'off' };
  const elsewhere = () => {
    const dir = join(t.base, 'elsewhere');
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const same = (a: CliResult, b: CliResult) => expect({ status: b.status, stdout: b.stdout, stderr: b.stderr }).toEqual({ status: a.status, stdout: a.stdout, stderr: a.stderr });
  const argvs: readonly (readonly string[])[] = [
    ['get-secret-value', '--secret-id', 'app/db'],
    ['get-secret-value', '--secret-id', 'app/db', '--version-stage', 'AWSPREVIOUS'],
    ['get-secret-value', '--secret-id', 'missing'],
    ['describe-secret', '--secret-id', 'app/db'],
    ['list-secrets'],
    ['list-secret-version-ids', '--secret-id', 'app/db'],
  ];
  for (const argv of argvs) {
    it(`secretstore ${argv.join(' ')}: from the store's folder (early reader) and with --store (none)`, () => {
      const early = t.cli(argv, { env: off });
      const late = t.cli(['--store', t.dir, ...argv], { env: off, cwd: elsewhere() });
      same(late, early);
    });
  }

  it('a put from the store folder (early reader) is one commit and leaves git status clean', () => {
    const before = t.git(['rev-list', '--count', 'HEAD']).trim();
    const put = t.cli(['put-secret-value', '--secret-id', 'app/db', '--secret-string', '-'], { input: 'third-VALUE', env: off });
    expect(put.status).toBe(0);
    expect(Number(t.git(['rev-list', '--count', 'HEAD']).trim())).toBe(Number(before) + 1);
    expect(t.git(['status', '--porcelain'])).toBe('');
    const got = t.cli(['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text'], { env: off });
    expect(got.stdout).toBe('third-VALUE\n');
  });

  it('spares nobody took over end with the command: a put that fails before writing leaves no git process in the store', async () => {
    const put = t.cli(['put-secret-value', '--secret-id', 'no/such/secret', '--secret-string', '-'], { input: 'x', env: off });
    expect(put.status).toBe(254);
    // They end when the CLI's end closes their stdin; poll until none is left (the timeout is only a cap).
    await waitFor(() => gitProcessesIn(t.dir).length === 0);
    expect(gitProcessesIn(t.dir)).toEqual([]);
  });
});

/** Processes whose working folder is `dir` (Linux: /proc/<pid>/cwd). */
function gitProcessesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) === dir) found.push(pid);
    } catch {
      // gone, or not ours to look at
    }
  }
  return found;
}

/** Polls `ok` on the event loop until it holds, up to a generous cap for a loaded machine. */
async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}
