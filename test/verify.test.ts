/**
 * `secretstore verify` (issue #4, item 5), `secretstore sign`, and trust in `.secretstore.yaml`: each
 * kind of damage or forgery is one FINDING line naming the file, and verify exits 1 on any.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { CONFIG_FILE } from '../src/core/codec.js';
import { indexPath, versionPath } from '../src/core/layout.js';
import { appendSignature, splitSigned } from '../src/core/signature.js';
import { cryptoReady, readIdentityFile } from '../src/crypto/index.js';

let t: TestStore;
let mallory: string;
let clean: string; // HEAD of the store before each test's damage

beforeAll(() => {
  t = makeStore();
  mallory = join(t.base, 'mallory.identity');
  expect(t.cli(['keygen', '-o', mallory]).status).toBe(0);
  for (const name of ['app/db', 'app/api']) {
    expect(t.cli(['create-secret', '--name', name, '--secret-string', `${name}-1`]).status).toBe(0);
    expect(t.cli(['put-secret-value', '--secret-id', name, '--secret-string', `${name}-2`]).status).toBe(0);
  }
  clean = t.git(['rev-parse', 'HEAD']).trim();
});
afterEach(() => {
  t.git(['reset', '-q', '--hard', clean]);
  t.git(['clean', '-qfd']);
});
afterAll(() => t.cleanup());

const file = (path: string) => join(t.dir, path);
const verify = (args: string[] = []) => t.cli(['verify', ...args]);
const findings = (r: { stdout: string }) => r.stdout.split('\n').filter((l) => l.startsWith('FINDING '));
const commitByHand = (message: string) => t.git(['commit', '-q', '--no-verify', '-am', message]);
/** AWSCURRENT and AWSPREVIOUS swapped by hand: a rollback. */
const rollBack = (text: string) => {
  const cur = /AWSCURRENT: (\S+)/.exec(text)![1]!;
  const prev = /AWSPREVIOUS: (\S+)/.exec(text)![1]!;
  return text.replace(`AWSCURRENT: ${cur}`, 'AWSCURRENT: @').replace(`AWSPREVIOUS: ${prev}`, `AWSPREVIOUS: ${cur}`).replace('AWSCURRENT: @', `AWSCURRENT: ${prev}`);
};
const currentVersion = (name: string) => /AWSCURRENT: (\S+)/.exec(readFileSync(file(indexPath(name)), 'utf8'))![1]!;

describe('secretstore verify (issue item 5)', () => {
  it('a store changed only through secretstore has no findings, exit 0; --output json gives the structure', () => {
    const r = verify();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe('verify: 2 secret(s), 4 sealed file(s) (4 opened, 0 header checked): no findings\n');
    expect(verify(['--output', 'json']).json()).toEqual({ Findings: [], Secrets: 2, SealedFiles: 4, Opened: 4 });
  });

  it('a forged label move (hand edit committed with --no-verify) is one FINDING naming the index; exit 1', () => {
    writeFileSync(file(indexPath('app/db')), rollBack(readFileSync(file(indexPath('app/db')), 'utf8')));
    commitByHand('roll back by hand');
    const r = verify();
    expect(r.status).toBe(1);
    expect(findings(r)).toEqual([`FINDING ${indexPath('app/db')}: has a signature by tester that does not match its content (changed after it was signed)`]);
  });

  it('the same move signed by a key that is not a trusted writer is reported', async () => {
    await cryptoReady();
    const [key] = (await readIdentityFile(mallory)).signers;
    const path = indexPath('app/db');
    const { unsigned } = splitSigned(rollBack(readFileSync(file(path), 'utf8')));
    const storeId = /storeId: (\S+)/.exec(readFileSync(file(CONFIG_FILE), 'utf8'))![1]!;
    writeFileSync(file(path), appendSignature(unsigned, { storeId, path, previous: null, files: {}, key: key!.publicKey, writer: 'tester', date: new Date().toISOString() }, (m) => key!.sign(m)));
    commitByHand('signed by mallory');
    expect(findings(verify()).join('\n')).toContain(`FINDING ${path}: is signed by writer key secretstoresig1`);
    expect(findings(verify()).join('\n')).toContain("which is not a writer trusted for secret 'app/db'");
  });

  it('a tampered envelope header is caught, for a recipient and for an identity that is not one', () => {
    const sealed = versionPath('app/api', currentVersion('app/api'));
    const other = versionPath('app/db', currentVersion('app/db'));
    const text = readFileSync(file(sealed), 'utf8');
    const otherId = /^version: (\S+)$/m.exec(readFileSync(file(other), 'utf8'))![1]!;
    writeFileSync(file(sealed), text.replace(/^version: .*$/m, `version: ${otherId}`));
    commitByHand('edit a header');
    const asRecipient = findings(verify());
    expect(asRecipient).toContain(`FINDING ${sealed}: is not the sealed file its signed index lists (swapped or tampered)`);
    expect(asRecipient.some((l) => l.startsWith(`FINDING ${sealed}: belongs to version ${otherId}`))).toBe(true);
    const outsider = findings(t.cli(['--identity', mallory, 'verify'])); // not a recipient: the header is checked
    expect(outsider.some((l) => l.startsWith(`FINDING ${sealed}: its header names version ${otherId}`))).toBe(true);
  });

  it('a replayed old signed index (restored in a new commit) is reported as a replay', () => {
    const path = indexPath('app/db');
    const old = t.git(['show', `${clean}~2:${path}`]); // app/db after its create, validly signed
    expect(t.cli(['put-secret-value', '--secret-id', 'app/db', '--secret-string', 'app/db-3']).status).toBe(0);
    writeFileSync(file(path), old);
    // The put's version file stays tracked without an index entry; remove it so only the replay is left.
    const leftover = t.git(['ls-files', `${path.replace('secret.yaml', 'versions')}`]).split('\n').filter(Boolean);
    const listed = new Set([...old.matchAll(/^  ([0-9a-f-]{36}): /gm)].map((m) => m[1]));
    for (const f of leftover) if (![...listed].some((id) => f.includes(id!))) t.git(['rm', '-q', f]);
    commitByHand('restore an old index');
    const r = findings(verify());
    expect(r).toEqual([`FINDING ${path}: is a signed state that does not follow the one it replaced (an older signed index restored: a replay?)`]);
  });

  it('a plaintext file tracked under secrets/, an identity file tracked anywhere, and a missing hook are reported', () => {
    writeFileSync(file('secrets/app/db/password.txt'), 'hunter2\n');
    copyFileSync(t.identity, file('alice.identity'));
    t.git(['add', '-A']);
    commitByHand('leaks');
    rmSync(join(t.dir, '.git', 'hooks', 'pre-commit'));
    try {
      expect(findings(verify())).toEqual([
        'FINDING secrets/app/db/password.txt: is tracked under secrets/ but is neither a secret.yaml nor a versions/*.sealed file (a plaintext secret?)',
        'FINDING alice.identity: holds a secretstore secret key (an identity file is tracked: remove it from the repository and its history, and make new keys)',
        'FINDING .git/hooks/pre-commit: the secretstore pre-commit hook is not installed (secretstore init installs it)',
      ]);
    } finally {
      writeFileSync(join(t.dir, '.git', 'hooks', 'pre-commit'), '# installed by secretstore init\n', { mode: 0o755 });
    }
  });
});

describe('trust in .secretstore.yaml (issue item 4: the trusted writers)', () => {
  it('a config change adding a writer, signed by that untrusted key, is refused by reads and reported by verify', async () => {
    expect(t.cli(['list-secrets']).status).toBe(0); // this clone has read (and pinned) the configuration
    await cryptoReady();
    const [key] = (await readIdentityFile(mallory)).signers;
    const { unsigned } = splitSigned(readFileSync(file(CONFIG_FILE), 'utf8'));
    const added = unsigned.replace('policy:', `  - name: mallory\n    writerKey: ${key!.publicKey}\npolicy:`);
    const storeId = /storeId: (\S+)/.exec(unsigned)![1]!;
    writeFileSync(file(CONFIG_FILE), appendSignature(added, { storeId, path: CONFIG_FILE, previous: null, key: key!.publicKey, writer: 'mallory', date: new Date().toISOString() }, (m) => key!.sign(m)));
    commitByHand('add mallory as a writer');
    const r = t.cli(['get-secret-value', '--secret-id', 'app/db']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain(`(InvalidRequestException)`);
    expect(r.stderr).toContain(`${CONFIG_FILE} is signed by writer key secretstoresig1`);
    expect(r.stderr).toContain('not a writer trusted for the store configuration this clone last trusted');
    expect(findings(verify()).join('\n')).toContain(`FINDING ${CONFIG_FILE}: in commit `);
    // ...and secretstore sign does not let mallory sign it in either.
    const signed = t.cli(['--identity', mallory, 'sign', '--config']);
    expect(signed.stderr).toContain('(AccessDeniedException)');
  });

  it('a policy edited by hand is refused until a writer signs it with secretstore sign, in one commit', () => {
    writeFileSync(file(CONFIG_FILE), readFileSync(file(CONFIG_FILE), 'utf8').replace('pruneAbove: 100', 'pruneAbove: 50'));
    commitByHand('policy by hand');
    expect(t.cli(['list-secrets']).stderr).toContain(`${CONFIG_FILE} has a signature by tester that does not match its content`);
    const head = t.git(['rev-parse', 'HEAD']).trim();
    const r = t.cli(['sign', '--config']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toEqual({ Signed: [CONFIG_FILE] });
    expect(t.git(['rev-list', '--count', `${head}..HEAD`]).trim()).toBe('1');
    expect(t.cli(['list-secrets']).status).toBe(0);
    expect(findings(verify())).toEqual([]);
  });

  it('secretstore sign re-signs a hand-resolved index; refused for a key that is not a writer, leaving the edit in place', () => {
    const path = indexPath('app/api');
    const edited = rollBack(readFileSync(file(path), 'utf8'));
    writeFileSync(file(path), edited);
    const before = t.git(['rev-parse', 'HEAD']).trim();
    const denied = t.cli(['--identity', mallory, 'sign', '--secret-id', 'app/api']);
    expect(denied.stderr).toContain('(AccessDeniedException)');
    expect(t.git(['rev-parse', 'HEAD']).trim()).toBe(before);
    expect(readFileSync(file(path), 'utf8')).toBe(edited);
    const r = t.cli(['sign', '--secret-id', 'app/api']);
    expect(r.status, r.stderr).toBe(0);
    expect(t.cli(['get-secret-value', '--secret-id', 'app/api', '--query', 'SecretString', '--output', 'text']).stdout).toBe('app/api-1\n');
    expect(findings(verify())).toEqual([]);
  });
});
