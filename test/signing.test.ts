/**
 * Signed changes (issue #4, item 4): every change secretstore commits is signed by a trusted writer, and
 * reads refuse a label index or sealed file whose latest change is not, unless --allow-unsigned.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { CONFIG_FILE, parseConfig } from '../src/core/codec.js';
import { indexPath, versionPath } from '../src/core/layout.js';
import { appendSignature, checkSigned, sha256Hex, splitSigned } from '../src/core/signature.js';
import { cryptoReady, parseRecipient, readIdentityFile, sealValue } from '../src/crypto/index.js';
import { verifyWriter } from '../src/shell/trust.js';

let t: TestStore;
let other: string;

beforeAll(() => {
  t = makeStore();
  other = join(t.base, 'mallory.identity');
  expect(t.cli(['keygen', '-o', other]).status).toBe(0);
});
afterAll(() => t.cleanup());

const read = (path: string) => readFileSync(join(t.dir, path), 'utf8');
const config = () => parseConfig(read(CONFIG_FILE), CONFIG_FILE);
const labels = (name: string) => {
  const text = read(indexPath(name));
  return { current: /AWSCURRENT: (\S+)/.exec(text)![1]!, previous: /AWSPREVIOUS: (\S+)/.exec(text)?.[1] };
};
/** Whether a file as committed at `rev` carries a valid signature by a writer trusted for `name`. */
const signedAt = (rev: string, path: string, name: string | undefined) => {
  const text = t.git(['show', `${rev}:${path}`]);
  return checkSigned(splitSigned(text), { storeId: config().storeId, path, name }, config().writers, verifyWriter);
};
/** A label move made by hand: AWSCURRENT and AWSPREVIOUS swapped (the rollback the issue names). */
const rollBack = (text: string) => {
  const cur = /AWSCURRENT: (\S+)/.exec(text)![1]!;
  const prev = /AWSPREVIOUS: (\S+)/.exec(text)![1]!;
  return text.replace(`AWSCURRENT: ${cur}`, 'AWSCURRENT: @').replace(`AWSPREVIOUS: ${prev}`, `AWSPREVIOUS: ${cur}`).replace('AWSCURRENT: @', `AWSCURRENT: ${prev}`);
};
const commitByHand = (message: string) => t.git(['commit', '-q', '--no-verify', '-am', message]);
const get = (name: string, extra: string[] = []) => t.cli([...extra, 'get-secret-value', '--secret-id', name, '--query', 'SecretString', '--output', 'text']);

describe('every change secretstore commits is signed, and reads accept it (issue item 4)', () => {
  it('init signs the first configuration with the writer it names (the root of trust)', () => {
    const verdict = signedAt('HEAD', CONFIG_FILE, undefined);
    expect(verdict).toMatchObject({ ok: true, writer: { name: 'tester' } });
    expect(splitSigned(read(CONFIG_FILE)).block?.previous).toBeNull();
  });

  it('create, put, update, label move, tag and delete/restore each commit a signed index; reads accept them', () => {
    const steps: string[][] = [
      ['create-secret', '--name', 'app/db', '--secret-string', 'v1'],
      ['put-secret-value', '--secret-id', 'app/db', '--secret-string', 'v2'],
      ['update-secret', '--secret-id', 'app/db', '--description', 'the database'],
      ['tag-resource', '--secret-id', 'app/db', '--tags', 'Key=team,Value=ops'],
      ['delete-secret', '--secret-id', 'app/db'],
      ['restore-secret', '--secret-id', 'app/db'],
    ];
    for (const step of steps) {
      const r = t.cli(step, { env: { SECRETSTORE_NO_WARN: '1' } });
      expect(r.status, r.stderr).toBe(0);
      const verdict = signedAt('HEAD', indexPath('app/db'), 'app/db');
      expect(verdict.ok, `${step[0]}: ${verdict.ok ? '' : verdict.why}`).toBe(true);
    }
    const { current, previous } = labels('app/db');
    const move = t.cli(['update-secret-version-stage', '--secret-id', 'app/db', '--version-stage', 'AWSCURRENT', '--move-to-version-id', previous!, '--remove-from-version-id', current]);
    expect(move.status, move.stderr).toBe(0);
    const verdict = signedAt('HEAD', indexPath('app/db'), 'app/db');
    expect(verdict.ok).toBe(true);
    // The signature lists every live sealed file's hash, and chains to the state before.
    const block = splitSigned(read(indexPath('app/db'))).block!;
    expect(Object.keys(block.files!).sort()).toEqual([current, previous].sort());
    expect(block.files![current]).toBe(sha256Hex(readFileSync(join(t.dir, versionPath('app/db', current)))));
    expect(block.previous).toBe(sha256Hex(splitSigned(t.git(['show', `HEAD~1:${indexPath('app/db')}`])).unsigned));
    expect(get('app/db').stdout).toBe('v1\n');
    expect(t.cli(['describe-secret', '--secret-id', 'app/db']).status).toBe(0);
    expect(t.cli(['list-secrets']).status).toBe(0);
  });
});

describe('reads refuse what no trusted writer signed, unless --allow-unsigned (issue item 4)', () => {
  it('a label rolled back by hand and committed with --no-verify is refused by get, describe and list', () => {
    t.cli(['create-secret', '--name', 'prod/api', '--secret-string', 'old']);
    t.cli(['put-secret-value', '--secret-id', 'prod/api', '--secret-string', 'new']);
    const file = join(t.dir, indexPath('prod/api'));
    const signed = readFileSync(file, 'utf8');
    writeFileSync(file, rollBack(signed));
    commitByHand('roll back by hand');
    const before = t.snapshot();
    for (const args of [['get-secret-value', '--secret-id', 'prod/api'], ['describe-secret', '--secret-id', 'prod/api'], ['list-secrets']]) {
      const r = t.cli(args);
      expect(r.status).toBe(254);
      expect(r.stderr).toContain('(InvalidRequestException)');
      expect(r.stderr).toContain(`secret 'prod/api': ${indexPath('prod/api')} has a signature by tester that does not match its content`);
      expect(r.stderr).toContain('--allow-unsigned');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // The same edit with the signature block removed: "not signed".
    writeFileSync(file, splitSigned(rollBack(signed)).unsigned);
    commitByHand('roll back by hand, unsigned');
    expect(get('prod/api').stderr).toContain(`${indexPath('prod/api')} is not signed`);
    expect(t.snapshot()).not.toBe(before); // (the second hand commit)
  });

  it('--allow-unsigned reads it anyway, with a warning on stderr', () => {
    const r = get('prod/api', ['--allow-unsigned']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('old\n');
    expect(r.stderr).toMatch(/^warning: secret 'prod\/api': .* is not signed .*used anyway because of --allow-unsigned\n$/);
  });

  it('the same rollback signed by a key that is not a trusted writer is refused', async () => {
    await cryptoReady();
    const [mallory] = (await readIdentityFile(other)).signers;
    const file = join(t.dir, indexPath('prod/api'));
    const { unsigned } = splitSigned(readFileSync(file, 'utf8'));
    const path = indexPath('prod/api');
    writeFileSync(file, appendSignature(unsigned, { storeId: config().storeId, path, previous: null, files: {}, key: mallory!.publicKey, writer: 'tester', date: new Date().toISOString() }, (m) => mallory!.sign(m)));
    commitByHand('signed by mallory');
    const r = get('prod/api');
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('which is not a writer trusted for secret');
  });

  it("a sealed file swapped for one an attacker sealed with the store's public keys is refused", async () => {
    t.cli(['create-secret', '--name', 'prod/token', '--secret-string', 'real']);
    const { current } = labels('prod/token');
    const arn = /^arn: (\S+)$/m.exec(read(indexPath('prod/token')))![1]!;
    await cryptoReady();
    // Everything the attacker needs is public: recipients, store id, ARN, VersionId.
    const fake = sealValue({ type: 'string', text: 'attacker' }, { storeId: config().storeId, secretArn: arn, versionId: current }, config().recipients.map((r) => parseRecipient(r.publicKey)));
    writeFileSync(join(t.dir, versionPath('prod/token', current)), fake);
    commitByHand('swap the sealed file');
    const r = get('prod/token');
    expect(r.status).toBe(254);
    expect(r.stderr).toContain(`(DecryptionFailure)`);
    expect(r.stderr).toContain(`${versionPath('prod/token', current)} is not the sealed file its signed index lists`);
    expect(r.stdout).toBe('');
    const allowed = get('prod/token', ['--allow-unsigned']);
    expect(allowed.stdout).toBe('attacker\n');
    expect(allowed.stderr).toContain('warning:');
  });
});

describe('writes refuse a key that is not a trusted writer, before writing anything (issue item 4)', () => {
  it('an identity not under writers: AccessDeniedException, store unchanged', () => {
    // Mallory is made a recipient by hand... (unsigned config edits are refused later; here the write itself is)
    const before = t.snapshot();
    const r = t.cli(['--identity', other, 'create-secret', '--name', 'mallory/x', '--secret-string', 'x']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('(AccessDeniedException)');
    expect(r.stderr).toContain("is not a writer trusted for secret 'mallory/x'");
    expect(t.snapshot()).toBe(before);
  });

  it('an identity file without a signing key: AccessDeniedException, store unchanged', () => {
    const keyOnly = join(t.base, 'decrypt-only.identity');
    const line = readFileSync(t.identity, 'utf8').split('\n').find((l) => l.startsWith('SECRETSTORE-SECRET-KEY-1'))!;
    writeFileSync(keyOnly, `${line}\n`, { mode: 0o600 });
    const before = t.snapshot();
    const r = t.cli(['--identity', keyOnly, 'put-secret-value', '--secret-id', 'app/db', '--secret-string', 'x']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('(AccessDeniedException)');
    expect(r.stderr).toContain('holds no signing key');
    expect(t.snapshot()).toBe(before);
  });

  it('a writer scoped to prod/ cannot sign a change to dev/', async () => {
    // (made a scoped writer by a signed config change, through the library's resign helper)
    const { resign } = await import('./helpers/sign.js');
    const scoped = join(t.base, 'scoped.identity');
    const key = t.cli(['keygen', '-o', scoped]).stdout.trim().split('\n')[1]!;
    writeFileSync(join(t.dir, CONFIG_FILE), splitSigned(read(CONFIG_FILE)).unsigned.replace('policy:', `  - name: ops\n    writerKey: ${key}\n    scope:\n      - prod/\npolicy:`));
    await resign(t, [CONFIG_FILE]);
    commitByHand('add a scoped writer');
    expect(t.cli(['--identity', scoped, 'create-secret', '--name', 'prod/ops-only', '--secret-string', 'x']).status).toBe(0);
    const r = t.cli(['--identity', scoped, 'create-secret', '--name', 'dev/other', '--secret-string', 'x']);
    expect(r.stderr).toContain('(AccessDeniedException)');
    // ...and a change to the configuration needs an unscoped writer.
    writeFileSync(join(t.dir, CONFIG_FILE), read(CONFIG_FILE).replace('pruneAbove: 100', 'pruneAbove: 99'));
    await expect(resign(t, [CONFIG_FILE], { identity: scoped })).rejects.toMatchObject({ name: 'AccessDeniedException' });
    t.git(['checkout', '--', CONFIG_FILE]);
  });
});

describe('reads refuse a replayed signed index (issue item 4: a label rolled back to an old, validly signed state)', () => {
  it('an old signed secret.yaml restored in a new commit is refused by get and describe; the states this clone wrote read fast', () => {
    t.cli(['create-secret', '--name', 'replay/me', '--secret-string', 'one']);
    const path = indexPath('replay/me');
    const old = read(path); // signed by tester, previous: null
    t.cli(['put-secret-value', '--secret-id', 'replay/me', '--secret-string', 'two']);
    expect(get('replay/me').stdout).toBe('two\n');
    // Restore the old state; keep the new version's file so nothing but the chain is wrong.
    const newId = labels('replay/me').current;
    writeFileSync(join(t.dir, path), old);
    t.git(['rm', '-q', versionPath('replay/me', newId)]);
    commitByHand('restore the old index');
    for (const args of [['get-secret-value', '--secret-id', 'replay/me'], ['describe-secret', '--secret-id', 'replay/me']]) {
      const r = t.cli(args);
      expect(r.status).toBe(254);
      expect(r.stderr).toContain(`secret 'replay/me': ${path} is a signed state that does not follow the one it replaced`);
    }
    const allowed = get('replay/me', ['--allow-unsigned']);
    expect(allowed.stdout).toBe('one\n');
    expect(allowed.stderr).toContain('a replay?');
  });

  it('a state pulled from another clone (not written here) is checked against git once and accepted', () => {
    const clone = join(t.base, 'clone');
    t.git(['clone', '-q', t.dir, clone]);
    const r = t.cli(['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text'], { cwd: clone });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('v1\n');
    // Remembered: the clone's per-path record of the last state it verified.
    expect(readdirSync(join(clone, '.git', 'secretstore-cache', 'known')).length).toBeGreaterThan(0);
  });

  it('a shallow clone (a depth-1 CI checkout) reads: the chain cannot be checked there, so it is accepted', () => {
    const shallow = join(t.base, 'shallow');
    t.git(['clone', '-q', '--depth', '1', `file://${t.dir}`, shallow]);
    const r = t.cli(['get-secret-value', '--secret-id', 'app/db', '--query', 'SecretString', '--output', 'text'], { cwd: shallow });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('v1\n');
  });
});
