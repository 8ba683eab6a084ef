import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { commitSigned } from './helpers/sign.js';
import type { Store } from '../src/index.js';
import { indexPath, versionPath, versionsDir } from '../src/core/layout.js';

const T = (n: number) => `22222222-0000-4000-8000-${String(n).padStart(12, '0')}`;
const PLAINTEXT = 'plaintext-needle-7f3a9c';
let t: TestStore;
let store: Store;

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
});
afterAll(() => t.cleanup());

/**
 * Reads see committed content only (src/store/commit-view.ts): a tampered file is committed, signed by the
 * writer, so the history is authentic and what is tested is the crypto binding or the index check itself.
 * `undo` commits the state before back (forward, signed: this clone never goes backwards).
 */
async function tamper(edit: () => void): Promise<{ undo: () => Promise<void> }> {
  const good = t.git(['rev-parse', 'HEAD']).trim();
  edit();
  await commitSigned(t, 'tampered by a writer');
  return {
    undo: async () => {
      t.git(['read-tree', '--reset', '-u', good]);
      await commitSigned(t, 'undo the tampering');
    },
  };
}

describe('one atomic commit per change, and no value in git', () => {
  it('a put commits exactly the version file and the index, with the moves and no value in the message', async () => {
    await store.createSecret({ Name: 'commit-level', SecretString: `${PLAINTEXT}-0`, ClientRequestToken: T(0) });
    const before = t.git(['rev-parse', 'HEAD']).trim();
    await store.putSecretValue({ SecretId: 'commit-level', SecretString: `${PLAINTEXT}-1`, ClientRequestToken: T(1) });
    expect(t.git(['rev-list', '--count', `${before}..HEAD`]).trim()).toBe('1');
    const files = t.git(['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort();
    expect(files).toEqual([indexPath('commit-level'), versionPath('commit-level', T(1))].sort());
    const message = t.git(['log', '-1', '--format=%B']);
    expect(message).toContain(`put-secret-value commit-level: new version ${T(1)}`);
    expect(message).toContain(`AWSCURRENT: ${T(0)} -> ${T(1)}`);
    expect(message).toContain(`AWSPREVIOUS: (none) -> ${T(0)}`);
    expect(t.git(['status', '--porcelain'])).toBe('');
  });

  it('searching every git object for the plaintext finds nothing', () => {
    const objects = t.git(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']).trim().split('\n');
    const all = execFileSync('git', ['cat-file', '--batch'], { cwd: t.dir, input: objects.join('\n') + '\n', maxBuffer: 1 << 28 });
    expect(all.includes(Buffer.from(PLAINTEXT))).toBe(false);
    expect(all.includes(Buffer.from('commit-level'))).toBe(true); // the search does see the objects
  });

  it('a user\'s own staged change stays staged and out of secretstore\'s commit', async () => {
    writeFileSync(join(t.dir, 'notes.txt'), 'mine');
    t.git(['add', 'notes.txt']);
    await store.putSecretValue({ SecretId: 'commit-level', SecretString: 'x', ClientRequestToken: T(2) });
    expect(t.git(['show', '--name-only', '--format=', 'HEAD'])).not.toContain('notes.txt');
    expect(t.git(['status', '--porcelain']).trim()).toBe('A  notes.txt');
    t.git(['commit', '-qm', 'notes']);
  });
});

describe('tampering is caught, never answered with another value', () => {
  it('swapping two version files gives DecryptionFailure', async () => {
    await store.createSecret({ Name: 'swap', SecretString: 'first', ClientRequestToken: T(0) });
    await store.putSecretValue({ SecretId: 'swap', SecretString: 'second', ClientRequestToken: T(1) });
    const a = join(t.dir, versionPath('swap', T(0)));
    const b = join(t.dir, versionPath('swap', T(1)));
    const [ta, tb] = [readFileSync(a), readFileSync(b)];
    const { undo } = await tamper(() => {
      writeFileSync(a, tb);
      writeFileSync(b, ta);
    });
    await expect(store.getSecretValue({ SecretId: 'swap' })).rejects.toMatchObject({ name: 'DecryptionFailure' });
    await expect(store.getSecretValue({ SecretId: 'swap', VersionId: T(0) })).rejects.toMatchObject({ name: 'DecryptionFailure' });
    await undo();
  });

  it('a version file copied from another secret gives DecryptionFailure', async () => {
    await store.createSecret({ Name: 'victim', SecretString: 'victim-value', ClientRequestToken: T(0) });
    await store.createSecret({ Name: 'attacker', SecretString: 'attacker-value', ClientRequestToken: T(0) });
    const { undo } = await tamper(() => writeFileSync(join(t.dir, versionPath('victim', T(0))), readFileSync(join(t.dir, versionPath('attacker', T(0))))));
    await expect(store.getSecretValue({ SecretId: 'victim' })).rejects.toMatchObject({ name: 'DecryptionFailure' });
    await undo();
  });

  it('editing one byte of a sealed file gives DecryptionFailure', async () => {
    const file = join(t.dir, versionPath('swap', T(1)));
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('payload: ') + 12;
    const { undo } = await tamper(() => writeFileSync(file, text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)));
    await expect(store.getSecretValue({ SecretId: 'swap' })).rejects.toMatchObject({ name: 'DecryptionFailure' });
    await undo();
  });

  it('a truncated sealed file gives DecryptionFailure naming the file', async () => {
    const file = join(t.dir, versionPath('swap', T(1)));
    const { undo } = await tamper(() => writeFileSync(file, readFileSync(file).subarray(0, 200)));
    await expect(store.getSecretValue({ SecretId: 'swap' })).rejects.toMatchObject({
      name: 'DecryptionFailure',
      message: expect.stringContaining(versionPath('swap', T(1))),
    });
    await undo();
  });

  it('an identity that is not a recipient gets DecryptionFailure naming the identity tried', async () => {
    const other = join(t.base, 'other-identity');
    expect(t.cli(['keygen', '-o', other]).status).toBe(0);
    const outsider = await t.open({ identity: other });
    await expect(outsider.getSecretValue({ SecretId: 'swap' })).rejects.toMatchObject({
      name: 'DecryptionFailure',
      message: expect.stringContaining(other),
    });
  });
});

describe('a damaged label index is a clear error naming the file, and changes nothing', () => {
  it('malformed YAML', async () => {
    await store.createSecret({ Name: 'damaged', SecretString: 'x', ClientRequestToken: T(0) });
    const file = join(t.dir, indexPath('damaged'));
    const { undo } = await tamper(() => writeFileSync(file, 'name: [unclosed\n'));
    const before = t.snapshot();
    await expect(store.getSecretValue({ SecretId: 'damaged' })).rejects.toMatchObject({
      name: 'InternalServiceError',
      message: expect.stringContaining(`${indexPath('damaged')} is damaged`),
    });
    await expect(store.putSecretValue({ SecretId: 'damaged', SecretString: 'y' })).rejects.toMatchObject({ name: 'InternalServiceError' });
    expect(t.snapshot()).toBe(before);
    await undo();
  });

  it('a label pointing at a missing version', async () => {
    const file = join(t.dir, indexPath('damaged'));
    const { undo } = await tamper(() => writeFileSync(file, readFileSync(file, 'utf8').replace(`AWSCURRENT: ${T(0)}`, `AWSCURRENT: ${T(9)}`)));
    await expect(store.describeSecret({ SecretId: 'damaged' })).rejects.toMatchObject({
      message: expect.stringContaining(`label AWSCURRENT points at version ${T(9)}`),
    });
    await undo();
  });

  it('a version file renamed (no index entry; the listed version has no sealed file)', async () => {
    const dir = join(t.dir, versionsDir('damaged'));
    const [file] = readdirSync(dir);
    const { undo } = await tamper(() => renameSync(join(dir, file!), join(dir, 'stray.sealed')));
    await expect(store.getSecretValue({ SecretId: 'damaged' })).rejects.toMatchObject({
      message: expect.stringContaining(`${indexPath('damaged')} is damaged: version ${T(0)} has no sealed file`),
    });
    // Reads open only what the index lists; the stray file itself is verify's finding.
    const verify = t.cli(['verify']);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain(`FINDING ${versionsDir('damaged')}/stray.sealed: has no entry in ${indexPath('damaged')}`);
    await undo();
  });
});
