/**
 * The cold CLI's code cache (issue 12 target 2, src/cli/code-cache.ts): the built CLI run three ways with the
 * same arguments — without the cache (SECRETSTORE_CODE_CACHE=off), on the run that writes it, and on a run
 * that uses it — must print the same bytes and exit with the same code; a cache that is corrupt, stale or
 * in a folder others may write is ignored, never an error. Real git, real libsodium, the real CLI process.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type CliResult, type TestStore } from './helpers/store.js';

let t: TestStore;
let cases = 0;

beforeAll(() => {
  t = makeStore();
  const off = { SECRETSTORE_AGENT: 'off', SECRETSTORE_CODE_CACHE: 'off' };
  expect(t.cli(['create-secret', '--name', 'app/db', '--secret-string', '-'], { input: 'first-VALUE', env: off }).status).toBe(0);
  expect(t.cli(['put-secret-value', '--secret-id', 'app/db', '--secret-string', '-'], { input: '{"user":"admin"}', env: off }).status).toBe(0);
});
afterAll(() => t.cleanup());

/** A cache folder of its own for each case, so each starts with no cache. */
function cacheHome(): string {
  const dir = join(t.base, `cache-${cases++}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv): CliResult {
  return t.cli(args, { env: { SECRETSTORE_AGENT: 'off', ...env } });
}

/** The cache files under a cache home (`secretstore/code/<program>/<command>.bin`). */
function cacheFiles(home: string): string[] {
  const root = join(home, 'secretstore', 'code');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)).map((file) => join(root, dir, file)));
}

const same = (a: CliResult, b: CliResult) => expect({ status: b.status, stdout: b.stdout, stderr: b.stderr }).toEqual({ status: a.status, stdout: a.stdout, stderr: a.stderr });

describe('issue 12 target 2: results with the code cache are byte for byte those without it', () => {
  const argvs: readonly (readonly string[])[] = [
    ['get-secret-value', '--secret-id', 'app/db'],
    ['get-secret-value', '--secret-id', 'app/db', '--version-stage', 'AWSPREVIOUS'],
    ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text'],
    ['get-secret-value', '--secret-id', 'app/db', '--output', 'yaml'],
    ['get-secret-value', '--secret-id', 'app/db', '--version-stage', 'NOSUCHLABEL'],
    ['get-secret-value', '--secret-id', 'missing'],
    ['get-secret-value', '--secret-id', 'app/db', '--query', '[bad'],
    ['get-secret-value', '--secret-id', 'app/db', '--no-such-flag'],
    ['get-secret-value'],
    ['get-secret-value', '--help'],
    ['get', 'app/db'],
    ['get', 'app/db', '--field', 'user'],
    ['get', 'missing'],
    ['describe-secret', '--secret-id', 'app/db'],
    ['--version'],
    ['no-such-command'],
  ];
  for (const argv of argvs) {
    it(`secretstore ${argv.join(' ')}: without a cache, writing it, using it`, () => {
      const home = cacheHome();
      const without = run(argv, { SECRETSTORE_CODE_CACHE: 'off', XDG_CACHE_HOME: home });
      expect(cacheFiles(home)).toEqual([]);
      const writing = run(argv, { XDG_CACHE_HOME: home });
      const using = run(argv, { XDG_CACHE_HOME: home });
      same(without, writing);
      same(without, using);
      // Only a successful run that is not --help leaves a cache (a failed one compiled little of the command).
      expect(cacheFiles(home).length).toBe(without.status === 0 && !argv.includes('--help') ? 1 : 0);
    });
  }
});

describe('issue 12 target 2: the cache is only an optimisation', () => {
  const get = ['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text'];

  it('a second run uses the cache the first one wrote (the --debug log says so)', () => {
    const home = cacheHome();
    expect(run(['--debug', ...get], { XDG_CACHE_HOME: home }).stderr).toMatch(/^\[debug\] code cache: none yet .*\n[^]*\[debug\] code cache: written /);
    const second = run(['--debug', ...get], { XDG_CACHE_HOME: home });
    expect(second.stderr).toMatch(/^\[debug\] code cache: used \(/);
    expect(second.stderr).not.toContain('code cache: written');
    expect(second.stdout).toBe('{"user":"admin"}\n');
  });

  it('a corrupt cache file (bytes flipped, truncated, garbage) is ignored and written again', () => {
    const home = cacheHome();
    const first = run(get, { XDG_CACHE_HOME: home });
    const [file] = cacheFiles(home);
    const good = readFileSync(file!);
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    for (const bad of [flipped, good.subarray(0, good.length >> 1), Buffer.from('not a cache at all'), Buffer.alloc(0)]) {
      writeFileSync(file!, bad);
      const r = run(['--debug', ...get], { XDG_CACHE_HOME: home });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(first.stdout);
      expect(r.stderr).toMatch(/code cache: (none yet|rejected by V8) [^]*code cache: written /);
      expect(readFileSync(file!).equals(bad)).toBe(false);
    }
  });

  it("a cache folder others may write is not used: nothing is read from it or written to it", () => {
    const home = cacheHome();
    run(get, { XDG_CACHE_HOME: home });
    const [file] = cacheFiles(home);
    const folder = join(file!, '..');
    chmodSync(folder, 0o777);
    try {
      writeFileSync(file!, 'planted');
      const r = run(['--debug', ...get], { XDG_CACHE_HOME: home });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('{"user":"admin"}\n');
      expect(r.stderr).toMatch(/code cache: none yet /);
      expect(r.stderr).not.toContain('code cache: written');
      expect(readFileSync(file!, 'utf8')).toBe('planted');
    } finally {
      chmodSync(folder, 0o700);
    }
  });

  it('the cache of another build of the program is removed when this one writes its own', () => {
    const home = cacheHome();
    const stale = join(home, 'secretstore', 'code', '123-abcdef-v20.0.0-x64');
    mkdirSync(stale, { recursive: true, mode: 0o700 });
    writeFileSync(join(stale, 'get-secret-value.bin'), 'old build');
    expect(run(get, { XDG_CACHE_HOME: home }).status).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(cacheFiles(home).length).toBe(1);
  });

  it('SECRETSTORE_CODE_CACHE=off reads and writes no cache', () => {
    const home = cacheHome();
    const r = run(['--debug', ...get], { XDG_CACHE_HOME: home, SECRETSTORE_CODE_CACHE: 'off' });
    expect(r.stderr).toMatch(/^\[debug\] code cache: off\n/);
    expect(cacheFiles(home)).toEqual([]);
  });
});
