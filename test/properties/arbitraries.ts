/** Arbitraries several property files share: valid secret names and VersionIds. */
import fc from 'fast-check';
import type { SealBinding } from '../../src/crypto/types.js';
import type { SecretIndex, StoreConfig } from '../../src/model/store.js';
import type { SecretValue } from '../../src/model/value.js';

const NAME_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+=.@-';
/** Parts that hit each branch of the encoding: plain, upper case, dots, reserved words, long runs. */
const tricky = fc.constantFrom('.', '..', '', 'versions', 'Versions', 'secret.yaml', 'CON', 'con.txt', 'Lpt1', 'aux', 'a', 'A', '~');
const namePart = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS.replace('/', '')), maxLength: 12 }) },
  { weight: 2, arbitrary: tricky.filter((p) => p !== '~') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('x', 'X', '.'), minLength: 190, maxLength: 420 }) },
);
/** A valid secret name (spec 2.1: 1-512 characters of the name alphabet). */
export const secretName = fc
  .array(namePart, { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join('/'))
  .filter((n) => n.length >= 1 && n.length <= 512);
/** A ClientRequestToken / VersionId: 32-64 printable ASCII characters (spec 2.2). */
export const versionId = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 32, maxLength: 64 }),
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
);

/** Secrets every request property finds in its store (see `seededStore`): one with values, one without, one scheduled for deletion. */
export const SEEDED_NAMES = ['fuzz/a', 'fuzz/empty', 'fuzz/deleted'] as const;
const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'];

/** A string member: the seeded names, tokens, labels and dates a request may hold, and any text. */
const memberString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SEEDED_NAMES, 'AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'true', 'rate(1 days)', 'cron(0 0 * * ? *)', '2h') },
  { weight: 2, arbitrary: versionId },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'arn:aws:secretsmanager:us-east-1:000000000000:secret:fuzz/a', 'a'.repeat(3000), '\uD800', '..', 'fuzz/a/../b') },
);

/**
 * A well-typed value for one request member, by its Param type: what the CLI, the library and the
 * protocol hand an operation once they have read their input.
 */
export function memberValue(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return memberString;
    case 'blob':
      return fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(65_537)));
    case 'integer':
      return fc.oneof(fc.integer({ min: -5, max: 200 }), fc.integer(), fc.constantFrom(0, 4096, 4097, 65_536, Number.MAX_SAFE_INTEGER));
    case 'boolean':
      return fc.boolean();
    case 'strings':
      return fc.array(memberString, { maxLength: 25 });
    case 'tags':
      return fc.array(fc.record({ Key: memberString, Value: memberString }, { requiredKeys: [] }), { maxLength: 55 });
    case 'filters':
      return fc.array(fc.record({ Key: fc.oneof(fc.constantFrom(...FILTER_KEYS), memberString), Values: fc.array(memberString, { maxLength: 12 }) }, { requiredKeys: [] }), { maxLength: 12 });
    case 'structure':
      return fc.oneof(
        fc.record({ AutomaticallyAfterDays: fc.oneof(fc.integer({ min: -2, max: 1002 }), memberString), Duration: memberString, ScheduleExpression: memberString }, { requiredKeys: [] }),
        fc.dictionary(memberString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      );
    case 'structures':
      return fc.array(fc.record({ Region: memberString, KmsKeyId: memberString }, { requiredKeys: [] }), { maxLength: 6 });
    default:
      throw new Error(`no arbitrary for member type ${type}`);
  }
}

/** A request for an operation: each member present or not, well typed. */
export function requestFor(params: readonly { member: string; type: string }[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(params.map((p) => [p.member, memberValue(p.type)])), { requiredKeys: [] });
}

/** Label indexes (`secret.yaml`) as the codec keeps them, with the text YAML would read as something else. */
/** Text as a user may type it: any well-formed Unicode, with the strings YAML would read as something else. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.constantFrom('true', 'null', '~', '123', '0x1F', '1e3', '.inf', '-', '? x', '# not a comment', 'a: b', '- a', '2026-12-06', "'quoted'", '"', '\n', ' lead', 'trail ', '__proto__'),
);
const iso = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
/** VersionIds as YAML keys: also ones YAML would read as numbers. */
const id = fc.oneof(versionId, fc.string({ unit: fc.constantFrom(...'0123456789.e+-x'), minLength: 32, maxLength: 64 }));
const label = fc.oneof(fc.constantFrom('AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', '__proto__', 'constructor'), text);

export const secretIndex: fc.Arbitrary<SecretIndex> = fc
  .record({
    name: secretName,
    suffix: fc.string({ unit: fc.constantFrom(...'abcXYZ019'), minLength: 6, maxLength: 6 }),
    description: fc.option(text, { nil: undefined }),
    kmsKeyId: fc.option(text, { nil: undefined }),
    tags: fc.option(fc.array(fc.record({ Key: text, Value: fc.oneof(text, fc.constant('')) }), { maxLength: 4 }), { nil: undefined }),
    createdDate: iso,
    lastChangedDate: iso,
    deletedDate: fc.option(iso, { nil: undefined }),
    rotation: fc.option(
      fc.record(
        {
          enabled: fc.boolean(),
          lambdaArn: text,
          rules: fc.record({ AutomaticallyAfterDays: fc.integer({ min: 1, max: 1000 }), Duration: fc.constantFrom('2h', '24h'), ScheduleExpression: text }, { requiredKeys: [] }),
          lastRotatedDate: iso,
          nextRotationDate: iso,
        },
        { requiredKeys: ['enabled'] },
      ),
      { nil: undefined },
    ),
    versions: fc.uniqueArray(fc.tuple(id, iso), { selector: ([v]) => v, maxLength: 5 }),
    placeholders: fc.uniqueArray(fc.tuple(id, iso), { selector: ([v]) => v, maxLength: 2 }),
    labels: fc.uniqueArray(fc.tuple(label, fc.nat()), { selector: ([l]) => l, maxLength: 6 }),
    previousToo: fc.boolean(),
  })
  .map((r) => {
    const versions = Object.fromEntries(r.versions);
    const placeholders = Object.fromEntries(r.placeholders.filter(([p]) => !(p in versions)));
    const targets = [...Object.keys(versions), ...Object.keys(placeholders)];
    const labels: Record<string, string> = {};
    const put = (l: string, v: string) => Object.defineProperty(labels, l, { value: v, enumerable: true, writable: true, configurable: true });
    if (targets.length > 0) for (const [l, n] of r.labels) put(l, targets[n % targets.length]!);
    const ids = Object.keys(versions);
    // the invariants the index keeps: AWSCURRENT on a version once there is one, never with AWSPREVIOUS
    delete labels.AWSCURRENT;
    delete labels.AWSPREVIOUS;
    if (ids.length > 0) put('AWSCURRENT', ids[0]!);
    if (ids.length > 1 && r.previousToo) put('AWSPREVIOUS', ids[1]!);
    const index: SecretIndex = {
      name: r.name,
      arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${r.name}-${r.suffix}`,
      ...(r.description === undefined ? {} : { description: r.description }),
      ...(r.kmsKeyId === undefined ? {} : { kmsKeyId: r.kmsKeyId }),
      ...(r.tags === undefined ? {} : { tags: r.tags }),
      createdDate: r.createdDate,
      lastChangedDate: r.lastChangedDate,
      ...(r.deletedDate === undefined ? {} : { deletedDate: r.deletedDate }),
      ...(r.rotation === undefined ? {} : { rotation: r.rotation }),
      labels,
      versions,
      ...(Object.keys(placeholders).length > 0 ? { placeholders } : {}),
    };
    return index;
  });


/** Instants of this century, as toISOString writes them (the form every timestamp of a store file has). */
export const isoInstant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

/**
 * An index as secretstore's own commands make it: names, ids and labels of the spec's alphabets, no
 * hand-typed text beyond the `descriptions` and tag `values` given.
 */
function madeIndex(ids: fc.Arbitrary<string>, maxVersions: number, descriptions: readonly string[], values: readonly string[]): fc.Arbitrary<SecretIndex> {
  return fc
    .record({
      name: secretName,
      description: fc.option(fc.constantFrom(...descriptions), { nil: undefined }),
      tags: fc.option(fc.array(fc.record({ Key: fc.constantFrom('team', 'env', 'cost-center'), Value: fc.constantFrom(...values) }), { maxLength: 3 }), { nil: undefined }),
      created: isoInstant,
      versions: fc.uniqueArray(fc.tuple(ids, isoInstant), { selector: ([v]) => v, minLength: 1, maxLength: maxVersions }),
      pending: fc.boolean(),
      rotation: fc.option(fc.record({ enabled: fc.boolean(), lambdaArn: fc.constantFrom('./rotate.sh', 'scripts/rotate db.sh'), rules: fc.record({ AutomaticallyAfterDays: fc.integer({ min: 1, max: 1000 }) }) }), { nil: undefined }),
    })
    .map((r) => {
      const ids = r.versions.map(([id]) => id);
      const labels: Record<string, string> = { AWSCURRENT: ids.at(-1)! };
      if (ids.length > 1) labels.AWSPREVIOUS = ids.at(-2)!;
      if (r.pending) labels.AWSPENDING = ids[0]!;
      return {
        name: r.name,
        arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${r.name}-AbC123`,
        ...(r.description === undefined || r.description === '' ? {} : { description: r.description }),
        ...(r.tags === undefined ? {} : { tags: r.tags }),
        createdDate: r.created,
        lastChangedDate: r.created,
        ...(r.rotation === undefined ? {} : { rotation: r.rotation }),
        labels,
        versions: Object.fromEntries(r.versions),
      };
    });
}

/** Indexes of commands, with descriptions and tags YAML must quote. */
export const ordinaryIndex = madeIndex(versionId, 40, ['db password', 'API key: prod', 'used by app-1 #ops', "it's mine", ''], ['a', 'prod', '42', 'true', '']);
/** Indexes as puts leave them: UUID VersionIds, up to a few hundred, and text no YAML writer quotes. */
export const putIndex = madeIndex(fc.uuid(), 300, ['db password', ''], ['a', 'prod']);

/** Store configurations (`.secretstore.yaml`). */
const configText = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.constantFrom('true', 'null', '~', '007', '1e3', 'a: b', '- x', '#', '__proto__', ' '),
);
const scope = fc.option(fc.array(configText, { minLength: 1, maxLength: 3 }), { nil: undefined });
const entries = <K extends string>(keyField: K) =>
  fc.array(fc.record({ name: configText, [keyField]: configText, scope } as Record<string, fc.Arbitrary<unknown>>), { maxLength: 3 }).map((list) =>
    list.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined))),
  );
const count = fc.nat({ max: 1_000_000 });

export const storeConfig: fc.Arbitrary<StoreConfig> = fc
  .record({
    storeId: configText,
    region: configText,
    account: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 12, maxLength: 12 }),
    recipients: entries('publicKey'),
    writers: entries('writerKey'),
    policy: fc.record({ pruneAbove: count, minVersionAgeHours: count, versionQuota: count, defaultRecoveryWindowInDays: count }),
  })
  .map((r) => ({ format: 1, ...r }) as unknown as StoreConfig);


/** Values and bindings for sealed files. */
export const secretValue: fc.Arbitrary<SecretValue> = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).map((text): SecretValue => ({ type: 'string', text })),
  fc.constantFrom('\uFEFFbom', '\u0000', 'a\r\nb', ' ').map((text): SecretValue => ({ type: 'string', text })),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes): SecretValue => ({ type: 'binary', bytes })),
);
export const binding: fc.Arbitrary<SealBinding> = fc.record({
  storeId: fc.string({ minLength: 1, maxLength: 20 }),
  secretArn: fc.string({ minLength: 1, maxLength: 40 }).map((n) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${n}-AbCdEf`),
  versionId,
});

