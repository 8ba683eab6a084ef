/**
 * Issue 13.3: no path component under `secrets/`, `.secretstore/` or `.secretstore.yaml` may be a
 * symbolic link. Each link here is committed by a writer (a signed commit made with git plumbing, as a
 * clone or a pull of a writer's mistake would bring it; the store's own pre-commit hook refuses it), so
 * reads authenticate the history and what they refuse is the link itself: reads come from committed git
 * objects, where a link is a mode-120000 entry. The tests assert only what a user sees: the exit code, one
 * line naming the link, nothing written inside or outside the repository.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { commitSigned } from './helpers/sign.js';

let t: TestStore;
let outside: string;
let clean: string;

beforeAll(() => {
  t = makeStore();
  const r = t.cli(['create-secret', '--name', 'app', '--secret-string', '-'], { input: 'first-value' });
  if (r.status !== 0) throw new Error(r.stderr);
  clean = t.git(['rev-parse', 'HEAD']).trim();
});
afterAll(() => t.cleanup());
beforeEach(() => {
  t.git(['reset', '-q', '--hard', clean]);
  t.git(['clean', '-qfdx', 'secrets']);
  // The previous test's reads authenticated its link commit: going back to `clean` is intended.
  t.cli(['trust', '--accept-rewind']);
  outside = join(t.base, `outside-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(outside);
});

/** Replace `path` (relative to the store) by a link to `target`, and commit it signed by the writer, past the hook. */
async function commitLink(path: string, target: string): Promise<void> {
  rmSync(join(t.dir, path), { recursive: true, force: true });
  symlinkSync(target, join(t.dir, path));
  await commitSigned(t, `link ${path}`);
}

/** HEAD, index, status and every file's bytes, a link as its target (never read through: /dev/zero). */
function snapshot(): string {
  const files = t.git(['ls-files', '-z', '--cached', '--others']).split('\0').filter(Boolean).sort();
  const contents = files.map((f) => {
    const file = join(t.dir, f);
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st === undefined) return `${f} (missing)`;
    return `${f} ${st.isSymbolicLink() ? `-> ${readlinkSync(file)}` : readFileSync(file).toString('base64')}`;
  });
  return [t.git(['rev-parse', 'HEAD']), t.git(['ls-files', '-s']), t.git(['status', '--porcelain']), ...contents].join('\n');
}

function refused(args: readonly string[], link: string, input?: string): void {
  const head = t.git(['rev-parse', 'HEAD']).trim();
  const before = snapshot();
  // With a timeout: a read that follows a link to /dev/zero would otherwise never end.
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: t.dir, env: t.env, input, encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(254);
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`${link} is a symbolic link`);
  expect(r.stdout).toBe('');
  expect(t.git(['rev-parse', 'HEAD']).trim()).toBe(head);
  expect(snapshot()).toBe(before);
}

describe('issue 13.3: symlinks inside the store', () => {
  it('issue 13.3: with a committed secrets/newname -> /some/dir, create-secret --name newname is refused naming the link, and nothing is written outside the repository', async () => {
    await commitLink('secrets/newname', outside);
    refused(['create-secret', '--name', 'newname', '--secret-string', '-'], 'secrets/newname', 'value');
    expect(readdirSync(outside)).toEqual([]);
  });

  it('issue 13.3: a symlinked versions/ folder: put-secret-value and get-secret-value are refused naming it, nothing written through it', async () => {
    renameSync(join(t.dir, 'secrets/app/versions'), join(outside, 'versions'));
    await commitLink('secrets/app/versions', join(outside, 'versions'));
    const inside = readdirSync(join(outside, 'versions'));
    refused(['put-secret-value', '--secret-id', 'app', '--secret-string', '-'], 'secrets/app/versions', 'second');
    refused(['get-secret-value', '--secret-id', 'app'], 'secrets/app/versions');
    expect(readdirSync(join(outside, 'versions'))).toEqual(inside);
  });

  it('issue 13.3: a symlinked secret.yaml: update-secret is refused naming it, the file it points to is unchanged', async () => {
    const target = join(outside, 'secret.yaml');
    writeFileSync(target, readFileSync(join(t.dir, 'secrets/app/secret.yaml')));
    await commitLink('secrets/app/secret.yaml', target);
    const text = readFileSync(target, 'utf8');
    refused(['update-secret', '--secret-id', 'app', '--description', 'changed'], 'secrets/app/secret.yaml');
    expect(readFileSync(target, 'utf8')).toBe(text);
  });

  it('issue 13.3: a symlinked .secretstore.yaml: writes and reads are refused naming it', async () => {
    const target = join(outside, 'config.yaml');
    writeFileSync(target, readFileSync(join(t.dir, '.secretstore.yaml')));
    await commitLink('.secretstore.yaml', target);
    refused(['create-secret', '--name', 'other', '--secret-string', '-'], '.secretstore.yaml', 'value');
    refused(['get-secret-value', '--secret-id', 'app'], '.secretstore.yaml');
  });

  it('issue 13.3: a read through secret.yaml -> /dev/zero is refused in one line naming the link (not "Invalid string length")', async () => {
    await commitLink('secrets/app/secret.yaml', '/dev/zero');
    refused(['get-secret-value', '--secret-id', 'app'], 'secrets/app/secret.yaml');
    refused(['describe-secret', '--secret-id', 'app'], 'secrets/app/secret.yaml');
  });

  it('issue 13.3: a symlinked sealed version file is refused on read', async () => {
    const versions = join(t.dir, 'secrets/app/versions');
    const [sealed] = readdirSync(versions);
    const target = join(outside, sealed!);
    writeFileSync(target, readFileSync(join(versions, sealed!)));
    await commitLink(`secrets/app/versions/${sealed}`, target);
    refused(['get-secret-value', '--secret-id', 'app'], `secrets/app/versions/${sealed}`);
  });
});
