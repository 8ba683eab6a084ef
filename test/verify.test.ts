/**
 * `secretstore verify` (issue #4, item 5), `secretstore sign`, and trust in `.secretstore.yaml`, on
 * signed commits (docs/trust.md): a store change no writer signed is one FINDING naming the commit; each
 * kind of damage to the committed store is one FINDING naming the file; verify exits 1 on any.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { CONFIG_FILE } from '../src/core/codec.js';
import { indexPath, versionPath } from '../src/core/layout.js';
import { readIdentityFile } from '../src/crypto/index.js';
import { commitSigned } from './helpers/sign.js';

let t: TestStore;
let mallory: string;
let clean: string; // HEAD of the store before each test's damage

beforeAll(() => {
  t = makeStore();
  mallory = join(t.base, 'mallory.identity');
  expect(t.cli(['keygen', '-o', mallory]).status).toBe(0);
  for (const name of ['app/db', 'app/api']) {
    expect(t.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: `${name}-1` }).status).toBe(0);
    expect(t.cli(['put-secret-value', '--secret-id', name, '--secret-string', '-'], { input: `${name}-2` }).status).toBe(0);
  }
  clean = t.git(['rev-parse', 'HEAD']).trim();
});
afterEach(() => {
  t.git(['reset', '-q', '--hard', clean]);
  t.git(['clean', '-qfd']);
  // A test that read a newer signed state moved this clone's record past `clean`: going back is intended here.
  t.cli(['trust', '--accept-rewind']);
});
afterAll(() => t.cleanup());

const file = (path: string) => join(t.dir, path);
const verify = (args: string[] = []) => t.cli(['verify', ...args]);
const findings = (r: { stdout: string }) => r.stdout.split('\n').filter((l) => l.startsWith('FINDING '));
const head = () => t.git(['rev-parse', 'HEAD']).trim();
const short = (commit: string) => commit.slice(0, 12);
/** A commit past the hooks, as someone without a writer key makes it. */
const commitUnsigned = (message: string) => {
  t.git(['add', '-A']);
  t.git(['commit', '-q', '--no-verify', '-m', message]);
  return head();
};
/** Commits the work tree with a valid signature by the identity's writer key (a writer or not), with plumbing. */
const commitSignedBy = (identity: string, subject: string) => commitSigned(t, subject, { identity });
/** AWSCURRENT and AWSPREVIOUS swapped by hand: a rollback. */
const rollBack = (text: string) => {
  const cur = /AWSCURRENT: (\S+)/.exec(text)![1]!;
  const prev = /AWSPREVIOUS: (\S+)/.exec(text)![1]!;
  return text.replace(`AWSCURRENT: ${cur}`, 'AWSCURRENT: @').replace(`AWSPREVIOUS: ${prev}`, `AWSPREVIOUS: ${cur}`).replace('AWSCURRENT: @', `AWSCURRENT: ${prev}`);
};
const currentVersion = (name: string) => /AWSCURRENT: (\S+)/.exec(readFileSync(file(indexPath(name)), 'utf8'))![1]!;
const UNSIGNED = "changes the store without a writer's signature (a plain commit by someone without a writer key, or a hand edit; a writer can sign it with secretstore sign)";

describe('secretstore verify (issue item 5)', () => {
  it('a store changed only through secretstore has no findings, exit 0; --output json gives the structure', () => {
    const r = verify();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^verify: \d+ commit\(s\), 2 secret\(s\), 4 sealed file\(s\) \(4 opened, 0 header checked\): no findings\n$/);
    expect(verify(['--output', 'json']).json()).toEqual({ Findings: [], Commits: expect.any(Number), Secrets: 2, SealedFiles: 4, Opened: 4 });
  });

  it('a forged label move (hand edit committed with --no-verify) is one FINDING naming the commit; exit 1', () => {
    writeFileSync(file(indexPath('app/db')), rollBack(readFileSync(file(indexPath('app/db')), 'utf8')));
    const bad = commitUnsigned('roll back by hand');
    const r = verify();
    expect(r.status).toBe(1);
    expect(findings(r)).toEqual([`FINDING commit ${short(bad)}: ${UNSIGNED}`]);
  });

  it('the same move signed by a key that is not a trusted writer is reported', async () => {
    writeFileSync(file(indexPath('app/db')), rollBack(readFileSync(file(indexPath('app/db')), 'utf8')));
    const bad = await commitSignedBy(mallory, 'signed by mallory');
    const r = verify();
    expect(r.status).toBe(1);
    expect(findings(r)).toHaveLength(1);
    expect(findings(r)[0]).toMatch(new RegExp(`^FINDING commit ${short(bad)}: is signed by writer key secretstoresig1\\S+\\.\\.\\., which is not a writer in its parent's \\.secretstore\\.yaml$`));
  });

  it('a tampered envelope header (committed by a writer) is caught, for a recipient and for an identity that is not one', async () => {
    const sealed = versionPath('app/api', currentVersion('app/api'));
    const other = versionPath('app/db', currentVersion('app/db'));
    const text = readFileSync(file(sealed), 'utf8');
    const otherId = /^version: (\S+)$/m.exec(readFileSync(file(other), 'utf8'))![1]!;
    writeFileSync(file(sealed), text.replace(/^version: .*$/m, `version: ${otherId}`));
    // signed by the writer: the history is authentic, so what is left is the crypto binding
    await commitSignedBy(t.identity, 'edit a header');
    const asRecipient = verify();
    expect(asRecipient.status).toBe(1);
    expect(findings(asRecipient)).toHaveLength(1);
    expect(findings(asRecipient)[0]).toContain(`FINDING ${sealed}: `);
    const outsider = findings(t.cli(['--identity', mallory, 'verify'])); // not a recipient: the header is checked
    expect(outsider).toEqual([`FINDING ${sealed}: its header names version ${otherId}, not ${currentVersion('app/api')} (copied, moved or edited)`]);
  });

  it('a replayed old index (restored in a new unsigned commit) is reported as a store change no writer signed', () => {
    const path = indexPath('app/db');
    const old = t.git(['show', `${clean}~3:${path}`]); // app/db after its create
    writeFileSync(file(path), old);
    // The put's version file has no index entry any more; remove it so only the replay is left.
    const leftover = t.git(['ls-files', path.replace('secret.yaml', 'versions')]).split('\n').filter(Boolean);
    const listed = [...old.matchAll(/^  ([0-9a-f-]{36}): /gm)].map((m) => m[1]!);
    for (const f of leftover) if (!listed.some((id) => f.includes(id))) t.git(['rm', '-q', f]);
    const bad = commitUnsigned('restore an old index');
    expect(findings(verify())).toEqual([`FINDING commit ${short(bad)}: ${UNSIGNED}`]);
  });

  it('a plaintext file committed under secrets/, an identity file committed anywhere, and a missing hook are reported', async () => {
    writeFileSync(file('secrets/app/db/password.txt'), 'hunter2\n');
    copyFileSync(t.identity, file('alice.identity'));
    await commitSignedBy(t.identity, 'leaks, signed by the writer'); // authentic history: only the content findings
    rmSync(join(t.dir, '.git', 'hooks', 'pre-commit'));
    try {
      expect(findings(verify())).toEqual([
        'FINDING secrets/app/db/password.txt: is tracked under secrets/ but is neither a secret.yaml nor a versions/*.sealed file (a plaintext secret?)',
        'FINDING alice.identity: holds a secretstore secret key (an identity file is tracked: remove it from the repository and its history, and make new keys)',
        'FINDING .git/hooks/pre-commit: the secretstore hooks are not installed (secretstore install-hooks installs them)',
      ]);
    } finally {
      expect(t.cli(['install-hooks']).status).toBe(0);
    }
  });

  it('only committed content is verified: an uncommitted edit of the work tree is not read', () => {
    writeFileSync(file(indexPath('app/db')), 'name: [unclosed\n');
    const r = verify();
    expect(r.status, r.stdout).toBe(0);
    expect(findings(r)).toEqual([]);
  });
});

describe('trust in .secretstore.yaml (issue item 4: the trusted writers)', () => {
  it('a config change adding a writer, signed by that untrusted key, is refused by reads and reported by verify', async () => {
    expect(t.cli(['list-secrets']).status).toBe(0);
    const key = (await readIdentityFile(mallory)).signers[0]!.publicKey;
    writeFileSync(file(CONFIG_FILE), readFileSync(file(CONFIG_FILE), 'utf8').replace('policy:', `  - name: mallory\n    writerKey: ${key}\npolicy:`));
    const bad = await commitSignedBy(mallory, 'add mallory as a writer');
    const r = t.cli(['get-secret-value', '--secret-id', 'app/db']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('(InvalidRequestException)');
    expect(r.stderr).toContain(`commit ${short(bad)} is signed by writer key secretstoresig1`);
    expect(r.stderr).toContain("which is not a writer in its parent's .secretstore.yaml");
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(findings(verify()).join('\n')).toContain(`FINDING commit ${short(bad)}: is signed by writer key`);
    // ...and secretstore sign does not let mallory sign it in either.
    t.git(['reset', '-q', '--mixed', clean]);
    const signed = t.cli(['--identity', mallory, 'sign', '--config']);
    expect(signed.stderr).toContain('(AccessDeniedException)');
    expect(head()).toBe(clean);
  });

  it('a policy edited by hand and committed unsigned is refused and reported; left uncommitted it is not read until a writer signs it with secretstore sign, in one commit', () => {
    writeFileSync(file(CONFIG_FILE), readFileSync(file(CONFIG_FILE), 'utf8').replace('pruneAbove: 100', 'pruneAbove: 50'));
    const bad = commitUnsigned('policy by hand');
    const refused = t.cli(['list-secrets']);
    expect(refused.status).toBe(254);
    expect(refused.stderr).toContain(`commit ${short(bad)} ${UNSIGNED}`);
    expect(findings(verify())).toEqual([`FINDING commit ${short(bad)}: ${UNSIGNED}`]);
    t.git(['reset', '-q', '--mixed', clean]); // the edit stays in the work tree, uncommitted
    expect(t.cli(['list-secrets']).status).toBe(0);
    const r = t.cli(['sign', '--config']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ Signed: [CONFIG_FILE] });
    expect(t.git(['rev-list', '--count', `${clean}..HEAD`]).trim()).toBe('1');
    expect(t.git(['show', `HEAD:${CONFIG_FILE}`])).toContain('pruneAbove: 50');
    expect(t.cli(['list-secrets']).status).toBe(0);
    expect(findings(verify())).toEqual([]);
  });

  it('secretstore sign commits a hand-edited index signed; refused for a key that is not a writer, leaving the edit in place', () => {
    const path = indexPath('app/api');
    const edited = rollBack(readFileSync(file(path), 'utf8'));
    writeFileSync(file(path), edited);
    const denied = t.cli(['--identity', mallory, 'sign', '--secret-id', 'app/api']);
    expect(denied.stderr).toContain('(AccessDeniedException)');
    expect(head()).toBe(clean);
    expect(readFileSync(file(path), 'utf8')).toBe(edited);
    // not committed: reads still see the committed state
    expect(t.cli(['get-secret-value', '--secret-id', 'app/api', '--query', 'SecretString', '--output', 'text']).stdout).toBe('app/api-2\n');
    const r = t.cli(['sign', '--secret-id', 'app/api']);
    expect(r.status, r.stderr).toBe(0);
    expect(t.cli(['get-secret-value', '--secret-id', 'app/api', '--query', 'SecretString', '--output', 'text']).stdout).toBe('app/api-1\n');
    expect(findings(verify())).toEqual([]);
  });
});
