import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { fromEditedText, isJsonContainer } from '../src/cli/edit.js';
import { editorCommand, privateTempRoot } from '../src/local/edit.js';
import { HAS_SCRIPT } from './helpers/tools.js';

let t: TestStore;
let n = 0;

const JSON_VALUE = '{"username":"admin","password":"hunter2-SECRET-ONE"}';
const PLAIN_VALUE = 'plain-SECRET-TWO';

/**
 * An editor script: records the path it got, the modes of the file and its folder, its own and its parent's
 * argv (from /proc) and the text it was given, then runs `action` (shell code; the file is "$f").
 */
function editor(action: string): { command: string; log: string } {
  const log = join(t.base, `editor-${++n}`);
  mkdirSync(log);
  const script = join(log, 'editor.sh');
  writeFileSync(
    script,
    `#!/bin/sh
for f; do :; done
printf '%s' "$f" > ${log}/path
echo $$ > ${log}/pid
stat -c %a "$f" > ${log}/filemode
stat -c %a "$(dirname "$f")" > ${log}/dirmode
tr '\\0' '\\n' < /proc/$$/cmdline > ${log}/cmdline
tr '\\0' '\\n' < /proc/$PPID/cmdline > ${log}/parent-cmdline
cat "$f" > ${log}/before
${action}
`,
    { mode: 0o755 },
  );
  return { command: `sh ${script}`, log };
}

const read = (log: string, name: string) => readFileSync(join(log, name), 'utf8');
const commits = () => Number(t.git(['rev-list', '--count', 'HEAD']).trim());
const value = (id: string) => t.cli(['get-secret-value', '--secret-id', id, '--query', 'SecretString', '--output', 'text']).stdout.replace(/\n$/, '');
const versions = (id: string) => t.cli(['list-secret-version-ids', '--secret-id', id, '--include-deprecated']).json<{ Versions: unknown[] }>().Versions.length;
const edit = (id: string, ed: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}) =>
  t.cli(['edit', '--secret-id', id, ...extra], { env: { EDITOR: ed, ...env } });

/** The editor got only the file path, in a private folder that is gone now. */
function checkPrivate(log: string, secret: string): string {
  const path = read(log, 'path');
  expect(path).toMatch(/\/secretstore-edit-[^/]+\/secret\.(json|txt)$/);
  expect(read(log, 'filemode').trim()).toBe('600');
  expect(read(log, 'dirmode').trim()).toBe('700');
  expect(existsSync(path)).toBe(false);
  expect(existsSync(join(path, '..'))).toBe(false);
  expect(read(log, 'cmdline').split('\n').filter(Boolean).at(-1)).toBe(path);
  expect(read(log, 'cmdline')).not.toContain(secret);
  expect(read(log, 'parent-cmdline')).not.toContain(secret);
  return path;
}

beforeAll(() => {
  t = makeStore();
  for (const [name, v] of [['json', JSON_VALUE], ['plain', PLAIN_VALUE], ['nl', 'line one\nline two\n'], ['sig', 'sig-SECRET-THREE'], ['killed', 'killed-SECRET-FOUR'], ['array', '["a"]']]) {
    const r = t.cli(['create-secret', '--name', name!, '--secret-string', '-'], { input: v });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  writeFileSync(join(t.base, 'blob.bin'), Buffer.from([0, 1, 2]));
  if (t.cli(['create-secret', '--name', 'blob', '--secret-binary', `fileb://${join(t.base, 'blob.bin')}`]).status !== 0) throw new Error('blob');
});
afterAll(() => t.cleanup());

describe('edit: saving', () => {
  it('a changed value becomes exactly one new version (AWSCURRENT) in one commit, printed as put-secret-value JSON', () => {
    const before = commits();
    const ed = editor(`sed -i 's/hunter2/hunter3/' "$f"`);
    const r = edit('json', ed.command);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.json<{ VersionId: string; VersionStages: string[]; Name: string }>();
    expect(out).toMatchObject({ Name: 'json', VersionStages: ['AWSCURRENT'] });
    expect(commits()).toBe(before + 1);
    expect(versions('json')).toBe(2);
    expect(value('json')).toBe(JSON_VALUE.replace('hunter2', 'hunter3'));
    expect(read(ed.log, 'before')).toBe(JSON_VALUE); // the file held the value, byte for byte
    checkPrivate(ed.log, 'hunter');
    const prev = t.cli(['get-secret-value', '--secret-id', 'json', '--version-stage', 'AWSPREVIOUS']).json<{ SecretString: string }>();
    expect(prev.SecretString).toBe(JSON_VALUE);
  });

  it('the newline an editor adds is dropped when the value had none; a value ending in one keeps it', () => {
    const ed = editor(`printf 'new-plain-value\\n' > "$f"`);
    expect(edit('plain', ed.command).status).toBe(0);
    expect(t.cli(['get-secret-value', '--secret-id', 'plain']).json<{ SecretString: string }>().SecretString).toBe('new-plain-value');
    const ed2 = editor(`printf 'line one\\nline 2\\n' > "$f"`);
    expect(edit('nl', ed2.command).status).toBe(0);
    expect(t.cli(['get-secret-value', '--secret-id', 'nl']).json<{ SecretString: string }>().SecretString).toBe('line one\nline 2\n');
    expect(fromEditedText('abc', 'abc\n\n')).toBe('abc\n');
    expect(fromEditedText('abc\n', 'abc\n')).toBe('abc\n');
  });

  it('an unchanged buffer (or only the added newline) makes no version and no commit, and says so', () => {
    const before = t.snapshot();
    const r = edit('plain', editor('true').command);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no changes; no new version/);
    const r2 = edit('plain', editor(`printf '\\n' >> "$f"`).command);
    expect(r2.status).toBe(0);
    expect(r2.stderr).toMatch(/no changes/);
    expect(t.snapshot()).toBe(before);
  });

  it('--version-stage edits that version and the new version takes its label; $VISUAL wins over $EDITOR', () => {
    const r0 = t.cli(['put-secret-value', '--secret-id', 'plain', '--secret-string', '-', '--version-stages', 'AWSPENDING'], { input: 'pending-value' });
    expect(r0.status).toBe(0);
    const visual = editor(`printf 'pending-edited' > "$f"`);
    const r = edit('plain', editor('exit 9').command, ['--version-stage', 'AWSPENDING'], { VISUAL: visual.command });
    expect(r.status).toBe(0);
    expect(read(visual.log, 'before')).toBe('pending-value');
    expect(r.json()).toMatchObject({ VersionStages: ['AWSPENDING'] });
    expect(value('plain')).toBe('new-plain-value');
    expect(t.cli(['get-secret-value', '--secret-id', 'plain', '--version-stage', 'AWSPENDING']).json<{ SecretString: string }>().SecretString).toBe('pending-edited');
  });

  it('an $EDITOR with arguments runs through the shell; the path is passed quoted', () => {
    const ed = editor(`printf 'with-args' > "$f"`);
    const r = edit('plain', `${ed.command} --wait`);
    expect(r.status).toBe(0);
    expect(value('plain')).toBe('with-args');
    expect(read(ed.log, 'cmdline').split('\n').filter(Boolean).slice(-2)).toEqual(['--wait', read(ed.log, 'path')]);
  });
});

describe('edit: refusals and failures leave everything as it was', () => {
  it('invalid JSON for a JSON value is refused without a terminal, without quoting the value', () => {
    const before = t.snapshot();
    const ed = editor(`printf '{"username":"admin","password":"oops-SECRET' > "$f"`);
    const r = edit('json', ed.command);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('An error occurred (InvalidParameterException) when calling the Edit operation: ');
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(r.stderr).not.toMatch(/SECRET|hunter|admin/);
    expect(t.snapshot()).toBe(before);
    checkPrivate(ed.log, 'hunter');
  });

  it('an editor exiting non-zero saves nothing', () => {
    const before = t.snapshot();
    const ed = editor(`printf 'changed' > "$f"; exit 3`);
    const r = edit('plain', ed.command);
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(/exited with status 3; nothing was saved/);
    expect(t.snapshot()).toBe(before);
    checkPrivate(ed.log, 'with-args');
  });

  it('an editor killed by a signal saves nothing, and the file is removed', () => {
    const before = t.snapshot();
    const ed = editor(`printf 'changed' > "$f"; kill -KILL $$`);
    const r = edit('killed', ed.command);
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(/killed by SIGKILL.*; nothing was saved/);
    expect(t.snapshot()).toBe(before);
    checkPrivate(ed.log, 'SECRET-FOUR');
  });

  it('a binary secret is refused with a clear error, and no editor runs', () => {
    const ed = editor('true');
    const r = edit('blob', ed.command);
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(/InvalidRequestException.*binary value \(SecretBinary\)/);
    expect(existsSync(join(ed.log, 'path'))).toBe(false);
  });

  it('an unknown secret is GetSecretValue\'s error; a missing --secret-id is a usage error', () => {
    const r = edit('no/such', editor('true').command);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('(ResourceNotFoundException) when calling the GetSecretValue operation');
    expect(t.cli(['edit']).status).toBe(252);
  });

  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
    it(`${signal} to secretstore while the editor runs removes the file and exits ${code}`, async () => {
      const before = t.snapshot();
      const ready = join(t.base, `ready-${signal}`);
      const ed = editor(`printf 'changed' > "$f"; touch ${ready}; exec sleep 30`);
      const proc = spawn(process.execPath, [CLI, 'edit', '--secret-id', 'sig'], { cwd: t.dir, env: { ...t.env, EDITOR: ed.command }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
      const deadline = Date.now() + 120_000; // a cap: the loop ends as soon as the editor has started
      while (!existsSync(ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(existsSync(ready)).toBe(true);
      const path = read(ed.log, 'path');
      expect(existsSync(path)).toBe(true);
      proc.kill(signal);
      expect(await exited).toBe(code);
      expect(existsSync(path)).toBe(false);
      expect(existsSync(join(path, '..'))).toBe(false);
      expect(stderr).toMatch(new RegExp(`${signal}: the temporary file was removed`));
      expect(t.snapshot()).toBe(before);
      // the editor was told too (its sleep was sent the same signal)
      const pid = Number(read(ed.log, 'pid'));
      const alive = () => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie has ended
        } catch {
          return false;
        }
      };
      const until = Date.now() + 120_000; // a cap, not a wait: the loop ends as soon as the editor has ended
      while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      expect(alive()).toBe(false);
    });
  }
});

describe('edit after a SIGKILL (issue 13.6)', () => {
  it('issue 13.6: a SIGKILLed edit leaves its plaintext folder; the next edit removes stale folders of dead processes owned by the user, and keeps live ones', async () => {
    const runtime = join(t.base, 'runtime-13-6');
    mkdirSync(runtime, { mode: 0o700 });
    const env = { ...t.env, XDG_RUNTIME_DIR: runtime };
    const ready = join(t.base, 'ready-13-6');
    const ed = editor(`touch ${ready}; exec sleep 60`);
    const proc = spawn(process.execPath, [CLI, 'edit', '--secret-id', 'killed'], { cwd: t.dir, env: { ...env, EDITOR: ed.command }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_c, sig) => resolve(sig)));
    const deadline = Date.now() + 120_000; // a cap: the loop ends as soon as the editor has started
    while (!existsSync(ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(ready)).toBe(true);
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    process.kill(Number(read(ed.log, 'pid')), 'SIGKILL'); // the orphaned editor
    // What a SIGKILL leaves: the folder and the plaintext in it (no handler can run).
    const left = read(ed.log, 'path');
    expect(left.startsWith(`${runtime}/secretstore-edit-${proc.pid}-`)).toBe(true);
    expect(readFileSync(left, 'utf8')).toBe('killed-SECRET-FOUR');
    // A folder of a live process (this test) and another user's are left alone.
    const live = join(runtime, `secretstore-edit-${process.pid}-Abc123`);
    mkdirSync(live, { mode: 0o700 });
    const others = process.getuid?.() === 0 ? join(runtime, 'secretstore-edit-999999-Xyz789') : undefined;
    if (others) {
      mkdirSync(others);
      chownSync(others, 4242, 4242);
    }
    const next = edit('plain', editor('true').command, [], { XDG_RUNTIME_DIR: runtime });
    expect(next.status).toBe(0);
    expect(existsSync(join(left, '..'))).toBe(false);
    expect(existsSync(live)).toBe(true);
    if (others) expect(existsSync(others)).toBe(true);
  });
});

describe.skipIf(!HAS_SCRIPT)('edit on a terminal', () => {
  it('invalid JSON asks whether to edit again, and re-opens the editor on the edited text', async () => {
    const ed = editor(`if [ -e ${t.base}/second ]; then cat "$f" > ${t.base}/reopened; printf '["fixed"]' > "$f"; else touch ${t.base}/second; printf '["broken' > "$f"; fi`);
    const cmd = [process.execPath, CLI, 'edit', '--secret-id', 'array'].map((a) => `'${a}'`).join(' ');
    const proc = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: { ...t.env, EDITOR: ed.command }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    proc.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      if (/Edit again\? \[Y\/n\] $/.test(screen)) proc.stdin.write('y\r');
    });
    // 'close', not 'exit': under load the last of the screen can still be in the pipe when script has exited.
    const status = await new Promise<number | null>((resolve) => proc.on('close', (c) => resolve(c)));
    proc.stdin.end();
    expect(status, screen).toBe(0);
    expect(screen).toMatch(/was a JSON array and the edited text is not valid JSON/);
    expect(readFileSync(join(t.base, 'reopened'), 'utf8')).toBe('["broken');
    expect(value('array')).toBe('["fixed"]');
    expect(existsSync(read(ed.log, 'path'))).toBe(false);
  });
});

describe('edit: pure parts', () => {
  it('the folder goes to $XDG_RUNTIME_DIR when it is a folder, else /dev/shm when writable', () => {
    expect(privateTempRoot({ XDG_RUNTIME_DIR: t.base })).toBe(t.base);
    const fallback = privateTempRoot({ XDG_RUNTIME_DIR: join(t.base, 'missing') });
    expect(fallback === '/dev/shm' || !existsSync('/dev/shm')).toBe(true);
  });

  it('the editor is $VISUAL, else $EDITOR, else vi; JSON containers are objects and arrays', () => {
    expect(editorCommand({ VISUAL: 'a', EDITOR: 'b' })).toBe('a');
    expect(editorCommand({ VISUAL: '', EDITOR: 'b' })).toBe('b');
    expect(editorCommand({})).toBe('vi');
    expect(isJsonContainer('{"a":1}')).toBe(true);
    expect(isJsonContainer('[1]')).toBe(true);
    expect(isJsonContainer('"s"')).toBe(false);
    expect(isJsonContainer('12')).toBe(false);
    expect(isJsonContainer('x')).toBe(false);
  });
});
