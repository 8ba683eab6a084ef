/**
 * Signed commits (issue #4, item 4, on trust v2: docs/trust.md): every commit that changes the store is
 * signed by a writer its parent's configuration authorises, in a `Secretstore-Signature:` trailer; reads
 * refuse a HEAD whose history holds a store change that is unsigned, forged, signed by a key that is not
 * a writer or by a writer outside its scope, with one line naming the commit; writes by a non-writer are
 * AccessDeniedException before anything is written. The pure format (core/commit-signature.ts) first.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { commitSigned } from './helpers/sign.js';
import { CONFIG_FILE, parseConfig } from '../src/core/codec.js';
import { indexPath, versionPath } from '../src/core/layout.js';
import {
  claimsSignature,
  findSignature,
  parseCommitObject,
  payload,
  signedMessage,
  stripspace,
  unsignedMessage,
} from '../src/core/commit-signature.js';
import { cryptoReady, parseRecipient, parseWriterKey, readIdentityFile, sealValue, type Signer } from '../src/crypto/index.js';

const TREE = 'a'.repeat(40);
const P1 = 'b'.repeat(40);
const P2 = 'c'.repeat(40);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('core/commit-signature (pure)', () => {
  const fakeSig = () => new Uint8Array(64).fill(7);
  const KEY = 'secretstoresig1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';

  it('payload is the format tag, the tree, each parent in order, a blank line and the normalised message', () => {
    expect(text(payload(TREE, [P1, P2], 'subject  \n\n\n\nbody\n\n'))).toBe(`secretstore.commit/1\ntree ${TREE}\nparent ${P1}\nparent ${P2}\n\nsubject\n\nbody\n`);
    expect(text(payload(TREE, [], 'root\n'))).toBe(`secretstore.commit/1\ntree ${TREE}\n\nroot\n`);
    // the parents' order is signed: swapping them is another payload
    expect(text(payload(TREE, [P2, P1], 'm'))).not.toBe(text(payload(TREE, [P1, P2], 'm')));
  });

  it('payload leaves out every signature line, so the signed message and its draft give the same bytes', () => {
    const signed = signedMessage({ tree: TREE, parents: [P1], message: 'put app/db\n' }, KEY, fakeSig);
    expect(text(payload(TREE, [P1], signed))).toBe(text(payload(TREE, [P1], 'put app/db\n')));
    expect(unsignedMessage(signed)).toBe('put app/db\n');
  });

  it("stripspace: trailing white space off, blank runs collapsed, none at either end; '#' lines dropped only with comments", () => {
    expect(stripspace('\n\n  \nsubject \t\n\n\n\nbody\r\n\n\n')).toBe('subject\n\nbody\n');
    expect(stripspace('')).toBe('');
    expect(stripspace(' \n\t\n')).toBe('');
    expect(stripspace('a\n# comment\nb\n')).toBe('a\n# comment\nb\n');
    expect(stripspace('a\n# comment\nb\n', true)).toBe('a\nb\n');
    expect(stripspace('  leading kept\n')).toBe('  leading kept\n');
  });

  it('the trailer goes after a blank line, joins a last paragraph of trailers, and replaces an older signature line', () => {
    const sign = (message: string) => signedMessage({ tree: TREE, parents: [P1], message }, KEY, fakeSig);
    const line = `Secretstore-Signature: ${KEY} ${Buffer.from(fakeSig()).toString('base64')}`;
    expect(sign('put app/db')).toBe(`put app/db\n\n${line}\n`);
    expect(sign('put app/db\n\nbody text\n')).toBe(`put app/db\n\nbody text\n\n${line}\n`);
    expect(sign('merge\n\nSecretstore-Merge: prefer=ours\n')).toBe(`merge\n\nSecretstore-Merge: prefer=ours\n${line}\n`);
    // a one-paragraph message that looks like a trailer is a subject, not a trailer block
    expect(sign('Fix: a typo\n')).toBe(`Fix: a typo\n\n${line}\n`);
    expect(sign('')).toBe(`${line}\n`);
    const resigned = sign(`put app/db\n\nSecretstore-Signature: ${KEY} ${'A'.repeat(86)}==\n`);
    expect(resigned).toBe(`put app/db\n\n${line}\n`);
    expect(resigned.match(/Secretstore-Signature:/g)).toHaveLength(1);
  });

  it('findSignature takes the last well-formed signature line; claimsSignature sees a malformed one too', () => {
    const a = `Secretstore-Signature: ${KEY} ${Buffer.alloc(64, 1).toString('base64')}`;
    const b = `Secretstore-Signature: ${KEY} ${Buffer.alloc(64, 2).toString('base64')}`;
    expect(findSignature(`m\n\n${a}\n`)?.sig).toEqual(new Uint8Array(64).fill(1));
    expect(findSignature(`m\n\n${a}\n${b}\n`)?.sig).toEqual(new Uint8Array(64).fill(2));
    expect(findSignature(`m\n\n${a}   \n`)?.key).toBe(KEY); // trailing white space (stripspace) still finds it
    for (const bad of ['Secretstore-Signature: secretstoresig1xyz short', `Secretstore-Signature: notakey ${Buffer.alloc(64).toString('base64')}`, `Secretstore-Signature: ${KEY}`]) {
      expect(findSignature(`m\n\n${bad}\n`), bad).toBeUndefined();
      expect(claimsSignature(`m\n\n${bad}\n`), bad).toBe(true);
    }
    expect(findSignature('no signature\n')).toBeUndefined();
    expect(claimsSignature('no signature\n')).toBe(false);
  });

  it('parseCommitObject reads tree, parents in order and the message, skipping other headers', () => {
    const raw = `tree ${TREE}\nparent ${P1}\nparent ${P2}\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\ngpgsig -----BEGIN\n parent ${'d'.repeat(40)}\n -----END\n\nsubject\n\nbody\n`;
    expect(parseCommitObject(raw)).toEqual({ tree: TREE, parents: [P1, P2], message: 'subject\n\nbody\n' });
  });

  it('a signature made with signedMessage verifies over the payload with the writer key, and not over another tree', async () => {
    await cryptoReady();
    const t = makeStore();
    try {
      const [signer] = (await readIdentityFile(t.identity)).signers;
      const message = signedMessage({ tree: TREE, parents: [P1], message: 'x\n' }, signer!.publicKey, (b) => signer!.sign(b));
      const sig = findSignature(message)!;
      expect(sig.key).toBe(signer!.publicKey);
      const key = parseWriterKey(sig.key);
      expect(key.verify(payload(TREE, [P1], message), sig.sig)).toBe(true);
      expect(key.verify(payload('e'.repeat(40), [P1], message), sig.sig)).toBe(false);
      expect(key.verify(payload(TREE, [P2], message), sig.sig)).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});

let t: TestStore;
let mallory: string;
let clean: string;

beforeAll(() => {
  t = makeStore();
  mallory = join(t.base, 'mallory.identity');
  expect(t.cli(['keygen', '-o', mallory]).status).toBe(0);
});
afterAll(() => t.cleanup());

const read = (path: string) => readFileSync(join(t.dir, path), 'utf8');
const config = () => parseConfig(t.git(['show', `HEAD:${CONFIG_FILE}`]), CONFIG_FILE);
const labels = (name: string) => {
  const text = read(indexPath(name));
  return { current: /AWSCURRENT: (\S+)/.exec(text)![1]!, previous: /AWSPREVIOUS: (\S+)/.exec(text)?.[1] };
};
const head = () => t.git(['rev-parse', 'HEAD']).trim();
const short = (commit: string) => commit.slice(0, 12);
/** A label move made by hand: AWSCURRENT and AWSPREVIOUS swapped (the rollback the issue names). */
const rollBack = (text: string) => {
  const cur = /AWSCURRENT: (\S+)/.exec(text)![1]!;
  const prev = /AWSPREVIOUS: (\S+)/.exec(text)![1]!;
  return text.replace(`AWSCURRENT: ${cur}`, 'AWSCURRENT: @').replace(`AWSPREVIOUS: ${prev}`, `AWSPREVIOUS: ${cur}`).replace('AWSCURRENT: @', `AWSCURRENT: ${prev}`);
};
/** A commit past the hooks, as someone without a writer key makes it. */
const commitUnsigned = (message: string) => {
  t.git(['add', '-A']);
  t.git(['commit', '-q', '--no-verify', '-m', message]);
  return head();
};
/** Commits the work tree with `message` as given (any trailer in it kept), past the hooks: git plumbing. */
const commitWithMessage = (message: string | ((tree: string, parent: string) => string)) => {
  t.git(['add', '-A']);
  const tree = t.git(['write-tree']).trim();
  const parent = head();
  const body = typeof message === 'string' ? message : message(tree, parent);
  const commit = execFileSync('git', ['commit-tree', tree, '-p', parent, '-F', '-'], { cwd: t.dir, env: t.env, input: body, encoding: 'utf8' }).trim();
  t.git(['update-ref', 'HEAD', commit]);
  return commit;
};
const signerOf = async (identity: string): Promise<Signer> => {
  await cryptoReady();
  return (await readIdentityFile(identity)).signers[0]!;
};
/** Commits the work tree signed (a valid signature) by the identity's writer key, whoever that is. */
const commitSignedBy = (identity: string, subject: string) => commitSigned(t, subject, { identity });
/** The commit's signature holds over its payload, by `key`. */
const signedBy = (rev: string, key: string) => {
  const obj = parseCommitObject(t.git(['cat-file', 'commit', rev]));
  const sig = findSignature(obj.message);
  return sig !== undefined && sig.key === key && parseWriterKey(key).verify(payload(obj.tree, obj.parents, obj.message), sig.sig);
};
const get = (name: string) => t.cli(['get-secret-value', '--secret-id', name, '--query', 'SecretString', '--output', 'text']);
/** Every read refuses HEAD with one InvalidRequestException line naming `commit` and saying `why`. */
const expectReadsRefuse = (commit: string, why: string, secret = 'prod/api') => {
  const before = t.snapshot();
  for (const args of [['get-secret-value', '--secret-id', secret], ['describe-secret', '--secret-id', secret], ['list-secrets']]) {
    const r = t.cli(args);
    expect(r.status, args[0]).toBe(254);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('(InvalidRequestException)');
    expect(r.stderr).toContain(`commit ${short(commit)}`);
    expect(r.stderr).toContain(why);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  }
  expect(t.snapshot()).toBe(before);
};

describe('every change secretstore commits is signed, and reads accept it (issue item 4)', () => {
  it('init signs its first commit with the writer it names (the trust root)', async () => {
    const key = config().writers[0]!.writerKey;
    expect(config().writers[0]!.name).toBe('tester');
    expect((await signerOf(t.identity)).publicKey).toBe(key);
    expect(signedBy(t.git(['rev-list', '--max-parents=0', 'HEAD']).trim(), key)).toBe(true);
    expect(read(CONFIG_FILE)).not.toContain('signature:');
  });

  it('create, put, update, tag, delete/restore and a label move each make one signed commit; reads accept them', () => {
    const key = config().writers[0]!.writerKey;
    const steps: string[][] = [
      ['create-secret', '--name', 'app/db', '--secret-string', 'v1'],
      ['put-secret-value', '--secret-id', 'app/db', '--secret-string', 'v2'],
      ['update-secret', '--secret-id', 'app/db', '--description', 'the database'],
      ['tag-resource', '--secret-id', 'app/db', '--tags', 'Key=team,Value=ops'],
      ['delete-secret', '--secret-id', 'app/db'],
      ['restore-secret', '--secret-id', 'app/db'],
    ];
    for (const step of steps) {
      const before = head();
      const r = t.cli(step, { env: { SECRETSTORE_NO_WARN: '1' } });
      expect(r.status, r.stderr).toBe(0);
      expect(t.git(['rev-list', '--count', `${before}..HEAD`]).trim(), step[0]).toBe('1');
      expect(signedBy('HEAD', key), step[0]).toBe(true);
    }
    const { current, previous } = labels('app/db');
    const move = t.cli(['update-secret-version-stage', '--secret-id', 'app/db', '--version-stage', 'AWSCURRENT', '--move-to-version-id', previous!, '--remove-from-version-id', current]);
    expect(move.status, move.stderr).toBe(0);
    expect(signedBy('HEAD', key)).toBe(true);
    // secret.yaml carries no signature: the commit does (a put's diff shows only what changed)
    expect(read(indexPath('app/db'))).not.toContain('signature:');
    expect(get('app/db').stdout).toBe('v1\n');
    expect(t.cli(['describe-secret', '--secret-id', 'app/db']).status).toBe(0);
    expect(t.cli(['list-secrets']).status).toBe(0);
  });

  it('a plain git commit of a hand edit is signed by the commit-msg hook with the writer key; reads accept it', () => {
    t.cli(['create-secret', '--name', 'prod/api', '--secret-string', 'old']);
    t.cli(['put-secret-value', '--secret-id', 'prod/api', '--secret-string', 'new']);
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    t.git(['commit', '-q', '-am', 'prod/api: roll back by hand']);
    expect(signedBy('HEAD', config().writers[0]!.writerKey)).toBe(true);
    expect(get('prod/api').stdout).toBe('old\n');
    // back to 'new', signed again, for the tests below
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    t.git(['commit', '-q', '-am', 'prod/api: forward again']);
    expect(get('prod/api').stdout).toBe('new\n');
    clean = head();
  });
});

describe('reads refuse a store change no trusted writer signed, naming the commit (issue item 4)', () => {
  afterEach(() => {
    t.git(['reset', '-q', '--hard', clean]);
    t.git(['clean', '-qfd']);
  });

  it('a label rolled back by hand and committed with --no-verify (unsigned) is refused by get, describe and list', () => {
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    const bad = commitUnsigned('roll back by hand');
    expectReadsRefuse(bad, "changes the store without a writer's signature");
  });

  it("the same rollback carrying a copy of an earlier commit's signature (a forgery) is refused: the signature does not match", () => {
    const copied = /^Secretstore-Signature: .*$/m.exec(t.git(['cat-file', 'commit', clean]))![0];
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    const bad = commitWithMessage(`roll back by hand\n\n${copied}\n`);
    expectReadsRefuse(bad, 'that does not match the commit');
  });

  it('a signed commit amended afterwards without the hooks (its signature kept) is refused as a forgery', () => {
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    t.git(['commit', '-q', '-am', 'signed by the hook']);
    writeFileSync(join(t.dir, indexPath('prod/api')), read(indexPath('prod/api')).replace('labels:\n', 'labels:\n  EXTRA: ' + labels('prod/api').current + '\n'));
    // amended where no secretstore hook runs (the post-rewrite hook would re-sign a writer's own commit)
    t.git(['-c', 'core.hooksPath=/dev/null', 'commit', '-q', '--amend', '-a', '--no-edit']);
    expectReadsRefuse(head(), 'that does not match the commit');
  });

  it('the same rollback validly signed by a key that is not a writer is refused', async () => {
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    const bad = await commitSignedBy(mallory, 'signed by mallory');
    expectReadsRefuse(bad, "which is not a writer in its parent's .secretstore.yaml");
  });

  it('a commit adding its own signer to writers: is refused (the parent configuration authorises, not its own)', async () => {
    const key = (await signerOf(mallory)).publicKey;
    writeFileSync(join(t.dir, CONFIG_FILE), read(CONFIG_FILE).replace('policy:', `  - name: mallory\n    writerKey: ${key}\npolicy:`));
    expect(read(CONFIG_FILE)).toContain('name: mallory');
    const bad = await commitSignedBy(mallory, 'add mallory as a writer');
    expectReadsRefuse(bad, "which is not a writer in its parent's .secretstore.yaml");
    // ...and secretstore sign does not let mallory sign it either
    t.git(['reset', '-q', '--mixed', clean]);
    const signed = t.cli(['--identity', mallory, 'sign', '--config']);
    expect(signed.status).toBe(254);
    expect(signed.stderr).toContain('(AccessDeniedException)');
  });

  it("a sealed file swapped for one an attacker sealed with the store's public keys is refused as an unsigned change", async () => {
    const { current } = labels('prod/api');
    const arn = /^arn: (\S+)$/m.exec(read(indexPath('prod/api')))![1]!;
    await cryptoReady();
    // Everything the attacker needs is public: recipients, store id, ARN, VersionId.
    const fake = sealValue({ type: 'string', text: 'attacker' }, { storeId: config().storeId, secretArn: arn, versionId: current }, config().recipients.map((r) => parseRecipient(r.publicKey)));
    writeFileSync(join(t.dir, versionPath('prod/api', current)), fake);
    const bad = commitUnsigned('swap the sealed file');
    expectReadsRefuse(bad, "changes the store without a writer's signature");
  });

  it('an old secret.yaml restored in a new unsigned commit (a replay) is refused', () => {
    const old = t.git(['show', `${clean}~3:${indexPath('prod/api')}`]); // prod/api right after its create
    expect(old).not.toContain('AWSPREVIOUS');
    writeFileSync(join(t.dir, indexPath('prod/api')), old);
    const bad = commitUnsigned('restore the old index');
    expectReadsRefuse(bad, "changes the store without a writer's signature");
  });

  it('an unsigned store change deeper in history is named, as the commit in the history of HEAD', () => {
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    const bad = commitUnsigned('roll back by hand');
    writeFileSync(join(t.dir, 'README.app'), 'an application commit on top\n');
    const top = commitUnsigned('app: readme');
    const r = get('prod/api');
    expect(r.status).toBe(254);
    expect(r.stderr).toContain(`commit ${short(bad)} (in the history of ${short(top)})`);
  });
});

describe('writes refuse a key that is not a trusted writer, before writing anything (issue item 4)', () => {
  it('an identity not under writers: AccessDeniedException, store unchanged', () => {
    const before = t.snapshot();
    const r = t.cli(['--identity', mallory, 'create-secret', '--name', 'mallory/x', '--secret-string', '-'], { input: 'x' });
    expect(r.status).toBe(254);
    expect(r.stderr).toContain('(AccessDeniedException)');
    expect(r.stderr).toContain('is not a writer in .secretstore.yaml');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
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

  it('a plain git commit of a store change by a non-writer is refused by the pre-commit hook, nothing committed', () => {
    writeFileSync(join(t.dir, indexPath('prod/api')), rollBack(read(indexPath('prod/api'))));
    const before = head();
    let failed = false;
    try {
      execFileSync('git', ['commit', '-q', '-am', 'by mallory'], { cwd: t.dir, env: { ...t.env, SECRETSTORE_IDENTITY: mallory }, stdio: 'pipe' });
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
    expect(head()).toBe(before);
    t.git(['checkout', '--', '.']);
  });

  it('a writer scoped to prod/ can write prod/ but not dev/ nor the configuration; its out-of-scope commit is refused by reads', async () => {
    const scoped = join(t.base, 'scoped.identity');
    const key = t.cli(['keygen', '-o', scoped]).stdout.trim().split('\n')[1]!;
    const added = t.cli(['writers', 'add', '--name', 'ops', '--writer-key', key, '--scope', 'prod/']);
    expect(added.status, added.stderr).toBe(0);
    expect(t.cli(['--identity', scoped, 'create-secret', '--name', 'prod/ops-only', '--secret-string', 'x']).status).toBe(0);
    const before = t.snapshot();
    const denied = t.cli(['--identity', scoped, 'create-secret', '--name', 'dev/other', '--secret-string', 'x']);
    expect(denied.status).toBe(254);
    expect(denied.stderr).toContain('(AccessDeniedException)');
    expect(denied.stderr).toContain("is not trusted for secret 'dev/other'");
    const config = t.cli(['--identity', scoped, 'writers', 'add', '--name', 'mallory', '--writer-key', t.cli(['keygen', '--write-only', '-o', join(t.base, 'm2.identity')]).stdout.trim()]);
    expect(config.stderr).toContain('(AccessDeniedException)');
    expect(t.snapshot()).toBe(before);
    // the same out-of-scope change made with plumbing and signed by ops: reads refuse it, naming the secret
    const ok = head();
    const index = read(indexPath('prod/ops-only'));
    t.git(['mv', 'secrets/prod/ops-only', 'secrets/dev']);
    writeFileSync(join(t.dir, 'secrets/dev/secret.yaml'), index.replace(/prod\/ops-only/g, 'dev'));
    const bad = await commitSignedBy(scoped, 'dev by ops');
    const r = t.cli(['list-secrets']);
    expect(r.status).toBe(254);
    expect(r.stderr).toContain(`commit ${short(bad)}`);
    expect(r.stderr).toContain('outside the scope of its signer ops');
    t.git(['reset', '-q', '--hard', ok]);
  });
});

describe('reads in other clones (issue item 4)', () => {
  it('a clone of the signed history authenticates it and reads', () => {
    const clone = join(t.base, 'clone');
    t.git(['clone', '-q', t.dir, clone]);
    const r = t.cli(['get-secret-value', '--secret-id', 'prod/api', '--query', 'SecretString', '--output', 'text'], { cwd: clone });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('new\n');
  });

  it('a shallow clone (a depth-1 CI checkout) cannot reach the root: refused with what to do; with a root pinned inside its history it reads', () => {
    const shallow = join(t.base, 'shallow');
    t.git(['clone', '-q', '--depth', '1', `file://${t.dir}`, shallow]);
    const refused = t.cli(['get-secret-value', '--secret-id', 'prod/api'], { cwd: shallow });
    expect(refused.status).toBe(254);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('secretstore trust --root');
    const tip = t.git(['rev-parse', 'HEAD']).trim();
    const pin = t.cli(['trust', '--root', tip, '--key', findSignature(t.git(['cat-file', 'commit', tip]))!.key], { cwd: shallow });
    expect(pin.status, pin.stderr).toBe(0);
    const r = t.cli(['get-secret-value', '--secret-id', 'prod/api', '--query', 'SecretString', '--output', 'text'], { cwd: shallow });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('new\n');
  });
});
