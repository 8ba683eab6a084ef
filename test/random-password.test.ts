import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import type { GetRandomPasswordRequest, Store } from '../src/index.js';
import { characterClasses, DIGITS, generatePassword, LOWERCASE, PUNCTUATION, UPPERCASE } from '../src/ops/get-random-password.js';
import { runStoreless } from '../src/store/workflows.js';

const DRAWS = 200;
const CLASSES = { lower: LOWERCASE, upper: UPPERCASE, digit: DIGITS, punct: PUNCTUATION } as const;

let t: TestStore;
let store: Store;

async function draw(input: GetRandomPasswordRequest, n = DRAWS): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await store.getRandomPassword(input)).RandomPassword);
  return out;
}
const hasAny = (pw: string, chars: string) => [...pw].some((c) => chars.includes(c));

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
});
afterAll(() => t.cleanup());

describe('GetRandomPassword (spec 3.14, 8.7 rows 78-81)', () => {
  it('with no options: 32 characters with at least one lowercase, uppercase, digit and punctuation (#78)', async () => {
    const all = LOWERCASE + UPPERCASE + DIGITS + PUNCTUATION;
    for (const pw of await draw({})) {
      expect(pw).toHaveLength(32);
      for (const chars of Object.values(CLASSES)) expect(hasAny(pw, chars)).toBe(true);
      expect([...pw].every((c) => all.includes(c))).toBe(true); // no space unless IncludeSpace
    }
  });

  it('ExcludeCharacters=xyzDje@?!. and PasswordLength=20: 20 characters, none of those, over many draws (#79)', async () => {
    const excluded = 'xyzDje@?!.';
    for (const pw of await draw({ ExcludeCharacters: excluded, PasswordLength: 20 })) {
      expect(pw).toHaveLength(20);
      expect(hasAny(pw, excluded)).toBe(false);
    }
  });

  it('PasswordLength=3 with all four types required is InvalidParameterException (#80)', async () => {
    await expect(store.getRandomPassword({ PasswordLength: 3 })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Password length is too short based on the required types.',
    });
  });

  it('PasswordLength outside 1-4096 is ValidationException (#81)', async () => {
    await expect(store.getRandomPassword({ PasswordLength: 5555 })).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value '5555' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096",
    });
    await expect(store.getRandomPassword({ PasswordLength: 0 })).rejects.toMatchObject({ name: 'ValidationException' });
    expect((await store.getRandomPassword({ PasswordLength: 4096 })).RandomPassword).toHaveLength(4096);
    expect((await store.getRandomPassword({ PasswordLength: 1, RequireEachIncludedType: false })).RandomPassword).toHaveLength(1);
  });

  it.each([
    ['ExcludeNumbers', DIGITS],
    ['ExcludePunctuation', PUNCTUATION],
    ['ExcludeUppercase', UPPERCASE],
    ['ExcludeLowercase', LOWERCASE],
  ] as const)('%s drops that class from every draw, and the other classes stay required (3.14)', async (flag, dropped) => {
    for (const pw of await draw({ [flag]: true, PasswordLength: 8 })) {
      expect(pw).toHaveLength(8);
      expect(hasAny(pw, dropped)).toBe(false);
      for (const chars of Object.values(CLASSES)) if (chars !== dropped) expect(hasAny(pw, chars)).toBe(true);
    }
  });

  it('IncludeSpace adds the space; the space is not a required type (3.14, open question 8)', async () => {
    const withSpace = await draw({ IncludeSpace: true });
    expect(withSpace.some((pw) => pw.includes(' '))).toBe(true);
    const onlySpace = { ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true, IncludeSpace: true };
    expect((await store.getRandomPassword({ ...onlySpace, PasswordLength: 5 })).RandomPassword).toBe('     ');
    expect((await draw({}, 50)).some((pw) => pw.includes(' '))).toBe(false);
  });

  it('required characters land at random positions, not at the end (3.14)', async () => {
    // Length 4 with four required types: each password is one of each class, in some order.
    const firsts = new Set<string>();
    const lasts = new Set<string>();
    const classOf = (c: string) => Object.entries(CLASSES).find(([, chars]) => chars.includes(c))![0];
    for (const pw of await draw({ PasswordLength: 4 })) {
      expect(new Set([...pw].map(classOf)).size).toBe(4);
      firsts.add(classOf(pw[0]!));
      lasts.add(classOf(pw[3]!));
    }
    expect(firsts.size).toBe(4);
    expect(lasts.size).toBe(4);
  });

  it('RequireEachIncludedType=false allows passwords that miss a class (3.14)', async () => {
    const pws = await draw({ RequireEachIncludedType: false, PasswordLength: 3 });
    expect(pws.every((pw) => pw.length === 3)).toBe(true);
    // With 3 characters and 4 classes, no password can hold every class.
    expect(pws.some((pw) => !hasAny(pw, PUNCTUATION) || !hasAny(pw, DIGITS))).toBe(true);
  });

  it('a class whose every character is excluded is no longer included, so no longer required (3.14)', async () => {
    for (const pw of await draw({ ExcludeCharacters: DIGITS, PasswordLength: 3 }, 50)) {
      expect(pw).toHaveLength(3);
      expect(hasAny(pw, DIGITS)).toBe(false);
    }
  });

  it('everything excluded is InvalidParameterException (3.14)', async () => {
    const none = { ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true };
    await expect(store.getRandomPassword(none)).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'All characters have been excluded from selection.',
    });
    await expect(store.getRandomPassword({ ExcludeNumbers: true, ExcludePunctuation: true, ExcludeCharacters: LOWERCASE + UPPERCASE })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('characters are drawn uniformly from the pool (CSPRNG, no modulo bias to speak of)', async () => {
    const pw = (await store.getRandomPassword({ PasswordLength: 4096, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true })).RandomPassword;
    const counts = new Map<string, number>();
    for (const c of pw) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect([...counts.keys()].sort().join('')).toBe(DIGITS);
    // 409.6 expected per digit, standard deviation about 19: 6 sigma either way.
    for (const n of counts.values()) expect(Math.abs(n - 409.6)).toBeLessThan(115);
  });

  it('the pure generator uses only the injected randomness (3.14)', async () => {
    const classes = characterClasses({ PasswordLength: 6 });
    const zero = async () => 0;
    // One of each required class, then pool[0] twice: a A 0 ! a a; Fisher-Yates with j=0 every time.
    expect(await generatePassword(6, classes, zero)).toBe('A0!aaa');
    expect(classes.required).toEqual([LOWERCASE, UPPERCASE, DIGITS, PUNCTUATION]);
    expect(characterClasses({ RequireEachIncludedType: false }).required).toEqual([]);
  });

  it('writes nothing: no commit, no file (3.14 "stateless")', async () => {
    const before = t.snapshot();
    await store.getRandomPassword({});
    expect(t.snapshot()).toBe(before);
  });

  it('through the CLI: flags map to the members, --no-require-each-included-type included', () => {
    const r = t.cli(['get-random-password', '--password-length', '20', '--exclude-characters', 'abc', '--exclude-punctuation']);
    expect(r.status).toBe(0);
    const pw = r.json<{ RandomPassword: string }>().RandomPassword;
    expect(pw).toHaveLength(20);
    expect(hasAny(pw, 'abc' + PUNCTUATION)).toBe(false);
    const one = t.cli(['get-random-password', '--password-length', '1', '--no-require-each-included-type']);
    expect(one.status).toBe(0);
    expect(one.json<{ RandomPassword: string }>().RandomPassword).toHaveLength(1);
    const short = t.cli(['get-random-password', '--password-length', '2']);
    expect(short.status).toBe(254);
    expect(short.stderr).toContain('An error occurred (InvalidParameterException) when calling the GetRandomPassword operation');
  });

  it('needs no store: runStoreless runs it outside one (3.14 "needs no secret")', async () => {
    const r = await runStoreless('GetRandomPassword', { PasswordLength: 12 });
    expect(r.RandomPassword).toHaveLength(12);
    await expect(runStoreless('DescribeSecret', { SecretId: 'x' })).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });
});
