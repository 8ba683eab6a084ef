/**
 * Issue 13.9 (spec 3.16): resource policies are metadata of the secret, stored in its index, shown in
 * review and in the index diff, not enforced; through the library, the CLI and serve. Every policy
 * operation on an unknown secret answers ResourceNotFoundException; errors leave the store as it was.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  ValidateResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { makeStore, rejectsUnchanged, type TestStore } from './helpers/store.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import type { Store } from '../src/index.js';
import { mergeSecretIndex } from '../src/core/merge.js';
import { DEFAULT_POLICY, type SecretIndex } from '../src/model/store.js';

let t: TestStore;
let store: Store;
let s: TestServer;
let sm: SecretsManagerClient;
let seq = 0;
const fresh = () => `pol/secret-${++seq}`;
const commits = () => Number(t.git(['rev-list', '--count', 'HEAD']).trim());

const POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/app' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
};
const PUBLIC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:*', Resource: '*' }] };
const text = (doc: unknown) => JSON.stringify(doc);

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
  s = await startTestServer(t);
  sm = s.client();
});
afterAll(async () => {
  await s?.close();
  t?.cleanup();
});

describe('issue 13.9: resource policies recorded as metadata (spec 3.16)', () => {
  it('issue 13.9: put-resource-policy stores the policy in secret.yaml in one commit; get returns ARN, Name and ResourcePolicy', async () => {
    const name = fresh();
    const { ARN } = await store.createSecret({ Name: name, SecretString: 'v' });
    expect(await store.getResourcePolicy({ SecretId: name })).toEqual({ ARN, Name: name });
    const before = commits();
    expect(await store.putResourcePolicy({ SecretId: name, ResourcePolicy: text(POLICY), BlockPublicPolicy: true })).toEqual({ ARN, Name: name });
    expect(commits()).toBe(before + 1);
    expect(t.git(['log', '-1', '--format=%s']).trim()).toBe(`put-resource-policy ${name}: set the resource policy (recorded, not enforced offline)`);
    const got = await store.getResourcePolicy({ SecretId: ARN });
    expect(got).toMatchObject({ ARN, Name: name });
    expect(JSON.parse(got.ResourcePolicy!)).toEqual(POLICY);
    // Indented JSON in a YAML block: the index diff shows a policy change line by line.
    const index = readFileSync(join(t.dir, 'secrets', name, 'secret.yaml'), 'utf8');
    expect(index).toContain('resourcePolicy: |-\n  {\n    "Version": "2012-10-17",\n');
    // The same policy again is not a change.
    await store.putResourcePolicy({ SecretId: name, ResourcePolicy: JSON.stringify(POLICY, null, 8) });
    expect(commits()).toBe(before + 1);
    const changed = { ...POLICY, Statement: [{ ...POLICY.Statement[0]!, Action: 'secretsmanager:DescribeSecret' }] };
    await store.putResourcePolicy({ SecretId: name, ResourcePolicy: text(changed) });
    const diff = t.git(['show', '--format=', 'HEAD', '--', `secrets/${name}/secret.yaml`]);
    expect(diff).toContain('-        "Action": "secretsmanager:GetSecretValue",');
    expect(diff).toContain('+        "Action": "secretsmanager:DescribeSecret",');
  });

  it('issue 13.9: delete-resource-policy removes it in one commit; without a policy it answers the same with no commit', async () => {
    const name = fresh();
    const { ARN } = await store.createSecret({ Name: name, SecretString: 'v' });
    await store.putResourcePolicy({ SecretId: name, ResourcePolicy: text(POLICY) });
    let before = commits();
    expect(await store.deleteResourcePolicy({ SecretId: name })).toEqual({ ARN, Name: name });
    expect(commits()).toBe(before + 1);
    expect(await store.getResourcePolicy({ SecretId: name })).toEqual({ ARN, Name: name });
    expect(readFileSync(join(t.dir, 'secrets', name, 'secret.yaml'), 'utf8')).not.toContain('resourcePolicy');
    before = commits();
    expect(await store.deleteResourcePolicy({ SecretId: name })).toEqual({ ARN, Name: name });
    expect(commits()).toBe(before);
  });

  it('issue 13.9: validate-resource-policy answers in AWS shape: PolicyValidationPassed and ValidationErrors', async () => {
    expect(await store.validateResourcePolicy({ ResourcePolicy: text(POLICY) })).toEqual({ PolicyValidationPassed: true, ValidationErrors: [] });
    const pub = await store.validateResourcePolicy({ ResourcePolicy: text(PUBLIC) });
    expect(pub).toEqual({ PolicyValidationPassed: false, ValidationErrors: [{ CheckName: 'PUBLIC_ACCESS_CHECK', ErrorMessage: expect.stringContaining('every principal') }] });
    const broken = await store.validateResourcePolicy({ ResourcePolicy: '{"Statement": [' });
    expect(broken.PolicyValidationPassed).toBe(false);
    expect(broken.ValidationErrors[0]).toMatchObject({ CheckName: 'SYNTAX_CHECK', ErrorMessage: expect.stringContaining('not valid JSON') });
    const grammar = await store.validateResourcePolicy({ ResourcePolicy: text({ Statement: [{ Effect: 'Maybe', Action: 'x' }] }) });
    expect(grammar.ValidationErrors.map((e) => e.ErrorMessage)).toEqual([
      'Statement 1 must have Effect "Allow" or "Deny"',
      'Statement 1 must have exactly one of Principal and NotPrincipal',
    ]);
  });

  it('issue 13.9: put refuses a malformed policy, and a public one with BlockPublicPolicy; nothing written', async () => {
    const name = fresh();
    await store.createSecret({ Name: name, SecretString: 'v' });
    await rejectsUnchanged(t, () => store.putResourcePolicy({ SecretId: name, ResourcePolicy: 'not json' }), { name: 'MalformedPolicyDocumentException' });
    await rejectsUnchanged(t, () => store.putResourcePolicy({ SecretId: name, ResourcePolicy: text({ Version: '2012-10-17' }) }), {
      name: 'MalformedPolicyDocumentException',
      message: 'The policy must have at least one Statement',
    });
    await rejectsUnchanged(t, () => store.putResourcePolicy({ SecretId: name, ResourcePolicy: text(PUBLIC), BlockPublicPolicy: true }), { name: 'PublicPolicyException' });
    await rejectsUnchanged(t, () => store.putResourcePolicy({ SecretId: name, ResourcePolicy: 'x'.repeat(20_481) }), { name: 'ValidationException' });
    // Without BlockPublicPolicy a public policy is recorded (as AWS, whose default does not block it).
    await store.putResourcePolicy({ SecretId: name, ResourcePolicy: text(PUBLIC) });
  });

  it('issue 13.9: every policy operation on an unknown secret answers ResourceNotFoundException', async () => {
    const SecretId = 'pol/none';
    await rejectsUnchanged(t, () => store.putResourcePolicy({ SecretId, ResourcePolicy: text(POLICY) }), { name: 'ResourceNotFoundException' });
    await rejectsUnchanged(t, () => store.getResourcePolicy({ SecretId }), { name: 'ResourceNotFoundException' });
    await rejectsUnchanged(t, () => store.deleteResourcePolicy({ SecretId }), { name: 'ResourceNotFoundException' });
    await rejectsUnchanged(t, () => store.validateResourcePolicy({ SecretId, ResourcePolicy: text(POLICY) }), { name: 'ResourceNotFoundException' });
  });

  it('issue 13.9: review shows a policy change readably (text and markdown), recorded not enforced', () => {
    const name = fresh();
    expect(t.cli(['create-secret', '--name', name, '--secret-string', 'v']).status).toBe(0);
    const base = t.git(['rev-parse', 'HEAD']).trim();
    const file = join(t.base, 'policy.json');
    writeFileSync(file, text(POLICY));
    const put = t.cli(['put-resource-policy', '--secret-id', name, '--resource-policy', `file://${file}`, '--block-public-policy']);
    expect(put.stderr).toBe('');
    expect(put.status).toBe(0);
    const shown = t.cli(['get-resource-policy', '--secret-id', name, '--query', 'ResourcePolicy', '--output', 'text']);
    expect(JSON.parse(shown.stdout)).toEqual(POLICY);
    const review = t.cli(['review', `${base}..HEAD`]);
    expect(review.status).toBe(0);
    expect(review.stdout).toContain(`Resource policies (recorded, not enforced offline) (1):\n  ${name}: set\n    + {\n    +   "Version": "2012-10-17",`);
    const md = t.cli(['review', `${base}..HEAD`, '--format', 'markdown']);
    expect(md.stdout).toContain(`- \`${name}\`: set\n\n\`\`\`diff\n+ {\n`);
    const invalid = t.cli(['validate-resource-policy', '--resource-policy', text(PUBLIC)]);
    expect(invalid.status).toBe(0);
    expect(invalid.json()).toMatchObject({ PolicyValidationPassed: false });
    const missing = t.cli(['get-resource-policy', '--secret-id', 'pol/none']);
    expect(missing.status).toBe(254);
    expect(missing.stderr).toContain('ResourceNotFoundException');
  });

  it('issue 13.9: through serve and the AWS SDK: put, get, validate, delete', async () => {
    const name = fresh();
    await store.createSecret({ Name: name, SecretString: 'v' });
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: text(POLICY), BlockPublicPolicy: true }));
    const got = await sm.send(new GetResourcePolicyCommand({ SecretId: name }));
    expect(JSON.parse(got.ResourcePolicy!)).toEqual(POLICY);
    const validated = await sm.send(new ValidateResourcePolicyCommand({ SecretId: name, ResourcePolicy: text(PUBLIC) }));
    expect(validated.PolicyValidationPassed).toBe(false);
    expect(validated.ValidationErrors?.[0]?.CheckName).toBe('PUBLIC_ACCESS_CHECK');
    await expect(sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: text(PUBLIC), BlockPublicPolicy: true }))).rejects.toMatchObject({
      name: 'PublicPolicyException',
    });
    await sm.send(new DeleteResourcePolicyCommand({ SecretId: name }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBeUndefined();
    await expect(sm.send(new GetResourcePolicyCommand({ SecretId: 'pol/none' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('issue 13.9: a policy put on one side and replica Regions on the other merge 3-way; both changed differently is a contest', () => {
    const base: SecretIndex = {
      name: 'pol/m', arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:pol/m-abcdef', createdDate: '2026-12-01T00:00:00.000Z',
      lastChangedDate: '2026-12-01T00:00:00.000Z', labels: {}, versions: {},
    };
    const ours = { ...base, resourcePolicy: JSON.stringify(POLICY, null, 2), lastChangedDate: '2026-12-02T00:00:00.000Z' };
    const theirs = { ...base, replicaRegions: [{ region: 'eu-west-3' }], lastChangedDate: '2026-12-03T00:00:00.000Z' };
    const opts = { now: new Date('2026-12-04T00:00:00.000Z'), policy: DEFAULT_POLICY };
    const merged = mergeSecretIndex(base, ours, theirs, opts);
    expect(merged).toMatchObject({ kind: 'merged', index: { resourcePolicy: ours.resourcePolicy, replicaRegions: [{ region: 'eu-west-3' }] } });
    const other = { ...theirs, resourcePolicy: JSON.stringify(PUBLIC, null, 2) };
    const contested = mergeSecretIndex(base, ours, other, opts);
    expect(contested).toMatchObject({ kind: 'contested', contests: [{ what: 'field resourcePolicy' }] });
  });
});
