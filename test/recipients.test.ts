/**
 * Issue #4 items 1 and 2: `secretstore recipients` / `writers`, re-keying (re-wrapping file keys in the
 * same commit as the config change, values never decrypted) and scoped recipients. Real git, real
 * libsodium, the real CLI; every identity is a file made by `secretstore keygen`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type CliResult, type TestStore } from './helpers/store.js';
import { commitSigned } from './helpers/sign.js';
import type { Store } from '../src/index.js';

let t: TestStore;
let store: Store;

interface Keys {
  file: string;
  publicKey: string;
  writerKey: string;
}

/** A new identity file made by the real `keygen`; its two printed lines are the public and writer keys. */
function keygen(t: TestStore, name: string, writeOnly = false): Keys {
  const file = join(t.base, name);
  const r = t.cli(['keygen', '-o', file, ...(writeOnly ? ['--write-only'] : [])]);
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return { file, publicKey: writeOnly ? '' : lines[0]!, writerKey: lines.at(-1)! };
}

const as = (k: Keys, args: string[], input?: string): CliResult => t.cli(['--identity', k.file, ...args], input === undefined ? {} : { input });
const head = () => t.git(['rev-parse', 'HEAD']).trim();
const commitsSince = (rev: string) => Number(t.git(['rev-list', '--count', `${rev}..HEAD`]).trim());
const sealedFiles = () => t.git(['ls-files', '*.sealed']).trim().split('\n').filter(Boolean);
const field = (text: string, name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1];
/** format, commitment, nonce and payload of every sealed file: a re-key must keep them byte for byte. */
function bodies(): Map<string, string> {
  return new Map(sealedFiles().map((f) => {
    const text = readFileSync(join(t.dir, f), 'utf8');
    return [f, `${field(text, 'format')}|${/^ {2}mac: (.*)$/m.exec(text)?.[1]}|${field(text, 'nonce')}|${field(text, 'payload')}`];
  }));
}
function recipientsOf(file: string): string[] {
  return [...readFileSync(join(t.dir, file), 'utf8').matchAll(/^ {2}- key: (.*)$/gm)].map((m) => m[1]!);
}

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
});
afterAll(() => t.cleanup());

const SECRETS = 30;
const VERSIONS = 3;
const value = (i: number, v: number) => `many-value-${i}-${v}-${'x'.repeat(i)}`;

describe('re-keying (issue #4 item 1)', () => {
  let bob: Keys;

  beforeAll(async () => {
    for (let i = 0; i < SECRETS; i++) {
      const name = `many/s${String(i).padStart(2, '0')}`;
      await store.createSecret({ Name: name, SecretString: value(i, 0) });
      for (let v = 1; v < VERSIONS; v++) await store.putSecretValue({ SecretId: name, SecretString: value(i, v) });
    }
    bob = keygen(t, 'bob');
  });

  /** Every version of every `many/` secret, read with `identity` through the library. */
  async function readAll(identity: string): Promise<Map<string, string>> {
    const s = await t.open({ identity });
    const out = new Map<string, string>();
    for (let i = 0; i < SECRETS; i++) {
      const name = `many/s${String(i).padStart(2, '0')}`;
      const { Versions } = await s.listSecretVersionIds({ SecretId: name, IncludeDeprecated: true });
      for (const v of Versions ?? []) out.set(`${name}@${v.VersionId}`, (await s.getSecretValue({ SecretId: name, VersionId: v.VersionId })).SecretString!);
    }
    return out;
  }

  it(`recipients add re-wraps all ${SECRETS * VERSIONS} versions in exactly one commit; nonces and payloads unchanged; the new recipient reads every value with its own file through the CLI`, async () => {
    const before = head();
    const payloads = bodies();
    const mine = await readAll(t.identity);
    expect(mine.size).toBe(SECRETS * VERSIONS);
    // Made by an identity with a signing key: format /2, whose commitment is in the associated data
    for (const body of payloads.values()) expect(body).toMatch(/^secretstore\.sealed\/2\|[A-Za-z0-9+/]{43}=\|/);

    const r = t.cli(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toEqual({ Name: 'bob', RewrappedVersions: SECRETS * VERSIONS, RewrappedSecrets: SECRETS });
    expect(commitsSince(before)).toBe(1);
    const changed = t.git(['diff', '--name-only', `${before}..HEAD`]).trim().split('\n');
    // the config and every sealed file; no index (secret.yaml carries no signature: the commit signs the new tree)
    expect(changed.sort()).toEqual(['.secretstore.yaml', ...sealedFiles()].sort());
    expect(bodies()).toEqual(payloads);
    for (const f of sealedFiles()) expect(recipientsOf(f)).toContain(bob.publicKey);

    // Bob, with his own identity file, through the CLI: every current value...
    const got = as(bob, ['batch-get-secret-value', '--filters', 'Key=name,Values=many/']);
    expect(got.status, got.stderr).toBe(0);
    const values = got.json<{ SecretValues: { Name: string; SecretString: string }[] }>().SecretValues;
    expect(values).toHaveLength(SECRETS);
    for (const v of values) expect(v.SecretString).toBe(value(Number(v.Name.slice(6)), VERSIONS - 1));
    // ...and every version, old ones included
    expect(await readAll(bob.file)).toEqual(mine);
  });

  it('recipients remove re-wraps without the removed recipient in one commit, lists what it could read, and its own file then opens nothing', async () => {
    const before = head();
    const payloads = bodies();
    const r = t.cli(['recipients', 'remove', '--name', 'bob']);
    expect(r.status, r.stderr).toBe(0);
    const out = r.json<{ CouldRead: string[]; RewrappedVersions: number }>();
    expect(out.RewrappedVersions).toBe(SECRETS * VERSIONS);
    expect(out.CouldRead).toEqual(Array.from({ length: SECRETS }, (_, i) => `many/s${String(i).padStart(2, '0')}`));
    expect(r.stderr).toMatch(/bob could read 30 secret\(s\).*rotate them/);
    expect(commitsSince(before)).toBe(1);
    expect(bodies()).toEqual(payloads);
    for (const f of sealedFiles()) expect(recipientsOf(f)).not.toContain(bob.publicKey);

    for (const name of ['many/s00', 'many/s17', 'many/s29']) {
      const got = as(bob, ['get-secret-value', '--secret-id', name]);
      expect(got.status).not.toBe(0);
      expect(got.stderr).toMatch(/DecryptionFailure.*is a recipient of/);
    }
    await expect(readAll(bob.file)).rejects.toMatchObject({ name: 'DecryptionFailure' });
    expect((await readAll(t.identity)).size).toBe(SECRETS * VERSIONS);
    // Nothing in any commit message is a value
    const log = t.git(['log', '--format=%B']);
    for (let i = 0; i < SECRETS; i++) expect(log).not.toContain(value(i, 0));
  });

  it('a re-key that cannot open a file stops before writing anything and names the file (store unchanged)', async () => {
    // A version sealed to someone else only: what a stale clone or a scoped recipient would meet
    const carol = keygen(t, 'carol');
    const victim = sealedFiles().find((f) => f.startsWith('secrets/many/s05/'))!;
    const path = join(t.dir, victim);
    const text = readFileSync(path, 'utf8');
    const mine = recipientsOf(victim)[0]!;
    writeFileSync(path, text.replace(mine, carol.publicKey));
    await commitSigned(t, 'a file this identity cannot open (committed by a writer: reads see commits only)');
    const snapshot = t.snapshot();
    const r = t.cli(['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(victim);
    expect(r.stderr).toMatch(/DecryptionFailure/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(t.snapshot()).toBe(snapshot);
    writeFileSync(path, text);
    await commitSigned(t, 'restore');
  });

  it('add refuses a duplicate name or key (ResourceExistsException) and a mistyped key (InvalidParameterException), writing nothing', () => {
    const snapshot = t.snapshot();
    const config = readFileSync(join(t.dir, '.secretstore.yaml'), 'utf8');
    const myKey = /publicKey: (secretstore1\S+)/.exec(config)![1]!;
    const dan = keygen(t, 'dan');
    const cases: [string[], RegExp][] = [
      [['--name', 'tester', '--public-key', dan.publicKey], /ResourceExistsException.*named tester already exists/],
      [['--name', 'tester2', '--public-key', myKey], /ResourceExistsException.*already the recipient tester/],
      [['--name', 'dan', '--public-key', `${dan.publicKey.slice(0, -1)}${dan.publicKey.endsWith('q') ? 'p' : 'q'}`], /InvalidParameterException.*checksum/],
      [['--name', 'dan', '--public-key', dan.writerKey], /InvalidParameterException/],
    ];
    for (const [args, message] of cases) {
      const r = t.cli(['recipients', 'add', ...args]);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
    expect(t.cli(['recipients', 'remove', '--name', 'tester']).stderr).toMatch(/InvalidRequestException.*last recipient/);
    expect(t.cli(['recipients', 'remove', '--name', 'nobody']).stderr).toMatch(/ResourceNotFoundException/);
    expect(t.snapshot()).toBe(snapshot);
  });

  it('only someone who can decrypt can re-wrap: a write-only identity gets a clear error and nothing changes', () => {
    const ci = keygen(t, 'ci-rekey', true);
    const erin = keygen(t, 'erin');
    const snapshot = t.snapshot();
    const r = as(ci, ['recipients', 'add', '--name', 'erin', '--public-key', erin.publicKey]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/InvalidRequestException.*no decryption key.*only a recipient can re-wrap/);
    expect(t.snapshot()).toBe(snapshot);
  });
});

describe('scoped recipients (issue #4 item 2)', () => {
  let ops: Keys;
  let dev: Keys;

  beforeAll(() => {
    ops = keygen(t, 'ops');
    dev = keygen(t, 'dev');
    expect(t.cli(['recipients', 'add', '--name', 'ops', '--public-key', ops.publicKey, '--scope', 'prod/']).status).toBe(0);
    expect(t.cli(['recipients', 'add', '--name', 'dev', '--public-key', dev.publicKey, '--scope', 'dev/', 'staging/']).status).toBe(0);
  });

  it('new versions are sealed to exactly the recipients whose scope covers the secret: prod/ is readable by ops, not by a dev-only recipient', () => {
    expect(t.cli(['create-secret', '--name', 'prod/db', '--secret-string', '-'], { input: 'prod-pw' }).status).toBe(0);
    expect(t.cli(['create-secret', '--name', 'dev/db', '--secret-string', '-'], { input: 'dev-pw' }).status).toBe(0);
    expect(as(ops, ['get-secret-value', '--secret-id', 'prod/db', '--query', 'SecretString', '--output', 'text']).stdout.trim()).toBe('prod-pw');
    const denied = as(dev, ['get-secret-value', '--secret-id', 'prod/db']);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/DecryptionFailure/);
    expect(as(dev, ['get-secret-value', '--secret-id', 'dev/db', '--query', 'SecretString', '--output', 'text']).stdout.trim()).toBe('dev-pw');
    expect(as(ops, ['get-secret-value', '--secret-id', 'dev/db']).status).not.toBe(0);
    const list = t.cli(['recipients', 'list']).json<{ Recipients: { Name: string; Scope?: string[] }[] }>().Recipients;
    expect(list.find((r) => r.Name === 'dev')?.Scope).toEqual(['dev/', 'staging/']);
  });

  it('a scope change re-wraps the versions that gain or lose the recipient, in one commit', () => {
    const before = head();
    const r = t.cli(['recipients', 'set-scope', '--name', 'dev', '--scope', 'dev/', 'prod/']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ RewrappedSecrets: 1 });
    expect(commitsSince(before)).toBe(1);
    expect(as(dev, ['get-secret-value', '--secret-id', 'prod/db', '--query', 'SecretString', '--output', 'text']).stdout.trim()).toBe('prod-pw');
    expect(t.cli(['recipients', 'set-scope', '--name', 'dev', '--scope', 'dev/']).status).toBe(0);
    expect(as(dev, ['get-secret-value', '--secret-id', 'prod/db']).status).not.toBe(0);
  });

  it('recipients rekey brings files in line with a hand-edited .secretstore.yaml in one commit, and with nothing to do makes no commit', () => {
    const file = join(t.dir, '.secretstore.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/(- name: dev\n {4}publicKey: \S+\n {4}scope:\n)/, '$1      - prod/\n'));
    // a hand edit of the configuration is committed signed (issue #4 item 4), then the files follow it
    expect(t.cli(['sign', '--config', '-m', 'dev may read prod (hand edit)']).status).toBe(0);
    const before = head();
    const r = t.cli(['recipients', 'rekey']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ RewrappedSecrets: 1 });
    expect(commitsSince(before)).toBe(1);
    // secret.yaml carries no signature any more (the commit does), so only the re-wrapped sealed file changes
    expect(t.git(['diff', '--name-only', 'HEAD~1..HEAD']).trim()).toMatch(/^secrets\/prod\/db\/versions\/\S+\.sealed$/);
    expect(as(dev, ['get-secret-value', '--secret-id', 'prod/db', '--query', 'SecretString', '--output', 'text']).stdout.trim()).toBe('prod-pw');
    const again = t.cli(['recipients', 'rekey']);
    expect(again.json()).toEqual({ RewrappedVersions: 0, RewrappedSecrets: 0 });
    expect(commitsSince(before)).toBe(1);
    expect(t.cli(['recipients', 'set-scope', '--name', 'dev', '--scope', 'dev/']).status).toBe(0);
  });

  it('a re-key reports its progress (the progress line on a terminal): one tick per secret, then done', async () => {
    const { rekeyStore } = await import('../src/team/rekey.js');
    const seen: { label: string; total: number | undefined; ticks: number; done: boolean }[] = [];
    const factory = (label: string, total: number | undefined) => {
      const bar = { label, total, ticks: 0, done: false };
      seen.push(bar);
      return { tick: (n = 1) => void (bar.ticks += n), done: () => void (bar.done = true) };
    };
    const secrets = (await store.listSecrets({})).SecretList?.length;
    await rekeyStore((await t.open()).client, factory);
    expect(seen).toEqual([{ label: 're-key', total: secrets, ticks: secrets, done: true }]);
  });

  it('a write to a secret no recipient covers is refused (nobody could read it), store unchanged', () => {
    expect(t.cli(['recipients', 'set-scope', '--name', 'tester', '--scope', 'many/', 'prod/', 'dev/']).status).toBe(0);
    const snapshot = t.snapshot();
    const r = t.cli(['create-secret', '--name', 'misc/orphan', '--secret-string', '-'], { input: 'x' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/InvalidRequestException.*no recipient.*covering secret misc\/orphan/);
    expect(t.snapshot()).toBe(snapshot);
    expect(t.cli(['recipients', 'set-scope', '--name', 'tester', '--all']).status).toBe(0);
  });
});

describe('writers (issue #4 item 1)', () => {
  it('writers add/remove change only .secretstore.yaml, in one commit each; duplicates and the last writer are refused', () => {
    const ci = keygen(t, 'ci-writer', true);
    const before = head();
    const r = t.cli(['writers', 'add', '--name', 'ci', '--writer-key', ci.writerKey, '--scope', 'prod/']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toEqual({ Name: 'ci', WriterKey: ci.writerKey });
    expect(t.git(['diff', '--name-only', `${before}..HEAD`]).trim()).toBe('.secretstore.yaml');
    expect(t.cli(['writers', 'list']).json<{ Writers: unknown[] }>().Writers).toContainEqual({ Name: 'ci', WriterKey: ci.writerKey, Scope: ['prod/'] });
    const snapshot = t.snapshot();
    expect(t.cli(['writers', 'add', '--name', 'ci', '--writer-key', keygen(t, 'other', true).writerKey]).stderr).toMatch(/ResourceExistsException/);
    expect(t.cli(['writers', 'add', '--name', 'ci2', '--writer-key', ci.writerKey]).stderr).toMatch(/ResourceExistsException/);
    expect(t.cli(['writers', 'add', '--name', 'ci3', '--writer-key', 'secretstoresig1qqqq']).stderr).toMatch(/InvalidParameterException/);
    expect(t.snapshot()).toBe(snapshot);
    expect(t.cli(['writers', 'remove', '--name', 'ci']).status).toBe(0);
    expect(commitsSince(before)).toBe(2);
    expect(t.cli(['writers', 'remove', '--name', 'tester']).stderr).toMatch(/InvalidRequestException.*last writer/);
  });
});

describe('recipients remove --rotate (issue #4 item 1)', () => {
  it('rotates the exposed secrets that have rotation configured and lists the others with the command to change them by hand', async () => {
    const ss = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(process.cwd(), 'dist/secretstore.js'))}`;
    const script = join(t.base, 'rotate.sh');
    writeFileSync(
      script,
      `#!/bin/sh
set -eu
ss() { ${ss} "$@"; }
id="$SECRETSTORE_SECRET_ID"; token="$SECRETSTORE_CLIENT_REQUEST_TOKEN"
case "$SECRETSTORE_STEP" in
createSecret)
  ss get-random-password --exclude-punctuation --query RandomPassword --output text |
    ss put-secret-value --secret-id "$id" --client-request-token "$token" --version-stages AWSPENDING --secret-string - --rotation-token "$SECRETSTORE_ROTATION_TOKEN" > /dev/null ;;
finishSecret)
  current=$(ss list-secret-version-ids --secret-id "$id" --query "Versions[?contains(VersionStages, 'AWSCURRENT')].VersionId | [0]" --output text)
  [ "$current" = "$token" ] || ss update-secret-version-stage --secret-id "$id" --version-stage AWSCURRENT --move-to-version-id "$token" --remove-from-version-id "$current" > /dev/null ;;
esac
`,
    );
    const frank = keygen(t, 'frank');
    expect(t.cli(['recipients', 'add', '--name', 'frank', '--public-key', frank.publicKey, '--scope', 'rot/']).status).toBe(0);
    await store.createSecret({ Name: 'rot/auto', SecretString: 'old-auto' });
    await store.createSecret({ Name: 'rot/manual', SecretString: 'old-manual' });
    const r0 = t.cli(['rotate-secret', '--secret-id', 'rot/auto', '--rotation-lambda-arn', `sh '${script}'`, '--rotation-rules', 'AutomaticallyAfterDays=30']);
    expect(r0.status, r0.stderr).toBe(0);
    const rotated = (await store.getSecretValue({ SecretId: 'rot/auto' })).SecretString;

    const r = t.cli(['recipients', 'remove', '--name', 'frank', '--rotate']);
    expect(r.status, r.stderr).toBe(0);
    const out = r.json<{ CouldRead: string[]; Rotated: string[]; RotateByHand: { Name: string; Command: string }[] }>();
    expect(out.CouldRead).toEqual(['rot/auto', 'rot/manual']);
    expect(out.Rotated).toEqual(['rot/auto']);
    expect(out.RotateByHand).toEqual([{ Name: 'rot/manual', Command: 'secretstore put-secret-value --secret-id rot/manual --secret-string -' }]);
    // A new value for rot/auto, nobody invented one for rot/manual
    expect((await store.getSecretValue({ SecretId: 'rot/auto' })).SecretString).not.toBe(rotated);
    expect((await store.getSecretValue({ SecretId: 'rot/manual' })).SecretString).toBe('old-manual');
    // The new value is sealed to the recipients left, not to frank
    const denied = as(frank, ['get-secret-value', '--secret-id', 'rot/auto']);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/DecryptionFailure.*is a recipient of/);
  });
});

describe('recipients and writers, the pure edits (src/core/recipients.ts)', async () => {
  const core = await import('../src/core/recipients.js');
  const config = {
    format: 1 as const,
    storeId: 's',
    region: 'us-east-1',
    account: '000000000000',
    recipients: [
      { name: 'all', publicKey: 'k-all' },
      { name: 'ops', publicKey: 'k-ops', scope: ['prod/'] },
    ],
    writers: [{ name: 'all', writerKey: 'w-all' }],
    policy: { pruneAbove: 100, minVersionAgeHours: 24, versionQuota: 500, defaultRecoveryWindowInDays: 30 },
  };

  it('recipientsFor: exactly the recipients whose scope (a name prefix) covers the secret (issue #4 item 2)', () => {
    expect(core.recipientsFor(config, 'prod/db').map((r) => r.name)).toEqual(['all', 'ops']);
    expect(core.recipientsFor(config, 'production').map((r) => r.name)).toEqual(['all']);
    const scopedOnly = { recipients: [{ name: 'ops', publicKey: 'k', scope: ['prod/'] }] };
    expect(() => core.requireRecipientsFor(scopedOnly, 'dev/x')).toThrow(/nobody could read it/);
  });

  it('add refuses duplicates by name or key; remove and set-scope name a missing entry; the last recipient or writer stays', () => {
    expect(() => core.addRecipient(config, 'all', 'k-new')).toThrow(expect.objectContaining({ name: 'ResourceExistsException' }));
    expect(() => core.addRecipient(config, 'new', 'k-ops')).toThrow(expect.objectContaining({ name: 'ResourceExistsException' }));
    expect(() => core.addRecipient(config, 'bad name!', 'k-new')).toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
    expect(() => core.addRecipient(config, 'x', 'k-x', [])).toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
    expect(core.addRecipient(config, 'dev', 'k-dev', ['dev/', 'dev/']).recipients.at(-1)).toEqual({ name: 'dev', publicKey: 'k-dev', scope: ['dev/'] });
    expect(() => core.removeRecipient(config, 'nobody')).toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
    expect(core.removeRecipient(config, 'ops').removed.publicKey).toBe('k-ops');
    expect(() => core.removeWriter(config, 'all')).toThrow(/last writer/);
    expect(core.setRecipientScope(config, 'ops', undefined).recipients[1]).toEqual({ name: 'ops', publicKey: 'k-ops' });
    expect(core.sameKeySet(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(core.sameKeySet(['a', 'b'], ['a'])).toBe(false);
  });
});

describe('rewrapEnvelope (src/crypto/envelope.ts)', async () => {
  const c = await import('../src/crypto/index.js');
  await c.cryptoReady();
  const ids = () => {
    const g = c.generateIdentity();
    const line = (p: string) => g.identityText.split('\n').find((l) => l.startsWith(p))!;
    return { identity: c.identityFromText(line('SECRETSTORE-SECRET-KEY-1'), 'id'), signer: c.signerFromText(line('SECRETSTORE-SIGNING-KEY-1'), 'id') };
  };
  const [a, b, x] = [ids(), ids(), ids()];
  const binding = { storeId: 's', secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:r-abcdef', versionId: 'v1' };
  const value = { type: 'string' as const, text: 'kept byte for byte' };
  const to = (...who: (typeof a)[]) => who.map((w) => c.parseRecipient(w.identity.publicKey));
  const stanza = (text: string, key: string) => new RegExp(`- key: ${key}\\n {4}sealed: (\\S+)`).exec(text)?.[1];

  it('re-wraps to the new set: nonce, payload and commitment unchanged, kept stanzas unchanged, the removed one gone, the value still authenticates', () => {
    const sealed = c.sealValue(value, binding, to(a, x), a.signer);
    const text = c.rewrapEnvelope(sealed, binding, [a.identity], to(a, b), 'f');
    for (const line of ['nonce', 'payload', '  mac', 'format']) {
      expect(new RegExp(`^${line}: .*$`, 'm').exec(text)![0]).toBe(new RegExp(`^${line}: .*$`, 'm').exec(sealed)![0]);
    }
    expect(stanza(text, a.identity.publicKey)).toBe(stanza(sealed, a.identity.publicKey));
    expect(stanza(text, x.identity.publicKey)).toBeUndefined();
    expect(c.openValue(text, binding, [b.identity], 'f')).toEqual(value);
    expect(() => c.openValue(text, binding, [x.identity], 'f')).toThrow(/is a recipient of/);
    expect(c.compareCommitment(text, binding, value, [a.signer], 'f')).toBe('same');
  });

  it('refuses a file it cannot open (naming it) and one bound to another secret', () => {
    const sealed = c.sealValue(value, binding, to(x));
    expect(() => c.rewrapEnvelope(sealed, binding, [a.identity], to(a, b), 'secrets/r/versions/v1.sealed')).toThrow(/secrets\/r\/versions\/v1\.sealed/);
    const mine = c.sealValue(value, binding, to(a));
    expect(() => c.rewrapEnvelope(mine, { ...binding, versionId: 'v2' }, [a.identity], to(a, b), 'f')).toThrow(/belongs to version v1/);
  });
});
