/**
 * Issue #4 item 3: write-only writers. An identity with only a signing key (`keygen --write-only`) can
 * create secrets and put values with the store's public keys; its retried puts are recognised by the
 * keyed commitment in the envelope (spec 2.8 idempotency), never by decrypting and never by an unkeyed
 * hash of the value. Real CLI processes, real git, real libsodium.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type CliResult, type TestStore } from './helpers/store.js';

let t: TestStore;
let ci: { file: string; writerKey: string };
const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const head = () => t.git(['rev-parse', 'HEAD']).trim();
const asCi = (args: string[], input?: string): CliResult => t.cli(['--identity', ci.file, ...args], input === undefined ? {} : { input });

beforeAll(() => {
  t = makeStore();
  ci = { file: join(t.base, 'ci-identity'), writerKey: '' };
  const r = t.cli(['keygen', '--write-only', '-o', ci.file]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1); // only a writer key: nothing to be a recipient with
  ci.writerKey = r.stdout.trim();
  expect(readFileSync(ci.file, 'utf8')).not.toMatch(/SECRETSTORE-SECRET-KEY-1/);
  // Its changes are signed by its writer key, which the store must trust (issue #4 item 4).
  const trusted = t.cli(['writers', 'add', '--name', 'ci', '--writer-key', ci.writerKey]);
  expect(trusted.status, trusted.stderr).toBe(0);
});
afterAll(() => t.cleanup());

describe('write-only writers (issue #4 item 3)', () => {
  it('a write-only identity creates a secret and puts a new version with only the public keys; the recipients read them', () => {
    const created = asCi(['create-secret', '--name', 'ci/db', '--client-request-token', T(1), '--secret-string', '-'], 'first-ci-value');
    expect(created.status, created.stderr).toBe(0);
    const put = asCi(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(2), '--secret-string', '-'], 'second-ci-value');
    expect(put.status, put.stderr).toBe(0);
    expect(put.json()).toMatchObject({ VersionId: T(2), VersionStages: ['AWSCURRENT'] });
    const read = t.cli(['get-secret-value', '--secret-id', 'ci/db', '--query', 'SecretString', '--output', 'text']);
    expect(read.stdout.trim()).toBe('second-ci-value');
  });

  it('the sealed file carries a keyed commitment by the writer (format /2), never an unkeyed hash of the value', () => {
    const file = t.git(['ls-files', `secrets/ci/db/versions/${T(2)}.sealed`]).trim();
    const text = readFileSync(join(t.dir, file), 'utf8');
    expect(text).toMatch(/^format: secretstore\.sealed\/2$/m);
    expect(text).toContain(`  writer: ${ci.writerKey}`);
    const mac = /^ {2}mac: (.*)$/m.exec(text)![1]!;
    for (const algorithm of ['sha256', 'sha512', 'sha1', 'md5', 'blake2b512']) {
      const digest = createHash(algorithm).update('second-ci-value').digest();
      expect(text).not.toContain(digest.toString('base64'));
      expect(text).not.toContain(digest.toString('hex'));
      expect(Buffer.from(mac, 'base64').equals(digest.subarray(0, 32))).toBe(false);
    }
  });

  it('a retry with the same token and value succeeds without a new commit (spec 2.8), compared by commitment', () => {
    const before = t.snapshot();
    const r = asCi(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(2), '--secret-string', '-'], 'second-ci-value');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ VersionId: T(2) });
    const c = asCi(['create-secret', '--name', 'ci/db', '--client-request-token', T(1), '--secret-string', '-'], 'first-ci-value');
    expect(c.status, c.stderr).toBe(0);
    expect(t.snapshot()).toBe(before);
  });

  it('a retry with the same token and a different value is ResourceExistsException (spec 2.8), store unchanged', () => {
    const before = t.snapshot();
    const r = asCi(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(2), '--secret-string', '-'], 'second-ci-valuE');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ResourceExistsException.*ClientRequestToken 00000000-0000-4000-8000-000000000002/);
    // The same bytes as a SecretBinary are a different value (the type is part of what is committed to)
    writeFileSync(join(t.base, 'same-bytes'), 'second-ci-value');
    const binary = asCi(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(2), '--secret-binary', `fileb://${join(t.base, 'same-bytes')}`]);
    expect(binary.status).not.toBe(0);
    expect(binary.stderr).toMatch(/ResourceExistsException/);
    expect(t.snapshot()).toBe(before);
  });

  it("a retry against a version another writer made cannot be compared: ResourceExistsException with a one-line reason", () => {
    const made = t.cli(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(3), '--secret-string', '-'], { input: 'by-a-person' });
    expect(made.status, made.stderr).toBe(0);
    const before = t.snapshot();
    const r = asCi(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(3), '--secret-string', '-'], 'by-a-person');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ResourceExistsException.*cannot compare values/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(t.snapshot()).toBe(before);
  });

  it('an identity that can decrypt still compares by value, also for a version a write-only writer made', () => {
    const before = head();
    const r = t.cli(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(2), '--secret-string', '-'], { input: 'second-ci-value' });
    expect(r.status, r.stderr).toBe(0);
    expect(head()).toBe(before);
    expect(t.cli(['put-secret-value', '--secret-id', 'ci/db', '--client-request-token', T(2), '--secret-string', '-'], { input: 'nope' }).stderr).toMatch(
      /ResourceExistsException/,
    );
  });

  it('the write-only identity cannot read, with a clear message', () => {
    const r = asCi(['get-secret-value', '--secret-id', 'ci/db']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/InvalidRequestException.*holds no decryption key.*can put values but not read them/);
    // BatchGetSecretValue reports per-secret errors, as AWS does
    const batch = asCi(['batch-get-secret-value', '--secret-id-list', 'ci/db']);
    expect(batch.json<{ SecretValues: unknown[]; Errors: { Message: string }[] }>()).toMatchObject({
      SecretValues: [],
      Errors: [{ Message: expect.stringMatching(/holds no decryption key/) }],
    });
  });

  it('values never reach argv, commit messages or the work tree in plaintext', () => {
    const log = t.git(['log', '-p', '--format=%B']);
    const tree = t.snapshot();
    for (const v of ['first-ci-value', 'second-ci-value', 'by-a-person']) {
      expect(log).not.toContain(v);
      expect(tree).not.toContain(Buffer.from(v).toString('base64'));
      expect(tree).not.toContain(v);
    }
  });
});
