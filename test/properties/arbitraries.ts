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
