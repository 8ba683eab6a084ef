/**
 * Issue 13 items 1 and 2: bytes that are not UTF-8 in a SecretString and members of the wrong type are
 * refused, the same way through the CLI (exit 252, one line, no value), the library (ValidationException)
 * and `serve` (ValidationException / SerializationException), and nothing is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { main } from '../src/cli/main.js';
import { operations, type OperationName } from '../src/ops/table.js';
import type { Param, ParamType } from '../src/ops/context.js';
import { flagOf } from '../src/cli/values.js';
import { invalidUtf8Offset } from '../src/core/utf8.js';

const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

let t: TestStore;
let s: TestServer;
let before: string;

beforeAll(async () => {
  t = makeStore();
  const r = t.cli(['create-secret', '--name', 'app', '--secret-string', 'first'], {});
  if (r.status !== 0) throw new Error(r.stderr);
  s = await startTestServer(t);
  before = t.snapshot();
});
afterAll(async () => {
  await s?.close();
  t?.cleanup();
});

/** The one line the CLI printed on stderr (the AWS CLI puts an empty line before it). */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('issue 13.1: a SecretString that is not UTF-8 is refused, never changed', () => {
  const BAD = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]);

  it('issue 13.1: invalid UTF-8 on stdin is refused with exit 252, naming the parameter, the byte offset and --secret-binary; nothing written', () => {
    const r = t.cli(['put-secret-value', '--secret-id', 'app', '--secret-string', '-'], { input: BAD });
    expect(r.status).toBe(252);
    const line = oneLine(r.stderr);
    expect(line).toContain('--secret-string');
    expect(line).toContain('offset 3');
    expect(line).toContain('--secret-binary');
    expect(line).toContain('fileb://');
    expect(t.snapshot()).toBe(before);
    const created = t.cli(['create-secret', '--name', 'other', '--secret-string', '-'], { input: BAD });
    expect(created.status).toBe(252);
    expect(t.snapshot()).toBe(before);
  });

  it('issue 13.1: invalid UTF-8 in a file:// SecretString is refused with exit 252 (a truncated sequence at the end too)', () => {
    const file = join(t.base, 'bad.txt');
    writeFileSync(file, Buffer.from([0x6f, 0x6b, 0xe2, 0x82]));
    const r = t.cli(['put-secret-value', '--secret-id', 'app', '--secret-string', `file://${file}`]);
    expect(r.status).toBe(252);
    expect(oneLine(r.stderr)).toMatch(/--secret-string .*offset 2.*--secret-binary fileb:\/\//);
    expect(t.snapshot()).toBe(before);
    // The same bytes through fileb:// are stored as they are.
    writeFileSync(file, BAD);
    const binary = t.cli(['put-secret-value', '--secret-id', 'app', '--secret-binary', `fileb://${file}`, '--client-request-token', T(900)]);
    expect(binary.status).toBe(0);
    const got = t.cli(['get-secret-value', '--secret-id', 'app', '--query', 'SecretBinary', '--output', 'text']);
    expect(Buffer.from(got.stdout.trim(), 'base64')).toEqual(BAD);
    t.git(['reset', '-q', '--hard', 'HEAD~1']);
    expect(t.cli(['trust', '--accept-rewind']).status).toBe(0); // the clone read the newer state: undoing it is a rewind it must accept
    expect(t.snapshot()).toBe(before);
  });

  it.skipIf(!existsSync('/proc/self/cmdline'))('issue 13.1: invalid UTF-8 in a SecretString on the command line is refused (read raw from /proc/self/cmdline); a typed U+FFFD is kept', () => {
    // Node's spawn encodes argv as UTF-8, so a shell hands the CLI the raw byte, in both flag forms.
    const viaShell = (form: string) =>
      spawnSync('sh', ['-c', `"$NODE" "$CLI" put-secret-value --secret-id app ${form}`], {
        cwd: t.dir,
        env: { ...t.env, NODE: process.execPath, CLI },
        encoding: 'utf8',
      });
    for (const form of [`--secret-string "$(printf 'ab\\377c')"`, `--secret-string="$(printf 'ab\\377c')"`]) {
      const bad = viaShell(form);
      expect(bad.status).toBe(252);
      expect(oneLine(bad.stderr)).toMatch(/--secret-string .*offset 2.*--secret-binary/);
      expect(t.snapshot()).toBe(before);
    }
    const typed = t.cli(['put-secret-value', '--secret-id', 'app', '--secret-string', 'typed \uFFFD', '--client-request-token', T(901)]);
    expect(typed.status).toBe(0);
    expect(t.cli(['get-secret-value', '--secret-id', 'app', '--query', 'SecretString', '--output', 'text']).stdout).toBe('typed \uFFFD\n');
    t.git(['reset', '-q', '--hard', 'HEAD~1']);
    expect(t.cli(['trust', '--accept-rewind']).status).toBe(0); // the clone read the newer state: undoing it is a rewind it must accept
    expect(t.snapshot()).toBe(before);
  });

  it('issue 13.1: the library answers ValidationException for a lone surrogate in SecretString; nothing written', async () => {
    const store = await t.open();
    for (const text of ['bad\uD800', '\uDC00x', 'a\uDBFF']) {
      await expect(store.putSecretValue({ SecretId: 'app', SecretString: text })).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("'SecretString'"),
      });
    }
    await expect(store.createSecret({ Name: 'lone', SecretString: '\uD83D' })).rejects.toMatchObject({ name: 'ValidationException' });
    // A well-formed pair (an emoji) is fine: the check is about lone halves only.
    expect(t.snapshot()).toBe(before);
  });

  it('issue 13.1: serve answers ValidationException for a body that is not UTF-8 and for a lone surrogate escape; nothing written', async () => {
    const raw = Buffer.concat([Buffer.from(`{"SecretId":"app","ClientRequestToken":"${T(902)}","SecretString":"bad`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const bytes = await s.signed('PutSecretValue', raw as never);
    expect(bytes.status).toBe(400);
    expect(bytes.json()).toMatchObject({ __type: 'ValidationException', Message: expect.stringContaining(`offset ${raw.indexOf(0xff)}`) });
    const lone = await s.signed('PutSecretValue', `{"SecretId":"app","ClientRequestToken":"${T(903)}","SecretString":"bad\\ud800"}`);
    expect(lone.status).toBe(400);
    expect(lone.json()).toMatchObject({ __type: 'ValidationException', Message: expect.stringContaining('SecretString') });
    expect(t.snapshot()).toBe(before);
  });

  it('invalidUtf8Offset: overlong forms, surrogates, bytes past U+10FFFF and truncated sequences are invalid; all valid text is valid', () => {
    const cases: [number[], number][] = [
      [[0x61, 0xc0, 0x80], 1],
      [[0xe0, 0x80, 0x80], 0],
      [[0xed, 0xa0, 0x80], 0],
      [[0xf4, 0x90, 0x80, 0x80], 0],
      [[0x61, 0x62, 0xf0, 0x9f, 0x98], 2],
      [[0x80], 0],
    ];
    for (const [bytes, at] of cases) expect(invalidUtf8Offset(Uint8Array.from(bytes))).toBe(at);
    expect(invalidUtf8Offset(Buffer.from('héllo \u{1F600} \uFFFD \u{10FFFF}'))).toBe(-1);
  });
});

/** A value of the wrong JSON type for each kind of member, and the words used for it. */
const WRONG: Record<ParamType, { value: unknown; given: string }> = {
  string: { value: 987654321, given: 'number' },
  blob: { value: 987654321, given: 'number' },
  integer: { value: '987654321', given: 'string' },
  boolean: { value: 'secret-looking-text', given: 'string' },
  strings: { value: 'secret-looking-text', given: 'string' },
  tags: { value: { Key: 'secret-looking-text' }, given: 'object' },
  filters: { value: 'secret-looking-text', given: 'string' },
  structure: { value: ['secret-looking-text'], given: 'array' },
  structures: { value: 'secret-looking-text', given: 'string' },
};

const everyMember: [OperationName, Param][] = (Object.keys(operations) as OperationName[]).flatMap((name) =>
  (operations[name].params as readonly Param[]).map((p) => [name, p] as [OperationName, Param]),
);

describe('issue 13.2: members of the wrong type are a parameter validation error, for every member of every operation', () => {
  it('issue 13.2: --cli-input-json {"SecretString":123} exits 252 with one line naming member, type given and expected, not the value (real CLI)', () => {
    const r = t.cli(['put-secret-value', '--cli-input-json', '{"SecretId":"app","SecretString":987654321}']);
    expect(r.status).toBe(252);
    const line = oneLine(r.stderr);
    expect(line).toBe('Parameter validation failed: Invalid type for parameter SecretString in --cli-input-json: got number, expected a string');
    const yaml = t.cli(['put-secret-value', '--cli-input-yaml', 'SecretId: app\nSecretString: [987654321]\n']);
    expect(yaml.status).toBe(252);
    expect(oneLine(yaml.stderr)).toContain('Invalid type for parameter SecretString in --cli-input-yaml: got array, expected a string');
    expect(t.snapshot()).toBe(before);
  });

  it(`issue 13.2: every member of every operation (${everyMember.length}) through --cli-input-json: exit 252, one line, never the value`, async () => {
    for (const [name, p] of everyMember) {
      const op = operations[name];
      const wrong = WRONG[p.type];
      let err = '';
      let out = '';
      const code = await main([op.command, '--cli-input-json', JSON.stringify({ [p.member]: wrong.value })], {
        out: (x) => void (out += x),
        err: (x) => void (err += x),
        env: t.env,
        cwd: t.dir,
      });
      expect({ member: `${name}.${p.member}`, code }).toEqual({ member: `${name}.${p.member}`, code: 252 });
      const line = oneLine(err);
      expect(line).toMatch(new RegExp(`^Parameter validation failed: Invalid type for parameter ${p.member}(\\.1)? in --cli-input-json: got (${wrong.given}|object), expected `));
      expect(line).not.toContain('987654321');
      expect(line).not.toContain('secret-looking-text');
      expect(out).toBe('');
    }
    expect(t.snapshot()).toBe(before);
  });

  it(`issue 13.2: every member of every operation through serve: SerializationException naming member and types, as the CLI does`, async () => {
    for (const [name, p] of everyMember) {
      const wrong = WRONG[p.type];
      const r = await s.signed(name, JSON.stringify({ [p.member]: wrong.value }));
      expect({ member: `${name}.${p.member}`, status: r.status, type: r.json().__type }).toEqual({ member: `${name}.${p.member}`, status: 400, type: 'SerializationException' });
      const message = r.json<{ Message: string }>().Message;
      expect(message).toMatch(new RegExp(`^Expected .+ for member ${p.member}(\\.1)?, got (${wrong.given}|object)$`));
      expect(message).not.toContain('987654321');
    }
    expect(t.snapshot()).toBe(before);
  });

  it('issue 13.2: the library answers ValidationException naming the member and the types for a wrong type', async () => {
    const store = await t.open();
    await expect(store.putSecretValue({ SecretId: 'app', SecretString: 987654321 as never })).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value at 'SecretString' failed to satisfy constraint: Member must be a string (got number)",
    });
    await expect(store.putSecretValue({ SecretId: 'app', SecretBinary: 'AAAA' as never })).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("'SecretBinary'"),
    });
    await expect(store.listSecrets({ MaxResults: '5' as never })).rejects.toMatchObject({ name: 'ValidationException' });
    expect(t.snapshot()).toBe(before);
  });

  it('flags map to members one to one (the CLI line names the member, the flag is its kebab form)', () => {
    expect(flagOf('SecretString')).toBe('secret-string');
  });
});
