import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { expandFaultPoints } from '../src/store/fault.js';

let t: TestStore;
beforeAll(() => {
  t = makeStore();
  expect(t.cli(['create-secret', '--name', 'crash', '--secret-string', '-'], { input: 'value-0' }).status).toBe(0);
});
afterAll(() => t.cleanup());

/** A put has two file changes: its sealed version file and its index. */
const points = expandFaultPoints([{ path: 'v', content: '' }, { path: 'i', content: '' }]);

function head(): string {
  return t.git(['rev-parse', 'HEAD']).trim();
}

describe('a put killed with SIGKILL at any point leaves the old state or the new one', () => {
  it.each(points.map((p, i) => [p, i]))('killed at %s', (point, i) => {
    const before = head();
    const value = `value-${Number(i) + 1}`;
    // In this process (the agent's own kill is in test/agent.test.ts, where the client reports it).
    const killed = t.cli(['put-secret-value', '--secret-id', 'crash', '--secret-string', '-'], { input: value, env: { SECRETSTORE_FAULT_AT: String(point), SECRETSTORE_AGENT: 'off' } });
    expect(killed.status).toBeNull(); // died by the signal, not an exit code

    // The next command (a read) repairs whatever was half-written, then answers consistently with HEAD.
    const read = t.cli(['get-secret-value', '--secret-id', 'crash']);
    expect(read.status).toBe(0);
    const landed = head() !== before;
    const current = read.json<{ SecretString: string }>().SecretString;
    if (landed) expect(current).toBe(value);
    else expect(current).not.toBe(value);
    expect(t.git(['status', '--porcelain', '--untracked-files=all'])).toBe('');

    // ...and the next write works.
    const next = t.cli(['put-secret-value', '--secret-id', 'crash', '--secret-string', '-'], { input: `after-${point}` });
    expect(next.status).toBe(0);
    expect(t.git(['status', '--porcelain', '--untracked-files=all'])).toBe('');
  });
});

describe('concurrent writers on one clone', () => {
  it('10 puts to one secret started at once all land as 10 versions with consistent labels', async () => {
    const before = Number(t.git(['rev-list', '--count', 'HEAD']).trim());
    const runs = Array.from({ length: 10 }, (_, i) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'put-secret-value', '--secret-id', 'crash', '--secret-string', '-'], { cwd: t.dir, env: t.env });
        child.stdin.end(`concurrent-${i}`);
        child.on('exit', (code) => resolve(code));
      }),
    );
    expect(await Promise.all(runs)).toEqual(Array(10).fill(0));
    expect(Number(t.git(['rev-list', '--count', 'HEAD']).trim())).toBe(before + 10);
    const versions = t.cli(['list-secret-version-ids', '--secret-id', 'crash', '--include-deprecated']).json<{ Versions: { VersionStages?: string[] }[] }>();
    const log = t.git(['log', '-10', '--format=%s']).trim().split('\n');
    expect(log.every((l) => l.startsWith('put-secret-value crash: new version'))).toBe(true);
    expect(versions.Versions.filter((v) => v.VersionStages?.includes('AWSCURRENT'))).toHaveLength(1);
    expect(versions.Versions.filter((v) => v.VersionStages?.includes('AWSPREVIOUS'))).toHaveLength(1);
    const current = t.cli(['get-secret-value', '--secret-id', 'crash']).json<{ SecretString: string }>().SecretString;
    expect(current).toMatch(/^concurrent-\d$/);
    expect(t.git(['status', '--porcelain'])).toBe('');
  });
});
