/**
 * Issue 13.4: every failure is one line that names the file or value at fault and what to do: a YAML
 * alias bomb in an index, `serve --host '[::1]'` (and a port in use), a deleted working directory.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetRandomPasswordCommand } from '@aws-sdk/client-secrets-manager';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { startTestServer } from './helpers/server.js';
import { commitSigned } from './helpers/sign.js';

let t: TestStore;

beforeAll(() => {
  t = makeStore();
  const r = t.cli(['create-secret', '--name', 'app', '--secret-string', '-'], { input: 'value' });
  if (r.status !== 0) throw new Error(r.stderr);
});
afterAll(() => t.cleanup());

const lines = (stderr: string) => stderr.split('\n').filter((l) => l !== '');

describe('issue 13.4: one-line messages that name what is at fault', () => {
  it('issue 13.4: a YAML alias bomb in an index is refused in one line naming the file and what to do', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const file = 'secrets/app/secret.yaml';
    writeFileSync(join(t.dir, file), `${levels.join('\n')}\n`);
    // Committed by a writer: what is tested is the parser's answer, not trust's.
    await commitSigned(t, 'an alias bomb');
    const r = spawnSync(process.execPath, [CLI, 'get-secret-value', '--secret-id', 'app'], { cwd: t.dir, env: t.env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(254);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/alias/i);
    expect(r.stderr).toContain('restore it from git');
    t.git(['reset', '-q', '--hard', 'HEAD~1']);
    expect(t.cli(['trust', '--accept-rewind']).status).toBe(0); // this clone read the bomb's commit: going back is a rewind
  });

  it("issue 13.4: serve --host '[::1]' listens on ::1 (brackets as in a URL are accepted)", async () => {
    const s = await startTestServer(t, { host: '[::1]' }).catch((err: NodeJS.ErrnoException) => err);
    if (s instanceof Error) {
      // A machine without IPv6 loopback: the answer must still say what to pass, in one line.
      expect(s.message.split('\n')).toHaveLength(1);
      expect(s.message).toContain('--host ::1');
      return;
    }
    try {
      expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect((await s.client().send(new GetRandomPasswordCommand({}))).RandomPassword).toHaveLength(32);
    } finally {
      await s.close();
    }
  });

  it('issue 13.4: serve on a port in use says so in one line and what to pass', async () => {
    const first = await startTestServer(t);
    try {
      const port = Number(new URL(first.url).port);
      await expect(startTestServer(t, { port })).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use; pass another --port (0 picks a free one)`);
    } finally {
      await first.close();
    }
  });

  it('issue 13.4: running from a deleted working directory prints one line, not a stack trace', () => {
    const r = spawnSync('sh', ['-c', 'mkdir gone && cd gone && rmdir ../gone && exec "$NODE" "$CLI" list-secrets'], {
      cwd: t.base,
      env: { ...t.env, NODE: process.execPath, CLI },
      encoding: 'utf8',
    });
    expect(r.status).toBe(255);
    expect(lines(r.stderr)).toEqual(['secretstore: error: the current folder no longer exists (deleted or moved); cd to an existing folder and run the command again']);
  });
});
