import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { promptSecretValue } from '../src/terminal/prompt.js';
import { HAS_SCRIPT, onTerminal as runOnTerminal } from './helpers/terminal.js';

let t: TestStore;

/** The CLI under a pseudo-terminal, typing each answer once a prompt is on screen (test/helpers/terminal.ts). */
function onTerminal(args: readonly string[], answers: readonly string[], expecting = /Enter (the SecretString|it again)[^:]*: $/) {
  return runOnTerminal(args, { cwd: t.dir, env: t.env, answers, expecting });
}

const get = (id: string) => t.cli(['get-secret-value', '--secret-id', id]).json<{ SecretString: string; VersionId: string }>();

beforeAll(() => {
  t = makeStore();
  for (const name of ['typed', 'pasted', 'mismatch', 'nopipe']) {
    if (t.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: 'initial' }).status !== 0) throw new Error(name);
  }
});
afterAll(() => t.cleanup());

describe.skipIf(!HAS_SCRIPT)('put-secret-value on a terminal', () => {
  it('asks twice without echo, and the value lands as if --secret-string had been given', async () => {
    const r = await onTerminal(['put-secret-value', '--secret-id', 'typed'], ['Typed-VALUE-1\r', 'Typed-VALUE-1\r']);
    expect(r.status).toBe(0);
    expect(r.typed).toBe(2);
    expect(r.screen).toMatch(/Enter the SecretString \(input is hidden\): /);
    expect(r.screen).toMatch(/Enter it again to confirm: /);
    expect(r.screen).not.toContain('Typed-VALUE');
    expect(r.screen).not.toMatch(/warning/); // no command-line value, no history warning
    const out = JSON.parse(r.screen.slice(r.screen.indexOf('{'))) as { VersionId: string };
    expect(get('typed')).toMatchObject({ SecretString: 'Typed-VALUE-1', VersionId: out.VersionId });
  });

  it('a mismatch asks again; backspace edits the hidden line', async () => {
    const r = await onTerminal(['put-secret-value', '--secret-id', 'mismatch'], ['first-VALUE\r', 'other-VALUE\r', 'second-VALUX\x7fE\r', 'second-VALUE\n']);
    expect(r.status).toBe(0);
    expect(r.screen).toMatch(/did not match; try again/);
    expect(r.screen).not.toMatch(/VALU/);
    expect(get('mismatch').SecretString).toBe('second-VALUE');
  });

  it('three mismatches are an error and nothing is saved', async () => {
    const before = t.snapshot();
    const r = await onTerminal(['put-secret-value', '--secret-id', 'mismatch'], ['a1\r', 'b1\r', 'a2\r', 'b2\r', 'a3\r', 'b3\r']);
    expect(r.status).toBe(254);
    expect(r.screen).toMatch(/InvalidParameterException\) when calling the PutSecretValue operation: the two entries of SecretString did not match 3 times/);
    expect(t.snapshot()).toBe(before);
  });

  it('Ctrl-C at the prompt exits 130 and saves nothing', async () => {
    const before = t.snapshot();
    const r = await onTerminal(['put-secret-value', '--secret-id', 'mismatch'], ['abc\x03']);
    expect(r.status).toBe(130);
    expect(t.snapshot()).toBe(before);
  });

  it('create-secret prompts on a terminal too; --no-prompt makes a secret without a value, as in AWS', async () => {
    const r = await onTerminal(['create-secret', '--name', 'prompted'], ['Created-VALUE\r', 'Created-VALUE\r']);
    expect(r.status).toBe(0);
    expect(r.screen).not.toContain('Created-VALUE');
    expect(get('prompted').SecretString).toBe('Created-VALUE');
    const r2 = await onTerminal(['create-secret', '--name', 'empty', '--no-prompt'], []);
    expect(r2.status).toBe(0);
    expect(r2.screen).not.toMatch(/Enter/);
    expect(t.cli(['list-secret-version-ids', '--secret-id', 'empty']).json<{ Versions: unknown[] }>().Versions).toEqual([]);
  });
});

describe('without a terminal', () => {
  it('no prompt: the usual error for a missing value, and --prompt is a usage error', () => {
    const before = t.snapshot();
    const r = t.cli(['put-secret-value', '--secret-id', 'nopipe'], { input: '' });
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('An error occurred (InvalidRequestException) when calling the PutSecretValue operation: ');
    expect(r.stderr).not.toMatch(/Enter/);
    const c = t.cli(['create-secret', '--name', 'x', '--prompt'], { input: '' });
    expect(c.status).toBe(252);
    expect(c.stderr).toMatch(/--prompt needs a terminal/);
    expect(t.snapshot()).toBe(before);
    // a value from a pipe still works as before
    expect(t.cli(['put-secret-value', '--secret-id', 'nopipe', '--secret-string', '-'], { input: 'piped' }).status).toBe(0);
    expect(get('nopipe').SecretString).toBe('piped');
  });

  it('the prompt reads injected streams: raw mode on, nothing echoed, a pasted pair answers both prompts', async () => {
    const input = new PassThrough() as PassThrough & { setRawMode: (m: boolean) => void };
    const modes: boolean[] = [];
    input.setRawMode = (m) => void modes.push(m);
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => (shown += d.toString()));
    const value = promptSecretValue({ input, output });
    input.write('pasted \u00fcnicode\r\npasted \u00fcnicode\r\n');
    expect(await value).toBe('pasted \u00fcnicode');
    expect(modes).toEqual([true, false]);
    expect(shown).not.toContain('pasted');
  });
});
