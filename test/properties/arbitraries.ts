/** Arbitraries several property files share: valid secret names and VersionIds. */
import fc from 'fast-check';

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
