import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';

let t: TestStore;
beforeAll(() => {
  t = makeStore();
  expect(t.cli(['create-secret', '--name', 'fmt', '--secret-string', '-'], { input: 'v1' }).status).toBe(0);
});
afterAll(() => t.cleanup());

describe('CLI output formats, --query and request input, as the AWS CLI', () => {
  it('--query with --output text prints just the value', () => {
    const r = t.cli(['get-secret-value', '--secret-id', 'fmt', '--query', 'SecretString', '--output', 'text']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('v1\n');
  });

  it('--output yaml and table', () => {
    expect(t.cli(['describe-secret', '--secret-id', 'fmt', '--output', 'yaml']).stdout).toMatch(/^ARN: arn:aws:secretsmanager:/m);
    const table = t.cli(['--output', 'table', 'describe-secret', '--secret-id', 'fmt']).stdout;
    expect(table).toContain('DescribeSecret');
    expect(table).toMatch(/\| Name +\| fmt +\|/);
  });

  it('an unknown --output is a usage error (252)', () => {
    expect(t.cli(['describe-secret', '--secret-id', 'fmt', '--output', 'xml']).status).toBe(252);
  });

  it('--cli-input-json supplies members, and flags on the command line win', () => {
    const input = join(t.base, 'input.json');
    writeFileSync(input, JSON.stringify({ SecretId: 'fmt', SecretString: 'from-json', VersionStages: ['STAGED'] }));
    const r = t.cli(['put-secret-value', '--cli-input-json', `file://${input}`]);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ VersionStages: ['STAGED'] });
    expect(t.cli(['get-secret-value', '--secret-id', 'fmt', '--version-stage', 'STAGED', '--query', 'SecretString']).json()).toBe('from-json');
    const override = t.cli(['get-secret-value', '--cli-input-json', '{"SecretId":"fmt","VersionStage":"STAGED"}', '--version-stage', 'AWSCURRENT']);
    expect(override.json()).toMatchObject({ SecretString: 'v1' });
  });

  it('--cli-input-yaml works the same way, and an unknown member is refused', () => {
    expect(t.cli(['describe-secret', '--cli-input-yaml', 'SecretId: fmt']).json()).toMatchObject({ Name: 'fmt' });
    const bad = t.cli(['describe-secret', '--cli-input-json', '{"SecretID":"fmt"}']);
    expect(bad.status).toBe(254);
    expect(bad.stderr).toContain('Unknown parameter in input: "SecretID"');
  });

  it('--generate-cli-skeleton prints every member and runs nothing', () => {
    const head = t.git(['rev-parse', 'HEAD']);
    const r = t.cli(['put-secret-value', '--generate-cli-skeleton']);
    expect(r.status).toBe(0);
    expect(Object.keys(r.json())).toEqual(['SecretId', 'ClientRequestToken', 'SecretString', 'SecretBinary', 'VersionStages', 'RotationToken']);
    expect(t.cli(['put-secret-value', '--generate-cli-skeleton', 'yaml-input']).stdout).toContain('SecretId: ""');
    expect(t.git(['rev-parse', 'HEAD'])).toBe(head);
  });

  it('a missing required flag names it, with exit code 252', () => {
    const r = t.cli(['get-secret-value']);
    expect(r.status).toBe(252);
    expect(r.stderr).toContain('the following arguments are required: --secret-id');
  });
});

describe('pagination in the CLI, as the AWS CLI does it', () => {
  it('list commands follow NextToken and join every page unless told otherwise', () => {
    for (const name of ['page-a', 'page-b']) t.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: 'x' });
    const names = (args: string[]) => t.cli(['list-secrets', ...args]).json<{ SecretList: { Name: string }[]; NextToken?: string }>();
    const all = names(['--page-size', '1']);
    expect(all.SecretList.map((s) => s.Name)).toEqual(['fmt', 'page-a', 'page-b']);
    expect(all.NextToken).toBeUndefined();
    const one = names(['--max-results', '1']);
    expect(one.SecretList).toHaveLength(1);
    expect(one.NextToken).toEqual(expect.any(String));
    expect(names(['--page-size', '1', '--no-paginate']).SecretList).toHaveLength(1);
  });
});
