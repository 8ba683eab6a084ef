import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';

let t: TestStore;
beforeAll(() => {
  t = makeStore();
});
afterAll(() => t.cleanup());

const SEED_VALUE = '{"username":"david","password":"EXAMPLE-PASSWORD"}';
const NEW_VALUE = '{"username":"david","password":"EXAMPLE-NEW-PASSWORD"}';
const TOKEN = 'EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE';

describe('the seed example through the CLI process', () => {
  it('create, put with the example token from file://, read AWSPREVIOUS, list, describe', () => {
    const created = t.cli(['create-secret', '--name', 'MyTestDatabaseSecret', '--secret-string', SEED_VALUE]);
    expect(created.status).toBe(0);
    expect(created.stderr).toMatch(/shell history/);
    const first = created.json<{ ARN: string; Name: string; VersionId: string }>();
    expect(first.Name).toBe('MyTestDatabaseSecret');

    writeFileSync(join(t.base, 'new.json'), NEW_VALUE);
    const put = t.cli(['put-secret-value', '--secret-id', 'MyTestDatabaseSecret', '--client-request-token', TOKEN, '--secret-string', `file://${join(t.base, 'new.json')}`]);
    expect(put.status).toBe(0);
    expect(put.stderr).toBe('');
    expect(put.json()).toEqual({ ARN: first.ARN, Name: 'MyTestDatabaseSecret', VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });

    const previous = t.cli(['get-secret-value', '--secret-id', 'MyTestDatabaseSecret', '--version-stage', 'AWSPREVIOUS']).json<Record<string, unknown>>();
    expect(previous).toMatchObject({ VersionId: first.VersionId, SecretString: SEED_VALUE, VersionStages: ['AWSPREVIOUS'] });
    expect(previous.CreatedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(t.cli(['get-secret-value', '--secret-id', 'MyTestDatabaseSecret']).json()).toMatchObject({ SecretString: NEW_VALUE });

    const versions = t.cli(['list-secret-version-ids', '--secret-id', 'MyTestDatabaseSecret', '--include-deprecated']).json<{ Versions: { VersionId: string }[] }>();
    expect(versions.Versions.map((v) => v.VersionId)).toEqual([TOKEN, first.VersionId]);

    const described = t.cli(['describe-secret', '--secret-id', 'MyTestDatabaseSecret']).json<Record<string, unknown>>();
    expect(described.VersionIdsToStages).toEqual({ [TOKEN]: ['AWSCURRENT'], [first.VersionId]: ['AWSPREVIOUS'] });

    const log = t.git(['log', '--format=%B%n---', '-p']);
    expect(log).toContain(`put-secret-value MyTestDatabaseSecret: new version ${TOKEN}`);
    expect(log).toContain(`AWSCURRENT: ${first.VersionId} -> ${TOKEN}`);
    expect(log).not.toContain('EXAMPLE-PASSWORD');
    expect(log).not.toContain('EXAMPLE-NEW-PASSWORD');
    expect(t.git(['status', '--porcelain'])).toBe('');
  });

  it('values come from stdin with - and from fileb:// as bytes', () => {
    t.cli(['create-secret', '--name', 'from-stdin', '--secret-string', '-'], { input: 'piped value' });
    expect(t.cli(['get-secret-value', '--secret-id', 'from-stdin']).json()).toMatchObject({ SecretString: 'piped value' });
    writeFileSync(join(t.base, 'blob.bin'), Buffer.from([0, 255, 1, 0]));
    expect(t.cli(['create-secret', '--name', 'bytes', '--secret-binary', `fileb://${join(t.base, 'blob.bin')}`]).status).toBe(0);
    expect(t.cli(['get-secret-value', '--secret-id', 'bytes']).json()).toMatchObject({ SecretBinary: 'AP8BAA==' });
  });

  it('errors print the AWS CLI line on stderr with exit code 254 and never the value', () => {
    const r = t.cli(['put-secret-value', '--secret-id', 'MyTestDatabaseSecret', '--client-request-token', TOKEN, '--secret-string', 'a-different-value']);
    expect(r.status).toBe(254);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('An error occurred (ResourceExistsException) when calling the PutSecretValue operation: ');
    expect(r.stderr).not.toContain('a-different-value');
  });

  it('usage errors exit with 252', () => {
    expect(t.cli(['get-secret-value']).status).toBe(252);
    expect(t.cli(['get-secret-value', '--secret-id', 'x', '--no-such-flag']).status).toBe(252);
    const unknown = t.cli(['get-secret-valu']);
    expect(unknown.status).toBe(252);
    expect(unknown.stderr).toContain('get-secret-value');
  });

  it('--store and --identity work before the operation, from another folder', () => {
    const r = t.cli(['--store', t.dir, '--identity', t.identity, 'get-secret-value', '--secret-id', 'from-stdin'], { cwd: t.base });
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ SecretString: 'piped value' });
    const env = t.cli(['get-secret-value', '--secret-id', 'from-stdin'], { cwd: t.base, env: { SECRETSTORE_DIR: t.dir } });
    expect(env.status).toBe(0);
  });

  it('an identity file readable by others is refused and nothing is read', () => {
    const copy = join(t.base, 'loose-identity');
    execFileSync('cp', [t.identity, copy]);
    execFileSync('chmod', ['0644', copy]);
    const r = t.cli(['--identity', copy, 'get-secret-value', '--secret-id', 'from-stdin']);
    expect(r.status).toBe(254);
    expect(r.stderr).toMatch(/chmod 600/);
    expect(r.stdout).toBe('');
  });

  it('keygen writes a 0600 identity and prints a checksummed public key', () => {
    const file = join(t.base, 'k2', 'identity');
    const r = t.cli(['keygen', '-o', file]);
    expect(r.status).toBe(0);
    const [publicKey, writerKey, ...rest] = r.stdout.trim().split('\n');
    expect(publicKey).toMatch(/^secretstore1[02-9ac-hj-np-z]+$/);
    expect(writerKey).toMatch(/^secretstoresig1[02-9ac-hj-np-z]+$/);
    expect(rest).toEqual([]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(t.cli(['keygen', '-o', file]).status).toBe(254);
  });
});
