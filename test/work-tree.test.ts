/**
 * A put and the user's own git work in the same repository (src/store/work-tree.ts): the real CLI, real
 * git. A hand commit moves HEAD and rewrites the index; a git command of the user's holds `index.lock`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { gitCallLog } from './helpers/git-calls.js';

let t: TestStore;
beforeAll(() => {
  t = makeStore();
});
afterAll(() => t.cleanup());

const COLD = { SECRETSTORE_AGENT: 'off' };
let seq = 0;

/** A new secret holding `value`, committed by the CLI. */
function secret(value: string): string {
  const name = `work-tree/s${++seq}`;
  const r = t.cli(['create-secret', '--name', name, '--secret-string', value]);
  expect(r.status, r.stderr).toBe(0);
  return name;
}

function get(name: string): string {
  const r = t.cli(['get-secret-value', '--secret-id', name]);
  expect(r.status, r.stderr).toBe(0);
  return r.json<{ SecretString: string }>().SecretString;
}

const status = () => t.git(['status', '--porcelain', '--untracked-files=all']);
const head = () => t.git(['rev-parse', 'HEAD']).trim();
const indexFile = () => join(t.dir, '.git', 'index');

/** Runs `fn` with a `git` first on PATH that logs each call's subcommand: which git calls did the CLI make? */
function gitCalls(fn: (env: NodeJS.ProcessEnv) => void): string[] {
  const log = gitCallLog();
  try {
    fn({ ...COLD, PATH: `${log.bin}:${t.env.PATH ?? ''}` });
    return log.calls();
  } finally {
    log.cleanup();
  }
}

describe('a put after a hand commit', () => {
  test("keeps the user's staged changes and unrelated work tree, builds on the hand commit, reads no whole tree or index status, and leaves the store clean in git status", () => {
    const name = secret('before');
    // By hand: a commit (HEAD moves, git rewrites the index), then a staged file, an unstaged edit, an untracked file.
    writeFileSync(join(t.dir, 'README.md'), 'committed by hand\n');
    t.git(['add', 'README.md']);
    t.git(['commit', '-q', '-m', 'by hand']);
    const hand = head();
    writeFileSync(join(t.dir, 'notes.txt'), 'staged by hand\n');
    t.git(['add', 'notes.txt']);
    writeFileSync(join(t.dir, 'README.md'), 'committed by hand\nand edited, not staged\n');
    writeFileSync(join(t.dir, 'scratch.txt'), 'untracked\n');
    const staged = t.git(['ls-files', '-s', '--', 'notes.txt', 'README.md']);

    const calls = gitCalls((env) => {
      const r = t.cli(['put-secret-value', '--secret-id', name, '--secret-string', 'after'], { env });
      expect(r.status, r.stderr).toBe(0);
    });
    expect(calls).not.toContain('read-tree');
    expect(calls).not.toContain('write-tree');
    expect(calls).not.toContain('status'); // the paths were checked against the index file in process

    expect(t.git(['rev-parse', 'HEAD^']).trim()).toBe(hand);
    const changed = t.git(['diff-tree', '--no-commit-id', '--name-only', '-r', 'HEAD']).trim().split('\n');
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((p) => p.startsWith('secrets/'))).toBe(true);
    expect(t.git(['ls-files', '-s', '--', 'notes.txt', 'README.md'])).toBe(staged);
    expect(t.git(['diff', '--cached', '--name-status'])).toBe('A\tnotes.txt\n');
    expect(readFileSync(join(t.dir, 'README.md'), 'utf8')).toBe('committed by hand\nand edited, not staged\n');
    expect(readFileSync(join(t.dir, 'scratch.txt'), 'utf8')).toBe('untracked\n');
    expect(status()).toBe(' M README.md\nA  notes.txt\n?? scratch.txt\n');
    expect(t.git(['status', '--porcelain', '--', 'secrets'])).toBe('');
    expect(get(name)).toBe('after');

    // Leave the repository as the other tests expect it.
    t.git(['reset', '-q', '--', 'notes.txt']);
    rmSync(join(t.dir, 'notes.txt'));
    rmSync(join(t.dir, 'scratch.txt'));
    t.git(['checkout', '-q', '--', 'README.md']);
    expect(status()).toBe('');
  });
});

describe("a put while a git command of the user's holds .git/index.lock", () => {
  const lock = () => join(t.dir, '.git', 'index.lock');

  test('fails with InternalServiceError after SECRETSTORE_LOCK_TIMEOUT_MS, committing nothing and leaving the index and work tree byte for byte', () => {
    const name = secret('kept');
    writeFileSync(lock(), 'a new index being written by git\n');
    try {
      const before = { head: head(), index: readFileSync(indexFile()), files: t.git(['ls-files', '-s']) };
      const r = t.cli(['put-secret-value', '--secret-id', name, '--secret-string', 'refused'], { env: { ...COLD, SECRETSTORE_LOCK_TIMEOUT_MS: '200' } });
      expect(r.status).toBe(254);
      expect(r.stderr).toMatch(/\(InternalServiceError\) when calling the PutSecretValue operation: .*index\.lock was held by another git command for 200 ms/);
      expect(head()).toBe(before.head);
      expect(readFileSync(indexFile())).toEqual(before.index);
      expect(t.git(['ls-files', '-s'])).toBe(before.files);
      expect(readFileSync(lock(), 'utf8')).toBe('a new index being written by git\n'); // the user's lock is theirs
      expect(existsSync(join(t.dir, '.git', 'secretstore.lock'))).toBe(false);
    } finally {
      rmSync(lock(), { force: true });
    }
    expect(status()).toBe('');
    expect(get(name)).toBe('kept');
  });

  test('waits until it is released, then commits; git status is clean', async () => {
    const name = secret('old');
    writeFileSync(lock(), 'a new index being written by git\n');
    const child = spawn(process.execPath, [CLI, 'put-secret-value', '--secret-id', name, '--secret-string', 'new'], {
      cwd: t.dir,
      env: { ...t.env, ...COLD, SECRETSTORE_DEBUG: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The event: the put says it waits for the lock (its debug log), and nothing is committed yet.
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/waiting for .*index\.lock/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`the put ended without waiting: ${stderr}`)));
    });
    const before = head();
    rmSync(lock());
    expect(await exited, stderr).toBe(0);
    expect(t.git(['rev-parse', 'HEAD^']).trim()).toBe(before);
    expect(status()).toBe('');
    expect(get(name)).toBe('new');
  });
});
