import { describe, expect, it } from 'vitest';
import { attach, labelNewVersion, moveStage, versionsToStages, type Labels, type LabelMove } from '../src/core/labels.js';
import { parseSecretIndex, serializeSecretIndex } from '../src/core/codec.js';
import { InvalidParameterException } from '../src/errors.js';

/** Start from `{v1: [CUR]}`-style notation and return the same notation after `fn`. */
function run(start: Record<string, string[]>, fn: (labels: Labels) => void): Record<string, string[]> {
  const labels: Labels = {};
  for (const [v, ls] of Object.entries(start)) for (const l of ls) labels[l] = v;
  fn(labels);
  return versionsToStages(labels);
}
const put = (v: string, stages?: string[], hadVersions = true) => (l: Labels) => labelNewVersion(l, v, stages, hadVersions);

describe('label algebra (spec 4.4 worked examples for new versions)', () => {
  it('put without stages: AWSCURRENT moves to the new version and AWSPREVIOUS to the one it left', () => {
    expect(run({ v1: ['AWSCURRENT'] }, put('v2'))).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
  });
  it('put again: the old AWSPREVIOUS holder loses it and becomes deprecated', () => {
    expect(run({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] }, put('v3'))).toEqual({ v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] });
  });
  it('put with [AWSPENDING] leaves AWSCURRENT where it is', () => {
    expect(run({ v1: ['AWSCURRENT'] }, put('v2', ['AWSPENDING']))).toEqual({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
  });
  it('listed labels move from whichever version held them', () => {
    const after = run({ v1: ['AWSCURRENT'], v2: ['one', 'three', 'two'] }, put('v3', ['one', 'two', 'four']));
    expect(after).toEqual({ v1: ['AWSCURRENT'], v2: ['three'], v3: ['four', 'one', 'two'] });
  });
  it('a version that loses its last label is deprecated (absent from the map)', () => {
    const after = run({ v1: ['AWSCURRENT'], v2: ['one', 'three', 'two'] }, put('v3', ['one', 'two', 'three', 'four']));
    expect(after).toEqual({ v1: ['AWSCURRENT'], v3: ['four', 'one', 'three', 'two'] });
  });
  it('AWSPREVIOUS follows AWSCURRENT only when AWSCURRENT is listed', () => {
    expect(run({ v1: ['AWSCURRENT'] }, put('v2', ['AWSCURRENT', 'PUT0']))).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT', 'PUT0'] });
  });
  it('the first version of an empty secret gets AWSCURRENT', () => {
    expect(run({}, put('v1', undefined, false))).toEqual({ v1: ['AWSCURRENT'] });
  });
  it('the first version of an empty secret gets AWSCURRENT in addition to listed labels', () => {
    expect(run({}, put('v1', ['AWSPENDING'], false))).toEqual({ v1: ['AWSCURRENT', 'AWSPENDING'] });
  });
  it('duplicate labels in one VersionStages list are collapsed', () => {
    expect(run({ v1: ['AWSCURRENT'] }, put('v2', ['x', 'x']))).toEqual({ v1: ['AWSCURRENT'], v2: ['x'] });
  });
  it('attach reports every move, AWSPREVIOUS included, for the commit message', () => {
    const labels: Labels = { AWSCURRENT: 'v2', AWSPREVIOUS: 'v1' };
    const moves: LabelMove[] = [];
    attach(labels, 'AWSCURRENT', 'v3', moves);
    expect(moves).toEqual([
      { label: 'AWSCURRENT', from: 'v2', to: 'v3' },
      { label: 'AWSPREVIOUS', from: 'v1', to: 'v2' },
    ]);
  });
  it('attaching AWSCURRENT to the AWSPREVIOUS holder swaps them (rollback)', () => {
    expect(run({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] }, (l) => attach(l, 'AWSCURRENT', 'v1', []))).toEqual({
      v1: ['AWSCURRENT'],
      v2: ['AWSPREVIOUS'],
    });
  });
});

describe('label algebra: counterexamples found by the property tests (test/properties/labels.test.ts)', () => {
  // Both used to leave AWSCURRENT and AWSPREVIOUS on the new version; the index then refused to load
  // ("AWSCURRENT and AWSPREVIOUS are on the same version") and the secret could not be read.
  it('a put with VersionStages [AWSCURRENT, AWSPREVIOUS] is refused: AWSPREVIOUS never on the AWSCURRENT version (spec 4.1)', () => {
    const labels: Labels = { AWSCURRENT: 'v1' };
    expect(() => labelNewVersion(labels, 'v2', ['AWSCURRENT', 'AWSPREVIOUS'], true)).toThrow(InvalidParameterException);
    expect(labels).toEqual({ AWSCURRENT: 'v1' });
  });
  it('the first version of an empty secret with VersionStages [AWSPREVIOUS] is refused (it gets AWSCURRENT too, spec 4.2)', () => {
    const labels: Labels = {};
    expect(() => labelNewVersion(labels, 'v1', ['AWSPREVIOUS', ' '], false)).toThrow(InvalidParameterException);
    expect(labels).toEqual({});
  });
  it('AWSPREVIOUS alone on a new version of a secret that has one is still allowed', () => {
    expect(run({ v1: ['AWSCURRENT'] }, put('v2', ['AWSPREVIOUS']))).toEqual({ v1: ['AWSCURRENT'], v2: ['AWSPREVIOUS'] });
  });
  // A label is any text (spec 2.3). `__proto__` used to set the label map's prototype (the label was lost),
  // and `constructor` was found on Object.prototype (a move failed: "currently attached to version function Object()...").
  it('labels named __proto__ or constructor are labels like any other: put, moved and kept by the index file', () => {
    const labels: Labels = { AWSCURRENT: 'v1' };
    labelNewVersion(labels, 'v2', ['__proto__', 'L0'], true);
    expect(Object.keys(labels).sort()).toEqual(['AWSCURRENT', 'L0', '__proto__']);
    expect(moveStage(labels, 'constructor', undefined, 'v1')).toEqual([{ label: 'constructor', to: 'v1' }]);
    expect(moveStage(labels, '__proto__', 'v2', 'v1')).toEqual([{ label: '__proto__', from: 'v2', to: 'v1' }]);
    const index = {
      name: 'x', arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:x-AbCdEf', createdDate: '2026-12-06T12:00:00.000Z',
      lastChangedDate: '2026-12-06T12:00:00.000Z', labels, versions: { v1: '2026-12-06T12:00:00.000Z', v2: '2026-12-06T12:00:01.000Z' },
    };
    expect(parseSecretIndex(serializeSecretIndex(index), 'secret.yaml').labels).toEqual(labels);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });
});
