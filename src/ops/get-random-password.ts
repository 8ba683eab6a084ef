import { InvalidParameterException, ValidationException } from '../errors.js';
import { checkLength } from '../core/validate.js';
import type { GetRandomPasswordRequest, GetRandomPasswordResponse } from '../model/rotation.js';
import { readOnly, type Operation } from './context.js';

export const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
export const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
/** The 32 ASCII punctuation characters (spec 3.14). */
export const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export const PasswordMessages = {
  tooShort: 'Password length is too short based on the required types.',
  allExcluded: 'All characters have been excluded from selection.',
} as const;

export interface CharacterClasses {
  /** Every character the password may use. */
  readonly pool: string;
  /** The classes of which the password must hold at least one character (possibly none). */
  readonly required: readonly string[];
}

function lengthConstraint(value: unknown, rule: string): never {
  throw new ValidationException(`1 validation error detected: Value '${String(value)}' at 'passwordLength' failed to satisfy constraint: ${rule}`);
}

/**
 * The pool and the required classes for a request (spec 3.14): each enabled class minus
 * ExcludeCharacters. A class whose every member is excluded is no longer "included", so it is not
 * required either. The space is never a required type: AWS documents RequireEachIncludedType as "at
 * least one upper and lowercase letter, one number, and one punctuation" (moto also requires the space).
 */
export function characterClasses(input: GetRandomPasswordRequest): CharacterClasses {
  const excluded = new Set(input.ExcludeCharacters ?? '');
  const keep = (chars: string) => [...chars].filter((c) => !excluded.has(c)).join('');
  const typed = [
    input.ExcludeLowercase ? '' : keep(LOWERCASE),
    input.ExcludeUppercase ? '' : keep(UPPERCASE),
    input.ExcludeNumbers ? '' : keep(DIGITS),
    input.ExcludePunctuation ? '' : keep(PUNCTUATION),
  ].filter((chars) => chars.length > 0);
  const space = input.IncludeSpace ? keep(' ') : '';
  return { pool: typed.join('') + space, required: input.RequireEachIncludedType === false ? [] : typed };
}

/**
 * Spec 3.14: `length` characters drawn uniformly from the pool, with one character of each required
 * class drawn from that class; then the whole password is shuffled (Fisher-Yates), so the required
 * characters land at random positions rather than at the end (as in moto).
 */
export async function generatePassword(
  length: number,
  classes: CharacterClasses,
  randomInt: (upperBound: number) => Promise<number>,
): Promise<string> {
  const { pool, required } = classes;
  if (pool.length === 0) throw new InvalidParameterException(PasswordMessages.allExcluded);
  if (length < required.length) throw new InvalidParameterException(PasswordMessages.tooShort);
  const pick = async (chars: string) => chars[await randomInt(chars.length)]!;
  const chars: string[] = [];
  for (const cls of required) chars.push(await pick(cls));
  while (chars.length < length) chars.push(await pick(pool));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = await randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** Spec 3.14, rows 78-81. Stateless: it never reads the store, so it also runs outside one. */
export const getRandomPassword: Operation<GetRandomPasswordRequest, GetRandomPasswordResponse> = {
  name: 'GetRandomPassword',
  command: 'get-random-password',
  group: 'Rotation',
  summary: 'Generate a random password from the CSPRNG (libsodium); nothing is stored.',
  mutates: false,
  storeless: true,
  example: `secretstore get-random-password --password-length 20 --exclude-characters 'xyzDje@?!.'`,
  params: [
    { member: 'PasswordLength', type: 'integer', help: 'Length of the password (1-4096, default 32).' },
    { member: 'ExcludeCharacters', type: 'string', help: 'Characters the password must not contain.' },
    { member: 'ExcludeNumbers', type: 'boolean', help: 'Leave out the digits 0-9.' },
    { member: 'ExcludePunctuation', type: 'boolean', help: 'Leave out the 32 ASCII punctuation characters.' },
    { member: 'ExcludeUppercase', type: 'boolean', help: 'Leave out A-Z.' },
    { member: 'ExcludeLowercase', type: 'boolean', help: 'Leave out a-z.' },
    { member: 'IncludeSpace', type: 'boolean', help: 'Allow the space character.' },
    {
      member: 'RequireEachIncludedType',
      type: 'boolean',
      help: 'At least one character of each included type: lowercase, uppercase, digit, punctuation (default true).',
    },
  ],
  async run(ctx, input) {
    const length = input.PasswordLength ?? 32;
    if (typeof length !== 'number' || !Number.isInteger(length)) lengthConstraint(length, 'Member must be a whole number');
    if (length < 1) lengthConstraint(length, 'Member must have value greater than or equal to 1');
    if (length > 4096) lengthConstraint(length, 'Member must have value less than or equal to 4096');
    checkLength('excludeCharacters', input.ExcludeCharacters, 0, 4096);
    const password = await generatePassword(length, characterClasses(input), (n) => ctx.randomInt(n));
    return readOnly({ RandomPassword: password });
  },
};
