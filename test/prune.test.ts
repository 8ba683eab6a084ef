import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { versionsByAge } from '../src/core/codec.js';
import { versionsToPrune } from '../src/core/prune.js';
import { DEFAULT_POLICY } from '../src/model/store.js';

const HOUR = 3_600_000;
const now = new Date('2026-11-29T12:00:00.000Z');
function index(count: number, ageHours: (i: number) => number, labels: Record<string, string> = {}) {
  const versions: Record<string, string> = {};
  for (let i = 0; i < count; i++) versions[`v${String(i).padStart(3, '0')}`] = new Date(now.getTime() - ageHours(i) * HOUR).toISOString();
  return { versions, labels };
}

describe('pruning rule (spec Decisions: pruneAbove, minVersionAgeHours)', () => {
  it('nothing is pruned at or below pruneAbove versions', () => {
    expect(versionsToPrune(index(100, () => 48), now, DEFAULT_POLICY)).toEqual([]);
  });
  it('above pruneAbove the oldest deprecated versions go first, down to pruneAbove', () => {
    const idx = index(103, (i) => 200 - i, { AWSCURRENT: 'v102', AWSPREVIOUS: 'v101' });
    expect(versionsToPrune(idx, now, DEFAULT_POLICY)).toEqual(['v000', 'v001', 'v002']);
  });
  it('labelled versions are never pruned, even the oldest', () => {
    const idx = index(102, (i) => 200 - i, { AWSCURRENT: 'v101', custom: 'v000' });
    expect(versionsToPrune(idx, now, DEFAULT_POLICY)).toEqual(['v001', 'v002']);
  });
  it('versions younger than minVersionAgeHours are never pruned, so the count may stay above pruneAbove', () => {
    const idx = index(105, (i) => (i < 2 ? 30 : 1), { AWSCURRENT: 'v104' });
    expect(versionsToPrune(idx, now, DEFAULT_POLICY)).toEqual(['v000', 'v001']);
  });
  it('a version exactly minVersionAgeHours old may be pruned', () => {
    const idx = index(3, () => 24, { AWSCURRENT: 'v002' });
    expect(versionsToPrune(idx, now, { ...DEFAULT_POLICY, pruneAbove: 2 })).toEqual(['v000']);
  });

  it('the rule is: walk all versions oldest first, dropping deprecated ones old enough while above pruneAbove (any index, any policy)', () => {
    const reference = (idx: ReturnType<typeof index>, policy: typeof DEFAULT_POLICY) => {
      const labelled = new Set(Object.values(idx.labels));
      let count = Object.keys(idx.versions).length;
      const pruned: string[] = [];
      for (const id of versionsByAge(idx)) {
        if (count <= policy.pruneAbove) break;
        if (labelled.has(id) || Date.parse(idx.versions[id]!) > now.getTime() - policy.minVersionAgeHours * HOUR) continue;
        pruned.push(id);
        count -= 1;
      }
      return pruned;
    };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 30 }), fc.array(fc.nat(40), { maxLength: 4 }), fc.nat(30), fc.nat(48), (ages, labelled, pruneAbove, minVersionAgeHours) => {
        const idx = index(ages.length, (i) => ages[i]!, Object.fromEntries(labelled.map((n, i) => [`L${i}`, `v${String(n).padStart(3, '0')}`])));
        const policy = { ...DEFAULT_POLICY, pruneAbove, minVersionAgeHours };
        expect(versionsToPrune(idx, now, policy)).toEqual(reference(idx, policy));
      }),
      { seed: 20261206, numRuns: 1000 },
    );
  });
});
