import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { commitSigned, resign } from './helpers/sign.js';
import type { ListSecretsRequest, SecretListEntry, Store } from '../src/index.js';
import { indexPath, secretDir, versionPath } from '../src/core/layout.js';
import { splitWords } from '../src/core/filters.js';

const T = (n: number) => `22222222-0000-4000-8000-${String(n).padStart(12, '0')}`;
const names = (r: { SecretList: SecretListEntry[] }) => r.SecretList.map((s) => s.Name);
const SCHEDULED = 'deletedDate: 2099-01-01T00:00:00.000Z';

/** Schedule a secret for deletion by hand, as delete-secret would record it (spec 2.9). */
async function scheduleByHand(t: TestStore, name: string, line = SCHEDULED): Promise<void> {
  const file = join(t.dir, indexPath(name));
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^(lastChangedDate: .*)$/m, `$1\n${line}`));
  await resign(t, [indexPath(name)]); // signed by the store's writer, as a write would be
  t.git(['commit', '-qam', `schedule ${name} by hand`]);
}

/**
 * Reads see committed content only: `edit` the work tree, commit it signed by the writer (damage, not a
 * trust failure, is what is tested), run `check`, then commit the state before back (forward, signed).
 */
async function whileCommitted(t: TestStore, edit: () => void, check: () => Promise<void>): Promise<void> {
  const good = t.git(['rev-parse', 'HEAD']).trim();
  edit();
  await commitSigned(t, 'a writer\'s hand edit');
  try {
    await check();
  } finally {
    t.git(['read-tree', '--reset', '-u', good]);
    await commitSigned(t, 'undo the hand edit');
  }
}

/** Every page of a listing, with MaxResults `max`: the pages' names and how many pages there were. */
async function walk(store: Store, request: ListSecretsRequest, max: number): Promise<{ all: string[]; pages: number }> {
  const all: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.listSecrets({ ...request, MaxResults: max, ...(token ? { NextToken: token } : {}) });
    expect(page.SecretList.length).toBeLessThanOrEqual(max);
    all.push(...names(page));
    token = page.NextToken;
    pages++;
  } while (token !== undefined);
  return { all, pages };
}

// ---------------------------------------------------------------------------------------------------------
// Filters: one store holding the secrets of spec 8.6 rows 65-68 and of the 3.6 rules.
// ---------------------------------------------------------------------------------------------------------
describe('ListSecrets filters (spec 3.6, 8.6 #65-#68)', () => {
  let t: TestStore;
  let store: Store;
  const list = async (Filters: ListSecretsRequest['Filters']) => names(await store.listSecrets({ Filters })).sort();

  beforeAll(async () => {
    t = makeStore();
    store = await t.open();
    const create = (Name: string, extra: { Description?: string; Tags?: { Key: string; Value: string }[] } = {}) =>
      store.createSecret({ Name, SecretString: 'x', ...extra });
    await create('/a/one');
    await create('/a/two');
    await create('b/one');
    await create('desc/1', { Description: 'a secret' });
    await create('desc/2', { Description: 'an secret' });
    await create('desc/3', { Description: 'asecret' });
    await create('two/1', { Description: 'one two' });
    await create('two/2', { Description: 'one' });
    await create('two/3', { Description: 'two' });
    await create('two/4', { Description: 'unrelated' });
    await create('tag/rr', { Tags: [{ Key: 'right', Value: 'right' }] });
    await create('tag/rw', { Tags: [{ Key: 'right', Value: 'wrong' }] });
    await create('tag/wr', { Tags: [{ Key: 'wrong', Value: 'right' }] });
    await create('tag/ww', { Tags: [{ Key: 'wrong', Value: 'wrong' }] });
  });
  afterAll(() => t.cleanup());

  it('name "/" returns only /-prefixed names, "!/" only the others (#65)', async () => {
    expect(await list([{ Key: 'name', Values: ['/'] }])).toEqual(['/a/one', '/a/two']);
    const others = await list([{ Key: 'name', Values: ['!/'] }]);
    expect(others).toContain('b/one');
    expect(others.some((n) => n.startsWith('/'))).toBe(false);
    expect(others).toHaveLength(12);
  });
  it('name is a case-sensitive prefix of the whole name, without word splitting (3.6 name)', async () => {
    expect(await list([{ Key: 'name', Values: ['/a/t'] }])).toEqual(['/a/two']);
    expect(await list([{ Key: 'name', Values: ['B/'] }])).toEqual([]);
    expect(await list([{ Key: 'name', Values: ['one'] }])).toEqual([]);
    expect(await list([{ Key: 'name', Values: ['b/one two'] }])).toEqual([]);
  });
  it('description "a secret" matches "a secret" and "an secret", not "asecret" (#66)', async () => {
    expect(await list([{ Key: 'description', Values: ['a secret'] }])).toEqual(['desc/1', 'desc/2']);
    expect(await list([{ Key: 'description', Values: ['a'] }])).toEqual(['desc/1', 'desc/2', 'desc/3']);
  });
  it('description words match case-insensitively (3.6 description)', async () => {
    expect(await list([{ Key: 'description', Values: ['A SECRET'] }])).toEqual(['desc/1', 'desc/2']);
    expect(await list([{ Key: 'description', Values: ['SEC'] }])).toEqual(['desc/1', 'desc/2']);
    expect(await list([{ Key: 'description', Values: ['ecret'] }])).toEqual([]);
  });
  it('two description filters "one" and "two" AND together: only "one two" (#67)', async () => {
    expect(await list([{ Key: 'description', Values: ['one'] }, { Key: 'description', Values: ['two'] }])).toEqual(['two/1']);
  });
  it('values of one filter OR together (3.6)', async () => {
    expect(await list([{ Key: 'description', Values: ['one', 'two'] }])).toEqual(['two/1', 'two/2', 'two/3']);
    expect(await list([{ Key: 'name', Values: ['b/', '/a/o'] }])).toEqual(['/a/one', 'b/one']);
  });
  it('tag-key "right" AND tag-value "right" selects only the secret having both (#68)', async () => {
    expect(await list([{ Key: 'tag-key', Values: ['right'] }, { Key: 'tag-value', Values: ['right'] }])).toEqual(['tag/rr']);
  });
  it('tag-key and tag-value are case-sensitive prefixes of any tag key / value (3.6)', async () => {
    expect(await list([{ Key: 'tag-key', Values: ['ri'] }])).toEqual(['tag/rr', 'tag/rw']);
    expect(await list([{ Key: 'tag-value', Values: ['wr'] }])).toEqual(['tag/rw', 'tag/ww']);
    expect(await list([{ Key: 'tag-key', Values: ['Right'] }])).toEqual([]);
  });
  it('a "!" value keeps secrets whose attribute does not match; OR with a plain value (3.6 negation)', async () => {
    // "!c": every secret whose description has no word starting with "c" (here: all of them).
    expect(await list([{ Key: 'description', Values: ['!c'] }])).toHaveLength(14);
    expect(await list([{ Key: 'description', Values: ['!o'] }, { Key: 'name', Values: ['two/'] }])).toEqual(['two/3', 'two/4']);
    expect(await list([{ Key: 'description', Values: ['one', '!two'] }, { Key: 'name', Values: ['two/'] }])).toEqual([
      'two/1',
      'two/2',
      'two/4',
    ]);
    expect(await list([{ Key: 'tag-key', Values: ['!right'] }, { Key: 'name', Values: ['tag/'] }])).toEqual(['tag/wr', 'tag/ww']);
  });
  it('negation keeps secrets that lack the attribute: "x" and "!x" split the store in two (3.6, documented choice)', async () => {
    const noDescription = await list([{ Key: 'description', Values: ['!secret'] }]);
    expect(noDescription).toContain('/a/one'); // no description at all
    expect(noDescription).not.toContain('desc/1');
    const untagged = await list([{ Key: 'tag-value', Values: ['!right'] }]);
    expect(untagged).toContain('/a/one'); // no tags at all
    for (const key of ['description', 'name', 'tag-key', 'tag-value', 'all'] as const) {
      const yes = await list([{ Key: key, Values: ['r'] }]);
      const no = await list([{ Key: key, Values: ['!r'] }]);
      expect([...yes, ...no].sort()).toEqual(await list(undefined));
      expect(yes.filter((n) => no.includes(n))).toEqual([]);
    }
  });
  it('primary-region and owning-service match nothing offline; negated, everything (3.6, documented choice)', async () => {
    expect(await list([{ Key: 'primary-region', Values: ['us-east-1'] }])).toEqual([]);
    expect(await list([{ Key: 'owning-service', Values: ['rds'] }])).toEqual([]);
    expect(await list([{ Key: 'primary-region', Values: ['!us-east-1'] }])).toHaveLength(14);
    expect(await list([{ Key: 'owning-service', Values: ['!rds'] }])).toHaveLength(14);
  });
  it('all matches words of the name, the description, tag keys or tag values (3.6 all)', async () => {
    expect(await list([{ Key: 'all', Values: ['right'] }])).toEqual(['tag/rr', 'tag/rw', 'tag/wr']);
    expect(await list([{ Key: 'all', Values: ['unrel'] }])).toEqual(['two/4']);
    expect(await list([{ Key: 'all', Values: ['one'] }])).toEqual(['/a/one', 'b/one', 'two/1', 'two/2']);
  });

  it('a filter value outside the pattern is ValidationException (3.6 Values pattern)', async () => {
    for (const value of ['a*b', 'x"y', 'tab\there', 'ä']) {
      await expect(store.listSecrets({ Filters: [{ Key: 'name', Values: [value] }] })).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining(`at 'filters.1.member.values.1.member' failed to satisfy constraint: Member must satisfy regular expression pattern`),
      });
    }
    await expect(store.listSecrets({ Filters: [{ Key: 'name', Values: ['x'.repeat(513)] }] })).rejects.toMatchObject({ name: 'ValidationException' });
    // Every allowed character, a leading ! and an empty value are accepted.
    await expect(store.listSecrets({ Filters: [{ Key: 'name', Values: ['aZ09 :_@/+=.-!', '!x', ''] }] })).resolves.toBeDefined();
  });
  it('an unknown Key is ValidationException naming the enum; more than 10 filters or values too (3.6 model)', async () => {
    await expect(store.listSecrets({ Filters: [{ Key: 'invalid' as 'name', Values: ['foo'] }] })).rejects.toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 'invalid' at 'filters.1.member.key' failed to satisfy constraint: " +
        'Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]',
    });
    const eleven = Array.from({ length: 11 }, () => ({ Key: 'name' as const, Values: ['a'] }));
    await expect(store.listSecrets({ Filters: eleven })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(store.listSecrets({ Filters: [{ Key: 'name', Values: Array(11).fill('a') }] })).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
  it('a filter without Key is InvalidParameterException "Invalid filter key"; without Values "Invalid filter values for key" (3.6)', async () => {
    await expect(store.listSecrets({ Filters: [{ Values: ['foo'] }] })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid filter key',
    });
    for (const Values of [undefined, []]) {
      await expect(store.listSecrets({ Filters: [{ Key: 'description', ...(Values ? { Values } : {}) }] })).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: 'Invalid filter values for key: description',
      });
    }
  });
  it('MaxResults outside 1-100, an unknown SortBy or SortOrder are ValidationException (3.6 model)', async () => {
    for (const request of [{ MaxResults: 0 }, { MaxResults: 101 }, { SortBy: 'size' }, { SortOrder: 'up' }]) {
      await expect(store.listSecrets(request as ListSecretsRequest)).rejects.toMatchObject({ name: 'ValidationException' });
    }
  });

  it('through the CLI: shorthand and JSON filters, several values, errors as the AWS CLI prints them', () => {
    const r = t.cli(['list-secrets', '--filters', 'Key=name,Values=/a/,b/', '--sort-by', 'name']);
    expect(r.status).toBe(0);
    expect(r.json<{ SecretList: { Name: string }[] }>().SecretList.map((s) => s.Name)).toEqual(['/a/one', '/a/two', 'b/one']);
    const words = t.cli(['list-secrets', '--filters', 'Key=description,Values=a secret']);
    expect(words.json<{ SecretList: { Name: string }[] }>().SecretList.map((s) => s.Name)).toEqual(['desc/1', 'desc/2']);
    const json = t.cli(['list-secrets', '--filters', '[{"Key":"tag-key","Values":["right"]},{"Key":"tag-value","Values":["right"]}]']);
    expect(json.json<{ SecretList: { Name: string }[] }>().SecretList.map((s) => s.Name)).toEqual(['tag/rr']);
    const and = t.cli(['list-secrets', '--filters', 'Key=tag-key,Values=right', 'Key=tag-value,Values=!right']);
    expect(and.json<{ SecretList: { Name: string }[] }>().SecretList.map((s) => s.Name)).toEqual(['tag/rw']);
    const bad = t.cli(['list-secrets', '--filters', 'Key=invalid,Values=x']);
    expect(bad.status).toBe(254);
    expect(bad.stderr).toContain('An error occurred (ValidationException) when calling the ListSecrets operation: 1 validation error detected');
    const noKey = t.cli(['list-secrets', '--filters', 'Values=x']);
    expect(noKey.status).toBe(254);
    expect(noKey.stderr).toContain('(InvalidParameterException) when calling the ListSecrets operation: Invalid filter key');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Word splitting of `all` (and description): the AWS-verified cases of spec 3.6.
// ---------------------------------------------------------------------------------------------------------
describe('ListSecrets word splitting (spec 3.6 all, description)', () => {
  let t: TestStore;
  let store: Store;
  const u = 'k7q2';
  const single = [`prod/AppBeta/${u}`, `prod_AppBeta_${u}`, `prod+AppBeta+${u}`, `prod=AppBeta=${u}`, `prod.AppBeta.${u}`, `prod@AppBeta@${u}`, `prod-AppBeta-${u}`];
  const mixed = `prod-AppBeta/${u}`;
  const all = async (...Values: string[]) => names(await store.listSecrets({ Filters: [{ Key: 'all', Values }] })).sort();

  beforeAll(async () => {
    t = makeStore();
    store = await t.open();
    for (const Name of [...single, mixed, `uat/COMPANY/${u}`, `uat/COMPANYthings/${u}`]) await store.createSecret({ Name, SecretString: 's' });
    await store.createSecret({ Name: 'SecretOne', SecretString: 's' });
    await store.createSecret({ Name: 'SecretTwo', SecretString: 's', Description: 'DescTwo' });
    await store.createSecret({ Name: 'Thirdsecret', SecretString: 's' });
    await store.createSecret({ Name: 'SecretFTag', SecretString: 's', Tags: [{ Key: '1', Value: 'foo' }] });
    await store.createSecret({ Name: 'SecretFValue', SecretString: 's', Tags: [{ Key: 'foo', Value: 'v' }] });
    await store.createSecret({ Name: 'xyz', SecretString: 's' });
    await store.createSecret({ Name: 'spaced', SecretString: 's', Description: 'Used by svc/api and web-tier' });
    await store.createSecret({ Name: 'glued', SecretString: 's', Description: 'see svc-api/v2' });
  });
  afterAll(() => t.cleanup());

  it('a name with one kind of separator is split on it, whichever of / _ + = . @ - it is', async () => {
    expect(await all('AppBeta')).toEqual([...single].sort());
    expect(await all(u)).toEqual([...single, `uat/COMPANY/${u}`, `uat/COMPANYthings/${u}`].sort());
  });
  it('words split at case changes: "Beta" finds AppBeta (MyTest -> My, Test)', async () => {
    expect(await all('Beta')).toEqual([...single].sort());
    expect(await all('beta', 'nothing')).toEqual([...single].sort());
  });
  it('a name mixing two separators is not split: only a prefix of the whole name finds it', async () => {
    expect(await all('AppBeta', 'prod')).toEqual([...single, mixed].sort());
    expect(await all('prod-AppBeta/k')).toEqual([mixed]);
    expect(splitWords(mixed)).toEqual([mixed]);
  });
  it('a separator alone matches nothing ("+")', async () => {
    expect(await all('+')).toEqual([]);
    expect(await all('/')).toEqual([]);
  });
  it('COMPANYthings splits as COMPAN + Ythings; COMPANY stays one word, its letters are not words', async () => {
    expect(await all('company')).toEqual([`uat/COMPANY/${u}`]);
    expect(await all('things')).toEqual([]);
    expect(await all('Ythings')).toEqual([`uat/COMPANYthings/${u}`]);
    expect(await all('N')).toEqual([]);
    expect(await all('pany')).toEqual([]);
    expect(splitWords('COMPANYthings')).toEqual(['COMPAN', 'Ythings']);
    expect(splitWords('MyTestPhrase myTest Mytest')).toEqual(['My', 'Test', 'Phrase', 'my', 'Test', 'Mytest']);
  });
  it('each search word must be a case-insensitive prefix of some word: "sec" finds SecretOne, "ret" does not', async () => {
    const secretNamed = ['SecretFTag', 'SecretFValue', 'SecretOne', 'SecretTwo'];
    expect(await all('SecretOne')).toEqual(['SecretOne']);
    expect(await all('Secret')).toEqual(secretNamed);
    expect(await all('secret')).toEqual(secretNamed);
    expect(await all('sec')).toEqual(secretNamed);
    expect(await all('ret')).toEqual([]);
    expect(await all('SomeSecret')).toEqual([]);
  });
  it('all searches descriptions and tags: "d t" only DescTwo, "foo" both tag holders, "t" every T-word', async () => {
    expect(await all('d')).toEqual(['SecretTwo']);
    expect(await all('d t')).toEqual(['SecretTwo']);
    expect(await all('foo')).toEqual(['SecretFTag', 'SecretFValue']);
    expect(await all('t')).toEqual(['SecretFTag', 'SecretTwo', 'Thirdsecret', 'spaced']);
  });
  it('descriptions split at spaces, then each chunk by the separator rule (documented choice)', async () => {
    expect(await all('api tier')).toEqual(['spaced']);
    expect(await all('web used')).toEqual(['spaced']);
    // "svc-api/v2" mixes two separators: one word, found only by a value that is a prefix of it as a whole
    // (a value is split by the same rules: "svc-api" alone would be svc + api, which "svc/api" has).
    expect(await all('api')).toEqual(['spaced']);
    expect(await all('svc-api')).toEqual(['spaced']);
    expect(await all('svc-api/v')).toEqual(['glued']);
    const description = async (v: string) => names(await store.listSecrets({ Filters: [{ Key: 'description', Values: [v] }] })).sort();
    expect(await description('tier')).toEqual(['spaced']);
    expect(await description('v2')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Entries, deletion, sorting, pagination, tokens, batch-get, the summary cache.
// ---------------------------------------------------------------------------------------------------------
describe('ListSecrets entries, order and pages; BatchGetSecretValue (spec 3.4, 3.6, 8.6 #56, #69, #70)', () => {
  let t: TestStore;
  let store: Store;
  let clock = new Date('2030-01-01T00:00:00.000Z');
  const at = (iso: string) => {
    clock = new Date(iso);
  };
  // Created in this order (by the clock); names deliberately out of alphabetical order.
  const created = ['delta', 'alpha', 'charlie', 'bravo', 'echo', 'Echo2', 'foxtrot'];

  beforeAll(async () => {
    t = makeStore();
    store = await t.open({ now: () => clock });
    at('2030-01-01T00:00:00.000Z');
    await store.createSecret({ Name: 'delta', SecretString: 'd', ClientRequestToken: T(1), Description: 'fourth letter', Tags: [{ Key: 'team', Value: 'core' }] });
    at('2030-01-02T00:00:00.000Z');
    await store.createSecret({ Name: 'alpha', SecretString: 'a', ClientRequestToken: T(2) });
    at('2030-01-03T00:00:00.000Z');
    await store.createSecret({ Name: 'charlie', SecretBinary: new Uint8Array([0, 1, 2, 255]), ClientRequestToken: T(3) });
    at('2030-01-04T00:00:00.000Z');
    await store.createSecret({ Name: 'bravo', Description: 'no value yet' });
    // Two secrets created at the same instant: the name breaks the tie (code-unit order: E before e).
    at('2030-01-05T00:00:00.000Z');
    await store.createSecret({ Name: 'echo', SecretString: 'e', ClientRequestToken: T(5) });
    await store.createSecret({ Name: 'Echo2', SecretString: 'E', ClientRequestToken: T(6) });
    at('2030-01-06T00:00:00.000Z');
    await store.createSecret({ Name: 'foxtrot', SecretString: 'f', ClientRequestToken: T(7) });
    // Changes after creation: alpha twice (its first version is deprecated), delta once.
    at('2030-02-01T00:00:00.000Z');
    await store.putSecretValue({ SecretId: 'alpha', SecretString: 'a2', ClientRequestToken: T(8) });
    await store.putSecretValue({ SecretId: 'alpha', SecretString: 'a3', ClientRequestToken: T(9) });
    at('2030-02-02T00:00:00.000Z');
    await store.putSecretValue({ SecretId: 'delta', SecretString: 'd2', ClientRequestToken: T(10) });
    at('2030-03-01T00:00:00.000Z');
  });
  afterAll(() => t.cleanup());

  it('default order is creation date ascending, then name (Decisions: ListSecrets order)', async () => {
    expect(names(await store.listSecrets({}))).toEqual(['delta', 'alpha', 'charlie', 'bravo', 'Echo2', 'echo', 'foxtrot']);
    expect(names(await store.listSecrets({ SortBy: 'created-date', SortOrder: 'asc' }))).toEqual(names(await store.listSecrets({})));
  });
  it('each SortBy both ways; desc is the exact reverse of asc (3.6 SortBy, SortOrder)', async () => {
    const expected: Record<string, string[]> = {
      'created-date': ['delta', 'alpha', 'charlie', 'bravo', 'Echo2', 'echo', 'foxtrot'],
      'last-changed-date': ['charlie', 'bravo', 'Echo2', 'echo', 'foxtrot', 'alpha', 'delta'],
      // LastAccessedDate is never recorded: every secret ties and creation date, then name decide.
      'last-accessed-date': ['delta', 'alpha', 'charlie', 'bravo', 'Echo2', 'echo', 'foxtrot'],
      name: ['Echo2', 'alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'],
    };
    for (const [SortBy, order] of Object.entries(expected)) {
      const by = SortBy as ListSecretsRequest['SortBy'];
      expect(names(await store.listSecrets({ SortBy: by })), SortBy).toEqual(order);
      expect(names(await store.listSecrets({ SortBy: by, SortOrder: 'asc' })), SortBy).toEqual(order);
      expect(names(await store.listSecrets({ SortBy: by, SortOrder: 'desc' })), SortBy).toEqual([...order].reverse());
    }
  });
  it('entries use SecretVersionsToStages, equal to DescribeSecret VersionIdsToStages, same presence rules (#70)', async () => {
    const list = (await store.listSecrets({ SortBy: 'name' })).SecretList;
    for (const entry of list) {
      const { VersionIdsToStages, ...described } = await store.describeSecret({ SecretId: entry.Name });
      const { SecretVersionsToStages, ...listed } = entry;
      expect(listed).toEqual(described);
      expect(Object.keys(listed)).toEqual(Object.keys(described));
      expect(SecretVersionsToStages).toEqual(VersionIdsToStages);
      expect('VersionIdsToStages' in entry).toBe(false);
      expect('LastAccessedDate' in entry).toBe(false);
    }
    const alpha = list.find((e) => e.Name === 'alpha')!;
    expect(alpha.SecretVersionsToStages).toEqual({ [T(8)]: ['AWSPREVIOUS'], [T(9)]: ['AWSCURRENT'] }); // T(2) deprecated: left out
    const delta = list.find((e) => e.Name === 'delta')!;
    expect(Object.keys(delta)).toEqual(['ARN', 'Name', 'Description', 'LastChangedDate', 'Tags', 'SecretVersionsToStages', 'CreatedDate']);
    expect(delta.CreatedDate).toEqual(new Date('2030-01-01T00:00:00.000Z'));
    expect(delta.LastChangedDate).toEqual(new Date('2030-02-02T00:00:00.000Z'));
    const bravo = list.find((e) => e.Name === 'bravo')!;
    expect('SecretVersionsToStages' in bravo).toBe(false); // no version at all
  });

  it('MaxResults 1..N+1: every page walks the listing once, nothing repeated or lost (#69)', async () => {
    for (const request of [{}, { SortBy: 'name', SortOrder: 'desc' }, { Filters: [{ Key: 'name', Values: ['!b'] }] }] as ListSecretsRequest[]) {
      const full = names(await store.listSecrets(request));
      for (let max = 1; max <= full.length + 1; max++) {
        const { all, pages } = await walk(store, request, max);
        expect(all, `MaxResults ${max}`).toEqual(full);
        expect(new Set(all).size).toBe(all.length);
        expect(pages).toBe(Math.max(1, Math.ceil(full.length / max)));
      }
    }
  });
  it('MaxResults=1 over 3 secrets: 3 pages, the last without NextToken (#69)', async () => {
    const request: ListSecretsRequest = { Filters: [{ Key: 'name', Values: ['alpha', 'bravo', 'charlie'] }], MaxResults: 1 };
    const first = await store.listSecrets(request);
    const second = await store.listSecrets({ ...request, NextToken: first.NextToken! });
    const third = await store.listSecrets({ ...request, NextToken: second.NextToken! });
    expect([first, second, third].map(names)).toEqual([['alpha'], ['charlie'], ['bravo']]);
    expect(third.NextToken).toBeUndefined();
    // A token may be used with another page size.
    expect(names(await store.listSecrets({ ...request, MaxResults: 5, NextToken: first.NextToken! }))).toEqual(['charlie', 'bravo']);
  });
  it('a garbage, forged or foreign NextToken is InvalidNextTokenException (#69)', async () => {
    const page = await store.listSecrets({ MaxResults: 2 });
    const scope = JSON.parse(Buffer.from(page.NextToken!, 'base64url').toString()) as { s: string; o: number };
    const forged = (o: unknown, s: unknown = scope.s) => Buffer.from(JSON.stringify({ s, o })).toString('base64url');
    const versionsToken = (await store.listSecretVersionIds({ SecretId: 'alpha', MaxResults: 1 })).NextToken!;
    const otherQuery = (await store.listSecrets({ MaxResults: 2, SortBy: 'name' })).NextToken!;
    const batchToken = (await store.batchGetSecretValue({ Filters: [{ Key: 'name', Values: ['!x'] }], MaxResults: 1 })).NextToken!;
    for (const NextToken of ['garbage', forged(99), forged(-1), forged(1.5), forged('2'), forged(2, 'secrets:other'), versionsToken, batchToken]) {
      await expect(store.listSecrets({ MaxResults: 2, NextToken }), NextToken).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    }
    // A token belongs to its query: other filters, order or IncludePlannedDeletion refuse it.
    for (const request of [{ SortBy: 'created-date' }, { SortOrder: 'desc' }, { IncludePlannedDeletion: true }, { Filters: [{ Key: 'name', Values: ['a'] }] }]) {
      await expect(store.listSecrets({ ...(request as ListSecretsRequest), NextToken: otherQuery })).rejects.toMatchObject({
        name: 'InvalidNextTokenException',
      });
    }
    expect(names(await store.listSecrets({ NextToken: forged(2) }))).toEqual(names(await store.listSecrets({})).slice(2));
    await expect(store.listSecrets({ NextToken: '' })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('BatchGetSecretValue by id list: values in order, per-secret failures in Errors (3.4)', async () => {
    const arn = (await store.describeSecret({ SecretId: 'charlie' })).ARN;
    const r = await store.batchGetSecretValue({ SecretIdList: ['alpha', 'nope', arn, 'bravo', 'bad name'] });
    expect(r.SecretValues.map((v) => [v.Name, v.VersionId, v.SecretString ?? v.SecretBinary])).toEqual([
      ['alpha', T(9), 'a3'],
      ['charlie', T(3), new Uint8Array([0, 1, 2, 255])],
    ]);
    expect(r.SecretValues[0]).toEqual(await store.getSecretValue({ SecretId: 'alpha' }));
    expect(r.Errors).toEqual([
      { SecretId: 'nope', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
      {
        SecretId: 'bravo',
        ErrorCode: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      },
      { SecretId: 'bad name', ErrorCode: 'ValidationException', Message: expect.stringContaining('Invalid name') },
    ]);
    expect('NextToken' in r).toBe(false);
  });
  it('BatchGetSecretValue: exactly one of SecretIdList and Filters, MaxResults only with Filters (3.4)', async () => {
    const either = "Either 'SecretIdList' or 'Filters' must be provided, but not both.";
    await expect(store.batchGetSecretValue({})).rejects.toMatchObject({ name: 'InvalidParameterException', message: either });
    await expect(store.batchGetSecretValue({ SecretIdList: ['alpha'], Filters: [{ Key: 'name', Values: ['a'] }] })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: either,
    });
    await expect(store.batchGetSecretValue({ SecretIdList: ['alpha'], MaxResults: 1 })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.",
    });
    await expect(store.batchGetSecretValue({ SecretIdList: [] })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(store.batchGetSecretValue({ SecretIdList: Array(21).fill('alpha') })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(store.batchGetSecretValue({ Filters: [{ Key: 'name', Values: ['a'] }], MaxResults: 21 })).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(store.batchGetSecretValue({ SecretIdList: ['alpha'], NextToken: 'x' })).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });

  describe('with a secret scheduled for deletion (spec 2.9)', () => {
    beforeAll(async () => await scheduleByHand(t, 'echo'));

    it('ListSecrets hides it unless IncludePlannedDeletion, which shows its DeletedDate (#56)', async () => {
      expect(names(await store.listSecrets({}))).not.toContain('echo');
      const all = await store.listSecrets({ IncludePlannedDeletion: true });
      expect(names(all)).toEqual(['delta', 'alpha', 'charlie', 'bravo', 'Echo2', 'echo', 'foxtrot']);
      expect(all.SecretList.find((e) => e.Name === 'echo')!.DeletedDate).toEqual(new Date('2099-01-01T00:00:00.000Z'));
      expect(names(await store.listSecrets({ IncludePlannedDeletion: false, Filters: [{ Key: 'name', Values: ['e'] }] }))).toEqual([]);
      const paged = await walk(store, { IncludePlannedDeletion: true }, 2);
      expect(paged.all).toEqual(names(all));
    });
    it('BatchGetSecretValue reports it in Errors as InvalidRequestException (2.9)', async () => {
      const r = await store.batchGetSecretValue({ SecretIdList: ['echo', 'Echo2'] });
      expect(r.SecretValues.map((v) => v.Name)).toEqual(['Echo2']);
      expect(r.Errors).toEqual([
        { SecretId: 'echo', ErrorCode: 'InvalidRequestException', Message: "You can't perform this operation on the secret because it was marked for deletion." },
      ]);
    });
    it('BatchGetSecretValue by filters pages over active secrets only, value-less ones in Errors (3.4)', async () => {
      const request = { Filters: [{ Key: 'name' as const, Values: ['!x'] }] };
      const expected = ['delta', 'alpha', 'charlie', 'bravo', 'Echo2', 'foxtrot']; // no echo
      for (let max = 1; max <= 7; max++) {
        const seen: string[] = [];
        const values: string[] = [];
        const errors: string[] = [];
        let token: string | undefined;
        do {
          const page = await store.batchGetSecretValue({ ...request, MaxResults: max, ...(token ? { NextToken: token } : {}) });
          expect(page.SecretValues.length + page.Errors.length).toBeLessThanOrEqual(max);
          seen.push(...page.SecretValues.map((v) => v.Name), ...page.Errors.map((e) => e.SecretId));
          values.push(...page.SecretValues.map((v) => v.Name));
          errors.push(...page.Errors.map((e) => `${e.SecretId}: ${e.ErrorCode}`));
          token = page.NextToken;
        } while (token !== undefined);
        expect(seen.sort()).toEqual([...expected].sort());
        expect(values).toEqual(expected.filter((n) => n !== 'bravo'));
        expect(errors).toEqual(['bravo: ResourceNotFoundException']);
      }
      const one = await store.batchGetSecretValue({ Filters: [{ Key: 'description', Values: ['fourth'] }] });
      expect(one.SecretValues.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([['delta', 'd2', ['AWSCURRENT']]]);
      await expect(store.batchGetSecretValue({ Filters: [{ Values: ['x'] }] })).rejects.toMatchObject({ message: 'Invalid filter key' });
      const listToken = (await store.listSecrets({ MaxResults: 1 })).NextToken!;
      await expect(store.batchGetSecretValue({ ...request, NextToken: listToken })).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    });
    it('a secret whose purge time has passed is listed by neither, even with IncludePlannedDeletion (Decisions: DeletedDate)', async () => {
      await store.createSecret({ Name: 'purged', SecretString: 'p' });
      await scheduleByHand(t, 'purged', 'deletedDate: 2030-02-15T00:00:00.000Z'); // before the clock (2030-03-01)
      expect(names(await store.listSecrets({ IncludePlannedDeletion: true }))).not.toContain('purged');
      const r = await store.batchGetSecretValue({ SecretIdList: ['purged'] });
      expect(r.Errors.map((e) => e.ErrorCode)).toEqual(['ResourceNotFoundException']);
    });
  });

  it('a sealed file that fails to open is a DecryptionFailure entry; the others are still read (3.4)', async () => {
    // Swap foxtrot's sealed file for alpha's, committed: bound to another secret, it cannot open.
    const target = join(t.dir, versionPath('foxtrot', T(7)));
    await whileCommitted(t, () => copyFileSync(join(t.dir, versionPath('alpha', T(9))), target), async () => {
      const r = await store.batchGetSecretValue({ SecretIdList: ['foxtrot', 'alpha'] });
      expect(r.SecretValues.map((v) => v.Name)).toEqual(['alpha']);
      expect(r.Errors).toMatchObject([{ SecretId: 'foxtrot', ErrorCode: 'DecryptionFailure' }]);
      // Listing never opens a sealed file: foxtrot is listed as usual.
      expect(names(await store.listSecrets({ Filters: [{ Key: 'name', Values: ['foxtrot'] }] }))).toEqual(['foxtrot']);
    });
  });

  it('through the CLI: list-secrets pages, sorting and planned deletion; batch-get by ids and by filters', () => {
    const first = t.cli(['list-secrets', '--filters', 'Key=name,Values=!x', '--max-results', '2']);
    expect(first.status).toBe(0);
    const page1 = first.json<{ SecretList: { Name: string; CreatedDate: string }[]; NextToken: string }>();
    expect(page1.SecretList.map((s) => s.Name)).toEqual(['delta', 'alpha']);
    expect(page1.SecretList[0]!.CreatedDate).toBe('2030-01-01T00:00:00+00:00');
    const second = t.cli(['list-secrets', '--filters', 'Key=name,Values=!x', '--max-results', '2', '--next-token', page1.NextToken]);
    expect(second.json<{ SecretList: { Name: string }[] }>().SecretList.map((s) => s.Name)).toEqual(['charlie', 'bravo']);
    // The CLI runs on the real clock, before 'purged' reaches its purge time (2030): it is only scheduled.
    const sorted = t.cli(['list-secrets', '--sort-by', 'name', '--sort-order', 'desc', '--include-planned-deletion']);
    expect(sorted.json<{ SecretList: { Name: string }[] }>().SecretList.map((s) => s.Name)).toEqual([
      'purged', 'foxtrot', 'echo', 'delta', 'charlie', 'bravo', 'alpha', 'Echo2',
    ]);
    const forged = t.cli(['list-secrets', '--next-token', 'garbage']);
    expect(forged.status).toBe(254);
    expect(forged.stderr).toContain('(InvalidNextTokenException) when calling the ListSecrets operation');

    const ids = t.cli(['batch-get-secret-value', '--secret-id-list', 'alpha', 'charlie', 'nope']);
    expect(ids.status).toBe(0);
    const body = ids.json<{ SecretValues: { Name: string; SecretString?: string; SecretBinary?: string }[]; Errors: { SecretId: string; ErrorCode: string }[] }>();
    expect(body.SecretValues.map((v) => [v.Name, v.SecretString ?? v.SecretBinary])).toEqual([['alpha', 'a3'], ['charlie', 'AAEC/w==']]);
    expect(body.Errors.map((e) => [e.SecretId, e.ErrorCode])).toEqual([['nope', 'ResourceNotFoundException']]);
    const filtered = t.cli(['batch-get-secret-value', '--filters', 'Key=name,Values=alpha,delta', '--max-results', '1']);
    const f1 = filtered.json<{ SecretValues: { Name: string }[]; NextToken: string }>();
    expect(f1.SecretValues.map((v) => v.Name)).toEqual(['delta']);
    const f2 = t.cli(['batch-get-secret-value', '--filters', 'Key=name,Values=alpha,delta', '--max-results', '1', '--next-token', f1.NextToken]);
    expect(f2.json<{ SecretValues: { Name: string }[]; NextToken?: string }>()).toMatchObject({ SecretValues: [{ Name: 'alpha' }] });
    expect('NextToken' in f2.json()).toBe(false);
    const both = t.cli(['batch-get-secret-value', '--secret-id-list', 'alpha', '--filters', 'Key=name,Values=a']);
    expect(both.status).toBe(254);
    expect(both.stderr).toContain("(InvalidParameterException) when calling the BatchGetSecretValue operation: Either 'SecretIdList' or 'Filters'");
  });
});

// ---------------------------------------------------------------------------------------------------------
// The listing reads index files only, through a cache that never changes a result.
// ---------------------------------------------------------------------------------------------------------
describe('listing reads only index files, through a summary cache that changes no result', () => {
  let t: TestStore;
  let store: Store;
  const cacheDir = () => join(t.dir, '.git', 'secretstore-cache');
  /** The listing cache (the folder also holds other caches of secretstore's): keyed by the `secrets` tree id. */
  const summaryFiles = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()).filter((f) => f.startsWith('listing-')).map((f) => join(cacheDir(), f)) : []);
  const snapshot = async () => JSON.stringify(await store.listSecrets({ IncludePlannedDeletion: true, SortBy: 'name' }));

  beforeAll(async () => {
    t = makeStore();
    store = await t.open();
    for (const Name of ['svc/a', 'svc/b', 'svc/c/d', 'top']) await store.createSecret({ Name, SecretString: 'x', Description: 'before' });
  });
  afterAll(() => t.cleanup());

  it('the cache lives under the git dir, so git never tracks it; deleting it changes no result', async () => {
    const cold = await snapshot();
    expect(summaryFiles()).toHaveLength(1);
    expect(t.git(['status', '--porcelain'])).toBe('');
    expect(await snapshot()).toBe(cold);
    rmSync(summaryFiles()[0]!);
    expect(summaryFiles()).toEqual([]);
    expect(await snapshot()).toBe(cold);
    expect(summaryFiles()).toHaveLength(1);
    process.env.SECRETSTORE_NO_CACHE = '1';
    try {
      expect(await snapshot()).toBe(cold);
    } finally {
      delete process.env.SECRETSTORE_NO_CACHE;
    }
    expect(names(await store.listSecrets({ SortBy: 'name' }))).toEqual(['svc/a', 'svc/b', 'svc/c/d', 'top']);
  });
  it('a warm listing uses the cached summary while the secrets tree is unchanged, and re-reads an index whose blob changed', async () => {
    await snapshot(); // warm
    const [cache] = summaryFiles();
    // Tamper with the remembered summary only: still shown, so the index was not read again...
    const data = JSON.parse(readFileSync(cache!, 'utf8')) as { files: Record<string, [string, { description: string }]> };
    data.files['svc/a/secret.yaml']![1].description = 'CACHED';
    writeFileSync(cache!, JSON.stringify(data));
    const described = async () => (await store.listSecrets({ SortBy: 'name' })).SecretList.map((s) => s.Description);
    expect(await described()).toEqual(['CACHED', 'before', 'before', 'before']);
    // ...an uncommitted edit is never read...
    const file = join(t.dir, indexPath('svc/a'));
    writeFileSync(file, readFileSync(file, 'utf8').replace('description: before', 'description: edited'));
    expect(await described()).toEqual(['CACHED', 'before', 'before', 'before']);
    // ...until it is committed (by a writer, through the commit-msg hook): the new blob is read, the others come from the cache.
    await resign(t, [indexPath('svc/a')]);
    t.git(['commit', '-qam', 'svc/a: description by hand']);
    data.files['svc/b/secret.yaml']![1].description = 'CACHED-B';
    const fresh = JSON.parse(readFileSync(cache!, 'utf8')) as { tree: string };
    writeFileSync(cache!, JSON.stringify({ ...data, tree: fresh.tree }));
    expect(await described()).toEqual(['edited', 'CACHED-B', 'before', 'before']);
    rmSync(cache!);
    expect(await described()).toEqual(['edited', 'before', 'before', 'before']);
  });
  it('a new and a removed secret folder are seen at once; a damaged or foreign cache file is ignored', async () => {
    await snapshot();
    await store.createSecret({ Name: 'svc/c/e', SecretString: 'x' });
    expect(names(await store.listSecrets({ SortBy: 'name' }))).toEqual(['svc/a', 'svc/b', 'svc/c/d', 'svc/c/e', 'top']);
    rmSync(join(t.dir, secretDir('svc/b')), { recursive: true });
    t.git(['commit', '-qam', 'remove svc/b by hand']);
    expect(names(await store.listSecrets({ SortBy: 'name' }))).toEqual(['svc/a', 'svc/c/d', 'svc/c/e', 'top']);
    const [cache] = summaryFiles();
    const good = await snapshot();
    for (const junk of ['{not json', '{"format":"secretstore.listing/0","tree":"x","files":{}}', '[]', '{"format":"secretstore.listing/1"}']) {
      writeFileSync(cache!, junk);
      expect(await snapshot()).toBe(good);
    }
    const entries = JSON.parse(readFileSync(cache!, 'utf8')) as { tree: string; files: Record<string, unknown[]> };
    for (const key of Object.keys(entries.files)) entries.files[key] = [1, 2, 3];
    writeFileSync(cache!, JSON.stringify(entries));
    expect(await snapshot()).toBe(good);
  });
  it('listing never opens a sealed file or the versions folder; prune still sees every secret', async () => {
    const versions = join(t.dir, secretDir('top'), 'versions');
    await whileCommitted(t, () => rmSync(versions, { recursive: true }), async () => {
      expect(names(await store.listSecrets({ Filters: [{ Key: 'name', Values: ['top'] }] }))).toEqual(['top']);
      await expect(store.getSecretValue({ SecretId: 'top' })).rejects.toMatchObject({ name: 'InternalServiceError' });
    });
    expect(await store.listSecretVersionIds({ SecretId: 'top' })).toMatchObject({ Name: 'top' });
    const prune = t.cli(['prune']);
    expect(prune.status, prune.stderr).toBe(0);
  });
  it('a damaged index file fails the listing naming the file; a secret.yaml in the wrong folder too', async () => {
    const file = join(t.dir, indexPath('svc/a'));
    const text = readFileSync(file, 'utf8');
    await whileCommitted(t, () => writeFileSync(file, text.replace('labels:', 'labels: [oops')), async () => {
      await expect(store.listSecrets({})).rejects.toMatchObject({ name: 'InternalServiceError', message: expect.stringContaining(indexPath('svc/a')) });
    });
    const stray = join(t.dir, 'secrets', 'stray');
    await whileCommitted(
      t,
      () => {
        mkdirSync(stray);
        writeFileSync(join(stray, 'secret.yaml'), text);
      },
      async () => {
        await expect(store.listSecrets({})).rejects.toMatchObject({
          name: 'InternalServiceError',
          message: "secrets/stray/secret.yaml is damaged: it names secret 'svc/a'",
        });
      },
    );
    expect(existsSync(stray)).toBe(false);
    expect(names(await store.listSecrets({ SortBy: 'name' }))).toEqual(['svc/a', 'svc/c/d', 'svc/c/e', 'top']);
  });
});
