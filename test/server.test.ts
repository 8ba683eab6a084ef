/**
 * `secretstore serve`: the real `@aws-sdk/client-secrets-manager` client (and raw SigV4-signed requests)
 * against a real server over a real store: git, libsodium, the credentials file. No mocks.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchGetSecretValueCommand,
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerServiceException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  InvalidRequestException as SdkInvalidRequestException,
  paginateListSecretVersionIds,
  paginateListSecrets,
  type SecretListEntry,
  type SecretVersionsListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { makeStore, type TestStore } from './helpers/store.js';
import { send, signHeaders, signed, spawnTestServer, startTestServer, type TestServer } from './helpers/server.js';
import { Messages } from '../src/errors.js';
import { startServer } from '../src/server/server.js';

const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

let t: TestStore;
let s: TestServer;
let sm: SecretsManagerClient;
let seq = 0;
const fresh = (prefix = 'srv') => `${prefix}/secret-${++seq}`;
const commits = () => Number(t.git(['rev-list', '--count', 'HEAD']).trim());

beforeAll(async () => {
  t = makeStore();
  s = await startTestServer(t);
  sm = s.client();
});
afterAll(async () => {
  await s?.close();
  t?.cleanup();
});

describe('every operation of the table through the AWS SDK', () => {
  it('create, put, get, describe, update, update-version-stage; each write one commit', async () => {
    const name = fresh();
    const before = commits();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v0', ClientRequestToken: T(0), Description: 'first' }));
    expect(created).toMatchObject({ Name: name, VersionId: T(0) });
    expect(created.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-[A-Za-z0-9]{6}$`));
    expect(created.$metadata.httpStatusCode).toBe(200);
    expect(created.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    // The SDK generates the ClientRequestToken when it is left out, as against AWS.
    const put = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v1' }));
    expect(put.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(put.VersionStages).toEqual(['AWSCURRENT']);

    const got = await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(got).toMatchObject({ Name: name, SecretString: 'v1', VersionId: put.VersionId, VersionStages: ['AWSCURRENT'] });
    expect(got.CreatedDate).toBeInstanceOf(Date);
    expect('SecretBinary' in got).toBe(false);
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('v0');

    const updated = await sm.send(new UpdateSecretCommand({ SecretId: name, Description: 'second', SecretString: 'v2', ClientRequestToken: T(2) }));
    expect(updated).toMatchObject({ Name: name, VersionId: T(2) });
    await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: T(0), RemoveFromVersionId: T(2) }),
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.Description).toBe('second');
    expect(described.VersionIdsToStages).toEqual({ [T(0)]: ['AWSCURRENT'], [T(2)]: ['AWSPREVIOUS'] });
    expect(described.CreatedDate).toBeInstanceOf(Date);
    expect(described.LastChangedDate!.getTime()).toBeGreaterThanOrEqual(described.CreatedDate!.getTime());
    expect(described.DeletedDate).toBeUndefined();
    expect(commits()).toBe(before + 4);
    expect(t.git(['status', '--porcelain'])).toBe('');
  });

  it('SecretBinary with all 256 byte values round-trips (create, put, get, batch-get)', async () => {
    const name = fresh();
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const reversed = Uint8Array.from(bytes).reverse();
    await sm.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes, ClientRequestToken: T(0) }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    expect(Buffer.from(got.SecretBinary!).equals(Buffer.from(bytes))).toBe(true);
    expect(got.SecretString).toBeUndefined();
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretBinary: reversed, ClientRequestToken: T(1) }));
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: [name] }));
    expect(batch.SecretValues).toHaveLength(1);
    expect(Buffer.from(batch.SecretValues![0]!.SecretBinary!).equals(Buffer.from(reversed))).toBe(true);
    const old = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: T(0) }));
    expect(Buffer.from(old.SecretBinary!).equals(Buffer.from(bytes))).toBe(true);
  });

  it('batch-get by names and by filters; list-secrets with paginateListSecrets', async () => {
    const prefix = `batch${++seq}`;
    const names = Array.from({ length: 5 }, (_, i) => `${prefix}/s${i}`);
    for (const [i, name] of names.entries()) {
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: `value-${i}`, Tags: [{ Key: 'group', Value: prefix }] }));
    }
    const byName = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: [names[0]!, names[3]!, 'does-not-exist'] }));
    expect(byName.SecretValues!.map((v) => [v.Name, v.SecretString])).toEqual([
      [names[0], 'value-0'],
      [names[3], 'value-3'],
    ]);
    expect(byName.Errors).toEqual([expect.objectContaining({ SecretId: 'does-not-exist', ErrorCode: 'ResourceNotFoundException' })]);
    const byFilter = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: [`${prefix}/`] }] }));
    expect(byFilter.SecretValues!.map((v) => v.Name).sort()).toEqual(names);

    const pages: SecretListEntry[][] = [];
    for await (const page of paginateListSecrets({ client: sm, pageSize: 2 }, { Filters: [{ Key: 'tag-value', Values: [prefix] }] })) {
      pages.push(page.SecretList ?? []);
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((e) => e.Name)).toEqual(names);
    expect(pages.flat()[0]!.Tags).toEqual([{ Key: 'group', Value: prefix }]);
    expect(pages.flat()[0]!.CreatedDate).toBeInstanceOf(Date);
  });

  it('list-secret-version-ids with paginateListSecretVersionIds, deprecated versions included', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v0', ClientRequestToken: T(0) }));
    for (let i = 1; i <= 4; i++) await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}`, ClientRequestToken: T(i) }));
    const versions: SecretVersionsListEntry[] = [];
    for await (const page of paginateListSecretVersionIds({ client: sm, pageSize: 2 }, { SecretId: name, IncludeDeprecated: true })) {
      expect(page.Name).toBe(name);
      versions.push(...(page.Versions ?? []));
    }
    expect(versions.map((v) => v.VersionId)).toEqual([T(4), T(3), T(2), T(1), T(0)]);
    expect(versions[0]!.VersionStages).toEqual(['AWSCURRENT']);
    expect(versions[1]!.VersionStages).toEqual(['AWSPREVIOUS']);
    expect('VersionStages' in versions[4]!).toBe(false);
    expect(versions[0]!.CreatedDate).toBeInstanceOf(Date);
    const labelled = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(labelled.Versions!.map((v) => v.VersionId)).toEqual([T(4), T(3)]);
  });

  it('tag, untag, delete (scheduled), restore, force delete', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    const tagged = await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    expect(tagged.$metadata.httpStatusCode).toBe(200);
    await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['a'] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).Tags).toEqual([{ Key: 'b', Value: '2' }]);

    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect(deleted.Name).toBe(name);
    expect(deleted.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const scheduled = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(scheduled.DeletedDate).toBeInstanceOf(Date);
    const refused = await sm.send(new GetSecretValueCommand({ SecretId: name })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SdkInvalidRequestException);
    expect((refused as Error).message).toBe(Messages.markedForDeletion);

    await sm.send(new RestoreSecretCommand({ SecretId: name }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('x');
    await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    const gone = await sm.send(new DescribeSecretCommand({ SecretId: name })).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
  });

  it('get-random-password', async () => {
    const r = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }));
    expect(r.RandomPassword).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('rotate-secret (a test-only run of a local command) and cancel-rotate-secret', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x', ClientRequestToken: T(0) }));
    const before = commits();
    const rotated = await sm.send(
      new RotateSecretCommand({ SecretId: name, RotationLambdaARN: 'true', RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }),
    );
    expect(rotated.Name).toBe(name);
    expect(rotated.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: 'true', RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(described.NextRotationDate).toBeInstanceOf(Date);
    expect(described.VersionIdsToStages).toEqual({ [T(0)]: ['AWSCURRENT'] });
    expect(commits()).toBeGreaterThan(before);
    await sm.send(new CancelRotateSecretCommand({ SecretId: name }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).RotationEnabled).toBe(false);
  });

  it('a full rotation whose command calls this server back through the SDK, as a Lambda calls AWS', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'before', ClientRequestToken: T(0) }));
    const script = join(t.base, `rotate-${seq}.cjs`);
    writeFileSync(
      script,
      `const sdk = require('node:module').createRequire(${JSON.stringify(join(process.cwd(), 'package.json'))})('@aws-sdk/client-secrets-manager');
process.removeAllListeners('warning');
const client = new sdk.SecretsManagerClient({ endpoint: ${JSON.stringify(s.url)}, region: ${JSON.stringify(s.region)}, maxAttempts: 1,
  credentials: ${JSON.stringify({ accessKeyId: s.credential.accessKeyId, secretAccessKey: s.credential.secretAccessKey })} });
const { SECRETSTORE_STEP: step, SECRETSTORE_SECRET_ID: id, SECRETSTORE_CLIENT_REQUEST_TOKEN: token } = process.env;
(async () => {
  if (step === 'createSecret') {
    await client.send(new sdk.PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: 'after', VersionStages: ['AWSPENDING'] }));
  } else if (step === 'finishSecret') {
    const d = await client.send(new sdk.DescribeSecretCommand({ SecretId: id }));
    const current = Object.keys(d.VersionIdsToStages).find((v) => d.VersionIdsToStages[v].includes('AWSCURRENT'));
    if (current !== token) {
      await client.send(new sdk.UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }));
    }
  }
})().catch((e) => { console.error(e.name, e.message); process.exit(1); });
`,
    );
    const command = `'${process.execPath}' '${script}'`;
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: command, RotationRules: { AutomaticallyAfterDays: 7 } }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('after');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    // AWSPENDING may stay on the new current version, as in AWS (spec 3.15 step 6, row 83).
    expect(described.VersionIdsToStages![T(0)]).toEqual(['AWSPREVIOUS']);
    expect(described.VersionIdsToStages![rotated.VersionId!]).toContain('AWSCURRENT');
    expect(described.LastRotatedDate).toBeInstanceOf(Date);
    expect(t.git(['status', '--porcelain'])).toBe('');
  });

  it('errors surface as the SDK typed exceptions, with AWS messages', async () => {
    const missing = await sm.send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', message: Messages.secretNotFound });
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(400);

    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    const exists = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'y' })).catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(ResourceExistsException);
    expect((exists as Error).message).toBe(Messages.alreadyExists(name));

    // Not modelled in the SDK: still a service exception with AWS's name.
    const invalid = await sm.send(new DescribeSecretCommand({ SecretId: 'bad name with spaces' })).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(SecretsManagerServiceException);
    expect(invalid).toMatchObject({ name: 'ValidationException', message: Messages.invalidName });
  });

  it('a secret created by another process (the CLI, or a git pull) is served without a restart', async () => {
    const name = fresh('cli');
    const r = t.cli(['create-secret', '--name', name, '--secret-string', 'from-the-cli']);
    expect(r.status).toBe(0);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('from-the-cli');
  });

  it('the identity stays in memory: reads work while the identity file is away', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'cached', ClientRequestToken: T(0) }));
    await sm.send(new GetSecretValueCommand({ SecretId: name }));
    renameSync(t.identity, `${t.identity}.away`);
    try {
      expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('cached');
    } finally {
      renameSync(`${t.identity}.away`, t.identity);
    }
  });
});

describe('the wire protocol (spec section 1)', () => {
  it('a value-creating request without ClientRequestToken is refused (spec 2.8), before looking the secret up', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    const before = commits();
    for (const [target, body] of [
      ['PutSecretValue', { SecretId: name, SecretString: 'y' }],
      ['PutSecretValue', { SecretId: 'no/such/secret', SecretString: 'y' }],
      ['CreateSecret', { Name: fresh(), SecretString: 'y' }],
    ] as const) {
      const r = await s.signed(target, JSON.stringify(body));
      expect(r.status).toBe(400);
      expect(r.json()).toEqual({ __type: 'InvalidRequestException', Message: Messages.tokenRequired });
      expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(r.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers['x-amzn-errortype']).toBe('InvalidRequestException');
    }
    expect(commits()).toBe(before);
  });

  it('responses hold only populated members; timestamps are epoch seconds with milliseconds; blobs base64', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretBinary: Buffer.from('footest'), ClientRequestToken: T(0) }));
    const got = await s.signed('GetSecretValue', JSON.stringify({ SecretId: name }));
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(got.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    const body = got.json();
    expect(Object.keys(body).sort()).toEqual(['ARN', 'CreatedDate', 'Name', 'SecretBinary', 'VersionId', 'VersionStages']);
    expect(body.SecretBinary).toBe('Zm9vdGVzdA==');
    expect(typeof body.CreatedDate).toBe('number');
    expect(Math.abs((body.CreatedDate as number) * 1000 - Date.now())).toBeLessThan(60_000);
    expect(String(body.CreatedDate)).toMatch(/^\d{10}(\.\d{1,3})?$/);
    // A raw binary put with base64 in the body (the base64 must be valid).
    const put = await s.signed('PutSecretValue', JSON.stringify({ SecretId: name, SecretBinary: 'AAEC/w==', ClientRequestToken: T(1) }));
    expect(put.status).toBe(200);
    const back = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    expect([...back.SecretBinary!]).toEqual([0, 1, 2, 255]);
    const tagged = await s.signed('TagResource', JSON.stringify({ SecretId: name, Tags: [{ Key: 'k', Value: 'v' }] }));
    expect([tagged.status, tagged.body]).toEqual([200, '{}']);
  });

  it('unknown target: UnknownOperationException; out-of-scope operation: InvalidRequestException', async () => {
    const unknown = await s.signed('DoSomethingElse', '{}');
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
    const wrongPrefix = await signed(s.url, { target: 'kms.Decrypt', credential: s.credential, region: s.region });
    expect(wrongPrefix.json()).toMatchObject({ __type: 'UnknownOperationException' });
    const policy = await s.signed('StopReplicationToReplica', JSON.stringify({ SecretId: 'x' }));
    expect(policy.status).toBe(400);
    expect(policy.json()).toMatchObject({ __type: 'InvalidRequestException', Message: expect.stringContaining('not supported offline') });
  });

  it('malformed JSON and wrong member types: SerializationException', async () => {
    for (const body of ['{"SecretId": ', '[1,2]', '"text"', '{"SecretId": 5}', '{"SecretId": "x", "VersionStage": ["a"]}']) {
      const r = await s.signed('GetSecretValue', body);
      expect([r.status, r.json().__type]).toEqual([400, 'SerializationException']);
    }
    const badBase64 = await s.signed('PutSecretValue', JSON.stringify({ SecretId: 'x', SecretBinary: 'not base64!', ClientRequestToken: T(1) }));
    expect(badBase64.json().__type).toBe('SerializationException');
    const tags = await s.signed('TagResource', JSON.stringify({ SecretId: 'x', Tags: [{ Key: 1 }] }));
    expect(tags.json().__type).toBe('SerializationException');
    // Unknown members are ignored, null is absent (spec 1.1).
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    const lenient = await s.signed('DescribeSecret', JSON.stringify({ SecretId: name, SomethingNew: 1, Description: null }));
    expect(lenient.status).toBe(200);
  });

  it('a 2 MiB body is refused (413, from Content-Length or while streaming) and the server stays up', async () => {
    const big = JSON.stringify({ SecretId: 'x', SecretString: 'a'.repeat(2 * 1024 * 1024) });
    const headers = await signHeaders(s.url, { target: 'secretsmanager.PutSecretValue', body: big, credential: s.credential, region: s.region });
    const declared = await send(s.url, { headers, body: big }).catch((e: NodeJS.ErrnoException) => e);
    if (!(declared instanceof Error)) {
      expect(declared.status).toBe(413);
      expect(declared.json()).toMatchObject({ __type: 'RequestEntityTooLargeException' });
      expect(declared.headers['x-amzn-requestid']).toBeDefined();
    } else {
      expect(['ECONNRESET', 'EPIPE']).toContain(declared.code);
    }
    // Chunked, no Content-Length: counted while streaming, cut past 1 MiB.
    const streamed = await new Promise<number | string>((resolve) => {
      const { 'content-length': _omit, ...rest } = headers;
      const req = httpRequest(new URL(s.url), { method: 'POST', headers: { ...rest, 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < 2 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(streamed);
    expect((await sm.send(new GetRandomPasswordCommand({}))).RandomPassword).toHaveLength(32);
  });
});

describe('authentication (SigV4)', () => {
  const get = JSON.stringify({ SecretId: 'anything' });

  it('an unsigned request: MissingAuthenticationTokenException', async () => {
    const r = await send(s.url, { headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets' }, body: '{}' });
    expect(r.status).toBe(400);
    expect(r.json()).toEqual({ __type: 'MissingAuthenticationTokenException', Message: 'Missing Authentication Token' });
    expect(r.headers['x-amzn-requestid']).toBeDefined();
  });

  it('signed with the wrong secret, or a body other than the one signed: InvalidSignatureException', async () => {
    const wrong = await s.signed('GetSecretValue', get, { credential: { accessKeyId: s.credential.accessKeyId, secretAccessKey: 'not-the-secret' } });
    expect(wrong.json()).toMatchObject({ __type: 'InvalidSignatureException', Message: expect.stringContaining('signature we calculated does not match') });
    const tampered = await s.signed('GetSecretValue', get, { sendBody: JSON.stringify({ SecretId: 'other' }) });
    expect(tampered.json().__type).toBe('InvalidSignatureException');
    // Through the SDK, too.
    const client = s.client({ credentials: { accessKeyId: s.credential.accessKeyId, secretAccessKey: 'wrong' }, maxAttempts: 1 });
    const failed = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'x' })).catch((e: unknown) => e);
    expect(failed).toMatchObject({ name: 'InvalidSignatureException' });
  });

  it('an access key the server does not know: UnrecognizedClientException', async () => {
    const r = await s.signed('GetSecretValue', get, { credential: { accessKeyId: 'SSIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } });
    expect(r.status).toBe(400);
    expect(r.json()).toEqual({ __type: 'UnrecognizedClientException', Message: 'The security token included in the request is invalid.' });
  });

  it('signed 10 minutes ago (consistently): InvalidSignatureException "Signature expired"', async () => {
    const r = await s.signed('GetSecretValue', get, { date: new Date(Date.now() - 10 * 60_000) });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ __type: 'InvalidSignatureException', Message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/) });
    const future = await s.signed('GetSecretValue', get, { date: new Date(Date.now() + 10 * 60_000) });
    expect(future.json()).toMatchObject({ __type: 'InvalidSignatureException', Message: expect.stringMatching(/^Signature not yet current/) });
  });

  it('another region or service in the scope: InvalidSignatureException', async () => {
    const region = await s.signed('ListSecrets', '{}', { region: 'eu-west-1' });
    expect(region.json()).toMatchObject({ __type: 'InvalidSignatureException', Message: expect.stringContaining('valid region') });
  });

  it('a replayed request inside the window is accepted, as AWS accepts it; a replayed put changes nothing', async () => {
    const name = fresh();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x', ClientRequestToken: T(0) }));
    const body = JSON.stringify({ SecretId: name, SecretString: 'y', ClientRequestToken: T(1) });
    const headers = await signHeaders(s.url, { target: 'secretsmanager.PutSecretValue', body, credential: s.credential, region: s.region });
    const first = await send(s.url, { headers, body });
    const before = commits();
    const again = await send(s.url, { headers, body });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.json().VersionId).toBe(T(1));
    expect(commits()).toBe(before);
  });

  it('a key added with serve --init-credentials works without a restart; the file is 0600 and others may not read it', async () => {
    const r = t.cli(['serve', '--init-credentials', '--credentials-file', s.credentialsFile]);
    expect(r.status).toBe(0);
    const pair = r.json<{ AccessKeyId: string; SecretAccessKey: string }>();
    expect(pair.AccessKeyId).toMatch(/^SSIA[A-Z2-7]{16}$/);
    expect(statSync(s.credentialsFile).mode & 0o777).toBe(0o600);
    const client = s.client({ credentials: { accessKeyId: pair.AccessKeyId, secretAccessKey: pair.SecretAccessKey } });
    expect((await client.send(new GetRandomPasswordCommand({ PasswordLength: 8 }))).RandomPassword).toHaveLength(8);

    chmodSync(s.credentialsFile, 0o644);
    try {
      // The client learns nothing about the file; the server's log says why.
      const refused = await s.signed('ListSecrets', '{}');
      expect(refused.status).toBe(500);
      expect(refused.json()).toEqual({ __type: 'InternalServiceError', Message: 'The server cannot read its credentials file; see the server log.' });
      expect(s.logged.join('\n')).toMatch(/has mode 0644, so other users may read it/);
      await expect(startServer({ store: t.dir, identity: t.identity, env: t.env, port: 0, credentialsFile: s.credentialsFile })).rejects.toThrow(
        /mode 0644/,
      );
    } finally {
      chmodSync(s.credentialsFile, 0o600);
    }
  });

  it('refuses a non-loopback address without TLS and --allow-remote', async () => {
    await expect(startServer({ store: t.dir, host: '0.0.0.0', port: 0, credentialsFile: s.credentialsFile, env: t.env })).rejects.toThrow(
      /not a loopback address/,
    );
    await expect(
      startServer({ store: t.dir, host: '0.0.0.0', port: 0, credentialsFile: s.credentialsFile, env: t.env, tlsCert: 'c', tlsKey: 'k' }),
    ).rejects.toThrow(/not a loopback address/);
    const cli = t.cli(['serve', '--host', '0.0.0.0', '--port', '0', '--credentials-file', s.credentialsFile]);
    expect(cli.status).toBe(254);
    expect(cli.stderr).toMatch(/not a loopback address/);
  });

  it.runIf(spawnSync('openssl', ['version']).status === 0 || process.env.CI === 'true')('serves HTTPS with --tls-cert/--tls-key', async () => {
    const cert = join(t.base, 'cert.pem');
    const key = join(t.base, 'key.pem');
    const made = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ]);
    expect(made.status).toBe(0);
    const server = await startServer({ store: t.dir, identity: t.identity, env: t.env, port: 0, credentialsFile: s.credentialsFile, tlsCert: cert, tlsKey: key });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = '{}';
      const headers = await signHeaders(server.url, { target: 'secretsmanager.GetRandomPassword', body, credential: s.credential, region: s.region });
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(new URL(server.url), { method: 'POST', headers, ca: readFileSync(cert), agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('concurrency', () => {
  it('50 concurrent clients mixing reads and puts lose nothing; writes are serialised commits', async () => {
    const names = [fresh('busy'), fresh('busy')];
    for (const name of names) await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v0', ClientRequestToken: T(0) }));
    const before = commits();
    // maxAttempts 1: an error is an error, not hidden by the SDK's retries.
    const clients = Array.from({ length: 50 }, () => s.client({ maxAttempts: 1 }));
    const putsPerClient = 2;
    const readsPerClient = 4;
    const started = performance.now();
    const results = await Promise.all(
      clients.map(async (client, c) => {
        const ids: string[] = [];
        for (let i = 0; i < Math.max(putsPerClient, readsPerClient); i++) {
          const name = names[(c + i) % names.length]!;
          if (i < putsPerClient) {
            const r = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: `c${c}-${i}` }));
            ids.push(`${name} ${r.VersionId}`);
          }
          if (i < readsPerClient) {
            const got = await client.send(new GetSecretValueCommand({ SecretId: name }));
            expect(got.SecretString).toMatch(/^(v0|c\d+-\d)$/);
          }
        }
        return ids;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const puts = results.flat();
    expect(puts).toHaveLength(100);

    for (const name of names) {
      const listed = new Set<string>();
      for await (const page of paginateListSecretVersionIds({ client: sm, pageSize: 100 }, { SecretId: name, IncludeDeprecated: true })) {
        for (const v of page.Versions ?? []) listed.add(`${name} ${v.VersionId}`);
      }
      for (const id of puts.filter((p) => p.startsWith(`${name} `))) expect(listed.has(id)).toBe(true);
    }
    expect(commits()).toBe(before + puts.length);
    expect(t.git(['status', '--porcelain'])).toBe('');
    expect(existsSync(join(t.dir, '.git', 'secretstore.lock'))).toBe(false);

    // Reads alone, for a figure: 50 clients x 10 reads.
    const readStart = performance.now();
    await Promise.all(clients.map(async (client, c) => {
      for (let i = 0; i < 10; i++) await client.send(new GetSecretValueCommand({ SecretId: names[(c + i) % 2]! }));
    }));
    const readSeconds = (performance.now() - readStart) / 1000;
    console.log(
      `server concurrency: ${puts.length} puts + ${50 * readsPerClient} reads mixed in ${seconds.toFixed(2)} s ` +
        `(${(puts.length / seconds).toFixed(0)} puts/s alongside ${((50 * readsPerClient) / seconds).toFixed(0)} reads/s); ` +
        `500 reads alone in ${readSeconds.toFixed(2)} s (${(500 / readSeconds).toFixed(0)} reads/s)`,
    );
  });

  it('10 concurrent PutSecretValue requests land as 10 consecutive signed commits, several of them under one ref update', async () => {
    const name = fresh('batch');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v0', ClientRequestToken: T(0) }));
    const before = t.git(['rev-parse', 'HEAD']).trim();
    const reflogBefore = t.git(['reflog', 'HEAD']).trim().split('\n').length;
    const clients = Array.from({ length: 10 }, () => s.client({ maxAttempts: 1 }));
    const puts = await Promise.all(clients.map((client, i) => client.send(new PutSecretValueCommand({ SecretId: name, SecretString: `p${i}`, ClientRequestToken: T(100 + i) }))));
    expect(puts.map((p) => p.VersionId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => T(100 + i)));
    // One commit per put, each on the previous one (a linear history from where they began), each signed.
    const made = t.git(['rev-list', '--reverse', '--parents', `${before}..HEAD`]).trim().split('\n').map((l) => l.split(' '));
    expect(made).toHaveLength(10);
    made.forEach(([, ...parents], i) => expect(parents).toEqual([i === 0 ? before : made[i - 1]![0]]));
    for (const [commit] of made) expect(t.git(['log', '-1', '--format=%B', commit!])).toMatch(/^Secretstore-Signature: /m);
    // HEAD moved fewer times than commits were made: requests that queued behind the lock landed together.
    const moves = t.git(['reflog', '--format=%H %gs', 'HEAD']).trim().split('\n').slice(0, t.git(['reflog', 'HEAD']).trim().split('\n').length - reflogBefore);
    expect(moves.length).toBeLessThan(10);
    // Each move reached one of these commits, the last the newest; the reflog names the operation.
    expect(moves[0]!.split(' ')[0]).toBe(made[9]![0]);
    for (const move of moves) {
      expect(made.map(([commit]) => commit)).toContain(move.split(' ')[0]);
      expect(move.slice(move.indexOf(' ') + 1)).toBe('secretstore: put-secret-value');
    }
    expect(t.git(['status', '--porcelain'])).toBe('');
    const got = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    expect(puts.map((p) => p.VersionId)).toContain(got.VersionId);
  });

  it('.secretstore.yaml changed underneath (a git pull) is picked up without a restart', async () => {
    const u = makeStore();
    const server = await startTestServer(u);
    try {
      expect((await server.signed('ListSecrets', '{}')).status).toBe(200);
      const file = join(u.dir, '.secretstore.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^region: .*$/m, 'region: eu-west-1'));
      expect(u.cli(['sign', '--config']).status).toBe(0); // committed signed by the store's writer (issue #4)
      const old = await server.signed('ListSecrets', '{}');
      expect(old.json().__type).toBe('InvalidSignatureException');
      const moved = await server.signed('CreateSecret', JSON.stringify({ Name: 'moved', SecretString: 'x', ClientRequestToken: T(0) }), { region: 'eu-west-1' });
      expect(moved.status).toBe(200);
      expect(moved.json().ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:/);
    } finally {
      await server.close();
      u.cleanup();
    }
  });
});

describe('life cycle of the real `secretstore serve` process', () => {
  it('SIGTERM: stops accepting, completes the request in flight, exits 0', async () => {
    const child = await spawnTestServer(t);
    try {
      const name = fresh('sigterm');
      const body = JSON.stringify({ Name: name, SecretString: 'in flight', ClientRequestToken: T(7) });
      const headers = await signHeaders(child.url, { target: 'secretsmanager.CreateSecret', body, credential: child.credential, region: child.region });
      // Half the body now, SIGTERM, then the rest: the request is in flight across the signal.
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(new URL(child.url), { method: 'POST', headers, agent: false }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.write(body.slice(0, 20));
        setTimeout(() => {
          child.terminate();
          setTimeout(() => req.end(body.slice(20)), 300);
        }, 300);
      });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toMatchObject({ Name: name, VersionId: T(7) });
      await child.close(); // waits for the exit, and fails unless it is 0
      expect(child.logged.join('\n')).toMatch(/SIGTERM: finishing requests in flight/);
      expect(t.git(['log', '-1', '--format=%s'])).toContain(name);
      expect(t.git(['status', '--porcelain'])).toBe('');
      await expect(send(child.url, { headers: {}, body: '{}' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
