/**
 * The real AWS CLI (Debian's `awscli` package, which `.ci/run` installs) pointed at `secretstore serve`
 * with --endpoint-url: the seed's walk-through works, and the same commands give the same JSON through
 * `secretstore` directly. Skipped only outside CI on a machine without /usr/bin/aws.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const AWS = '/usr/bin/aws';
const available = existsSync(AWS) || process.env.CI === 'true';

let t: TestStore;
let server: TestServer;

/** Runs the AWS CLI without blocking: the server answers from this same process. */
function aws(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; json: () => Record<string, unknown> }> {
  const env = {
    PATH: process.env.PATH,
    HOME: join(t.base, 'home'),
    TZ: 'UTC',
    AWS_ACCESS_KEY_ID: server.credential.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credential.secretAccessKey,
    AWS_DEFAULT_REGION: server.region,
    AWS_CONFIG_FILE: join(t.base, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(t.base, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(AWS, ['secretsmanager', ...args, '--endpoint-url', server.url, '--output', 'json'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> }));
  });
}

const SEED = '{"username":"david","password":"EXAMPLE-PASSWORD"}';
const NEW = '{"username":"david","password":"EXAMPLE-NEW-PASSWORD"}';
const TOKEN = 'EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE';

describe.skipIf(!available)('the AWS CLI against secretstore serve (Debian awscli)', () => {
  beforeAll(async () => {
    t = makeStore();
    server = await startTestServer(t);
    writeFileSync(join(t.base, 'seed.json'), SEED);
    writeFileSync(join(t.base, 'new.json'), NEW);
  });
  afterAll(async () => {
    await server?.close();
    t?.cleanup();
  });

  let first: string;

  it('create-secret and put-secret-value with the seed example land as commits', async () => {
    const created = await aws(['create-secret', '--name', 'MyTestDatabaseSecret', '--secret-string', `file://${join(t.base, 'seed.json')}`]);
    expect(created.status, created.stderr).toBe(0);
    first = created.json().VersionId as string;
    expect(created.json()).toMatchObject({ Name: 'MyTestDatabaseSecret', ARN: expect.stringMatching(/:secret:MyTestDatabaseSecret-[A-Za-z0-9]{6}$/) });
    const put = await aws(['put-secret-value', '--secret-id', 'MyTestDatabaseSecret', '--client-request-token', TOKEN, '--secret-string', `file://${join(t.base, 'new.json')}`]);
    expect(put.status, put.stderr).toBe(0);
    expect(put.json()).toMatchObject({ VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });
    expect(t.git(['log', '-1', '--format=%s'])).toContain(`put-secret-value MyTestDatabaseSecret: new version ${TOKEN}`);
    expect(t.git(['status', '--porcelain'])).toBe('');
  });

  it('get-secret-value reads AWSPREVIOUS', async () => {
    const r = await aws(['get-secret-value', '--secret-id', 'MyTestDatabaseSecret', '--version-stage', 'AWSPREVIOUS']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ SecretString: SEED, VersionId: first, VersionStages: ['AWSPREVIOUS'] });
  });

  it('update-secret-version-stage rolls AWSCURRENT back, and list-secret-version-ids shows it', async () => {
    const r = await aws(['update-secret-version-stage', '--secret-id', 'MyTestDatabaseSecret', '--version-stage', 'AWSCURRENT', '--move-to-version-id', first, '--remove-from-version-id', TOKEN]);
    expect(r.status, r.stderr).toBe(0);
    const versions = (await aws(['list-secret-version-ids', '--secret-id', 'MyTestDatabaseSecret', '--include-deprecated'])).json().Versions as { VersionId: string; VersionStages: string[] }[];
    expect(Object.fromEntries(versions.map((v) => [v.VersionId, v.VersionStages]))).toEqual({ [first]: ['AWSCURRENT'], [TOKEN]: ['AWSPREVIOUS'] });
  });

  it('issue 13.8: aws create-secret --add-replica-regions is recorded and reported as Failed, never a silent success', async () => {
    const r = await aws(['create-secret', '--name', 'Replicated', '--add-replica-regions', 'Region=us-west-2', 'Region=eu-west-3,KmsKeyId=alias/k']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json().ReplicationStatus).toEqual([
      expect.objectContaining({ Region: 'us-west-2', Status: 'Failed', StatusMessage: expect.stringContaining('not available offline') }),
      expect.objectContaining({ Region: 'eu-west-3', KmsKeyId: 'alias/k', Status: 'Failed' }),
    ]);
    const removed = await aws(['remove-regions-from-replication', '--secret-id', 'Replicated', '--remove-replica-regions', 'us-west-2']);
    expect(removed.status, removed.stderr).toBe(0);
    const viaAws = await aws(['describe-secret', '--secret-id', 'Replicated']);
    const direct = t.cli(['describe-secret', '--secret-id', 'Replicated']);
    expect(viaAws.json()).toMatchObject({ PrimaryRegion: server.region, ReplicationStatus: [{ Region: 'eu-west-3', Status: 'Failed' }] });
    expect(direct.json()).toEqual(viaAws.json());
  });

  it('issue 13.9: aws put-resource-policy, get-resource-policy and validate-resource-policy against serve', async () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
    const put = await aws(['put-resource-policy', '--secret-id', 'MyTestDatabaseSecret', '--resource-policy', policy, '--block-public-policy']);
    expect(put.status, put.stderr).toBe(0);
    const got = await aws(['get-resource-policy', '--secret-id', 'MyTestDatabaseSecret']);
    expect(JSON.parse(got.json().ResourcePolicy as string)).toEqual(JSON.parse(policy));
    const validated = await aws(['validate-resource-policy', '--resource-policy', policy]);
    expect(validated.json()).toEqual({ PolicyValidationPassed: true, ValidationErrors: [] });
    const missing = await aws(['get-resource-policy', '--secret-id', 'does-not-exist']);
    expect(missing.status).toBe(254);
    expect(missing.stderr).toContain('ResourceNotFoundException');
  });

  it('an error is the same line and exit code as the AWS CLI gives', async () => {
    const viaAws = await aws(['get-secret-value', '--secret-id', 'does-not-exist']);
    const direct = t.cli(['get-secret-value', '--secret-id', 'does-not-exist']);
    expect(viaAws.status).toBe(254);
    expect(direct.status).toBe(254);
    expect(viaAws.stderr.trim()).toBe("An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.");
    expect(direct.stderr.trim()).toBe(viaAws.stderr.trim());
  });

  it('the same commands give the same JSON through secretstore directly', async () => {
    for (const args of [
      ['get-secret-value', '--secret-id', 'MyTestDatabaseSecret'],
      ['get-secret-value', '--secret-id', 'MyTestDatabaseSecret', '--version-id', TOKEN],
      ['describe-secret', '--secret-id', 'MyTestDatabaseSecret'],
      ['list-secret-version-ids', '--secret-id', 'MyTestDatabaseSecret', '--include-deprecated'],
      ['list-secrets'],
    ]) {
      const viaAws = await aws(args);
      expect(viaAws.status, viaAws.stderr).toBe(0);
      const direct = t.cli(args);
      expect(direct.status, direct.stderr).toBe(0);
      expect(direct.json(), args.join(' ')).toEqual(viaAws.json());
    }
  });
});
