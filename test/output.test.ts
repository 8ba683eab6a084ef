import { describe, expect, it } from 'vitest';
import { render } from '../src/cli/output.js';
import { parseFilters, parseStructure, parseTags } from '../src/cli/values.js';

const response = {
  ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf',
  Name: 'db',
  VersionId: 'v1',
  SecretString: 's3cret',
  VersionStages: ['AWSCURRENT', 'AWSPENDING'],
  CreatedDate: new Date('2026-11-29T12:00:00.123Z'),
};

describe('--output and --query, as the AWS CLI prints them', () => {
  it('json: 4-space indent, ISO timestamps with microseconds and offset', async () => {
    const out = await render(response, 'json', undefined, 'GetSecretValue');
    expect(out).toContain('\n    "Name": "db",');
    expect(out).toContain('"CreatedDate": "2026-11-29T12:00:00.123000+00:00"');
  });

  it('text: scalars tab-separated in key order, lists on lines named by their key', async () => {
    expect(await render(response, 'text', undefined, 'GetSecretValue')).toBe(
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf\t2026-11-29T12:00:00.123000+00:00\tdb\ts3cret\tv1\n' +
        'VERSIONSTAGES\tAWSCURRENT\nVERSIONSTAGES\tAWSPENDING\n',
    );
  });

  it('text: a list of objects prints one line per object under its key, columns by sorted scalar keys', async () => {
    const listing = { Versions: [{ VersionId: 'a', CreatedDate: 'x' }, { VersionId: 'b', CreatedDate: 'y' }], Name: 'db' };
    expect(await render(listing, 'text', undefined, 'ListSecretVersionIds')).toBe('db\nVERSIONS\tx\ta\nVERSIONS\ty\tb\n');
  });

  it('--query selects with JMESPath before formatting', async () => {
    expect(await render(response, 'text', 'SecretString', 'GetSecretValue')).toBe('s3cret\n');
    expect(await render(response, 'json', 'VersionStages[0]', 'GetSecretValue')).toBe('"AWSCURRENT"\n');
    await expect(render(response, 'json', '[[[', 'GetSecretValue')).rejects.toThrow(/Bad value for --query/);
  });

  it('yaml and table render the same data', async () => {
    expect(await render(response, 'yaml', undefined, 'GetSecretValue')).toContain('VersionStages:\n  - AWSCURRENT\n');
    const table = await render({ Name: 'db', Tags: [{ Key: 'k', Value: 'v' }] }, 'table', undefined, 'DescribeSecret');
    expect(table).toContain('DescribeSecret');
    expect(table).toMatch(/\| Name +\| db +\|/);
    expect(table).toMatch(/\| Key +\| Value +\|/);
    expect(table).toMatch(/\| k +\| v +\|/);
  });
});

describe('AWS CLI shorthand for structured flags', () => {
  it('tags: Key=k,Value=v items, or JSON', async () => {
    expect(parseTags(['Key=a,Value=1', 'Key=b,Value=x=y'])).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b', Value: 'x=y' }]);
    expect(parseTags(['[{"Key":"a","Value":"1"}]'])).toEqual([{ Key: 'a', Value: '1' }]);
  });
  it('filters: Values collects every comma-separated value', async () => {
    expect(parseFilters(['Key=name,Values=prod/,dev/', 'Key=tag-key,Values=team'])).toEqual([
      { Key: 'name', Values: ['prod/', 'dev/'] },
      { Key: 'tag-key', Values: ['team'] },
    ]);
  });
  it('structures: whole numbers become numbers and a cron expression keeps its commas', async () => {
    const param = { member: 'RotationRules', type: 'structure', help: '' } as const;
    expect(parseStructure('AutomaticallyAfterDays=30,Duration=2h', param)).toEqual({ AutomaticallyAfterDays: 30, Duration: '2h' });
    expect(parseStructure('ScheduleExpression=cron(0 16 1,15 * ? *)', param)).toEqual({ ScheduleExpression: 'cron(0 16 1,15 * ? *)' });
    expect(parseStructure('{"AutomaticallyAfterDays": 7}', param)).toEqual({ AutomaticallyAfterDays: 7 });
  });
  // Found by test/properties/cli-input.test.ts: the text was quoted raw, so a line break split the message.
  it('shorthand that is not Name=value is refused in one line, the text quoted with its line breaks escaped', () => {
    expect(() => parseFilters(['\n'])).toThrow('Expected Name=value in "\\n"');
  });
});

describe('timestamps as the AWS CLI prints them', () => {
  it('a whole second has no fraction, as Python isoformat() writes it', async () => {
    expect(await render({ D: new Date('2026-11-29T12:00:00.000Z') }, 'json', undefined, 'X')).toContain('"D": "2026-11-29T12:00:00+00:00"');
  });
});
