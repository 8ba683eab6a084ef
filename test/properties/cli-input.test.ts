/**
 * Properties of the CLI's input (src/cli/values.ts, src/cli/program.ts): the AWS CLI shorthand
 * (`Key=k,Value=v`, `A=1,B=x,y`), JSON lists, and `--cli-input-json` / `--cli-input-yaml`. Any text gives
 * a request or an InvalidParameterException; through the real entry point (`main`, in process), any
 * command line gives exit 252 (usage) or 254 with one AWS-named error line, never a crash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { flagOf } from '../../src/cli/program.js';
import { parseFilters, parseStructure, parseTags } from '../../src/cli/values.js';
import { operations, type OperationName } from '../../src/ops/table.js';
import type { Param } from '../../src/ops/context.js';
import { property, propertyAsync, resultOrNamedError } from './fuzz.js';

const STRUCTURE: Param = { member: 'RotationRules', type: 'structure', help: '' };
/** Shorthand-looking text: names, `=`, `,`, brackets and quotes most of the time. */
const shorthandText = fc.oneof(
  fc.string({ unit: fc.constantFrom('Key', 'Value', 'Values', 'A', '=', ',', ' ', '[', ']', '{', '}', '"', 'x', '1', 'é', '\n'), maxLength: 30 }),
  fc.string({ maxLength: 30 }),
);
/** A shorthand value: no `,` (a comma followed by Name= would start a new member). */
const plain = fc.string({ maxLength: 12 }).filter((s) => !s.includes(','));

describe('cli input: shorthand and JSON parameters', () => {
  property(
    'cli input: any Tags, Filters or structure text is a request value or an InvalidParameterException',
    fc.property(fc.array(shorthandText, { minLength: 1, maxLength: 3 }), (words) => {
      for (const parse of [() => parseTags(words), () => parseFilters(words), () => parseStructure(words.join(' '), STRUCTURE)]) {
        const outcome = resultOrNamedError(parse);
        if ('error' in outcome) expect(outcome.error.name).toBe('InvalidParameterException');
      }
    }),
    400,
  );

  property(
    'cli input: tags written as Key=k,Value=v shorthand read back as written',
    fc.property(fc.array(fc.record({ Key: plain, Value: plain }), { minLength: 1, maxLength: 4 }), (tags) => {
      fc.pre(!tags[0]!.Key.trimStart().startsWith('['));
      expect(parseTags(tags.map((t) => `Key=${t.Key},Value=${t.Value}`))).toEqual(tags);
    }),
    300,
  );

  property(
    'cli input: a structure written as A=x,B=y shorthand reads back, whole numbers as numbers',
    fc.property(fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/), plain, { minKeys: 1, maxKeys: 4 }), (rules) => {
      const text = Object.entries(rules).map(([k, v]) => `${k}=${v}`).join(',');
      fc.pre(!text.trim().startsWith('{'));
      const expected = Object.fromEntries(Object.entries(rules).map(([k, v]) => [k, /^[0-9]+$/.test(v) ? Number(v) : v]));
      expect(parseStructure(text, STRUCTURE)).toEqual(expected);
    }),
    300,
  );
});

describe('cli input: whole command lines through main()', () => {
  // Not a git repository: a request that parses reaches the store lookup, which refuses, so nothing runs.
  const cwd = mkdtempSync(join(tmpdir(), 'secretstore-fuzz-cli-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  const NAMES = Object.keys(operations) as OperationName[];
  /** A flag's argument: anything but what reads stdin or a file. */
  const arg = fc.oneof(shorthandText, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))).filter((a) => a !== '-' && !a.startsWith('file://') && !a.startsWith('fileb://'));
  const membersOf = (name: OperationName) => fc.dictionary(fc.oneof(fc.constantFrom(...operations[name].params.map((p) => p.member)), fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
  const commandLine = fc.constantFrom(...NAMES).chain((name) =>
    fc.tuple(
      fc.constant(name),
      fc.array(fc.tuple(fc.constantFrom(...operations[name].params), fc.array(arg, { minLength: 1, maxLength: 2 })), { maxLength: 4 }),
      fc.option(fc.oneof(membersOf(name).map((m) => ['--cli-input-json', JSON.stringify(m)]), membersOf(name).map((m) => ['--cli-input-yaml', stringify(m)]), arg.map((t) => ['--cli-input-json', t]), arg.map((t) => ['--cli-input-yaml', t])), { nil: undefined }),
    ),
  );

  propertyAsync(
    'cli input: any command line of any operation exits 252 or 254 with one AWS-named error line, never a crash',
    fc.asyncProperty(commandLine, async ([name, flags, input]) => {
      const argv = [operations[name].command];
      for (const [p, values] of flags) {
        if (p.type === 'boolean') argv.push(values[0]!.length % 2 === 0 ? `--${flagOf(p.member)}` : `--no-${flagOf(p.member)}`);
        else argv.push(`--${flagOf(p.member)}`, ...(p.type === 'strings' || p.type === 'tags' || p.type === 'filters' ? values : values.slice(0, 1)));
      }
      if (input) argv.push(...input);
      let out = '';
      let err = '';
      const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t), env: { PATH: process.env.PATH, HOME: cwd }, cwd });
      if (code === 0) {
        // storeless operations (get-random-password) answer without a store
        expect(operations[name].storeless).toBe(true);
        return;
      }
      expect([252, 254]).toContain(code);
      if (code === 254) {
        const lines = err.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^An error occurred \([A-Z][A-Za-z]+(Exception|Failure)\) when calling the [A-Za-z]+ operation: /);
      }
      expect(out + err).not.toMatch(/TypeError|RangeError|ReferenceError|SyntaxError|Cannot read properties|is not a function/);
    }),
    80,
    20,
  );
});
