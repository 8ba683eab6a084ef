import { describe, expect, it } from 'vitest';
import { parseSecretIndex, serializeSecretIndex } from '../src/core/codec.js';
import { describeContest, describeDecision, mergeSecretIndex, type MergeOptions } from '../src/core/merge.js';
import { DEFAULT_POLICY, type SecretIndex } from '../src/model/store.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf';
const at = (h: number) => new Date(Date.UTC(2026, 10, 1, h)).toISOString();
const opts: MergeOptions = { now: new Date(Date.UTC(2026, 10, 2)), policy: DEFAULT_POLICY };

function index(over: Partial<SecretIndex> = {}): SecretIndex {
  return {
    name: 'db',
    arn: ARN,
    createdDate: at(0),
    lastChangedDate: at(1),
    labels: { AWSCURRENT: 'v1' },
    versions: { v1: at(1) },
    ...over,
  };
}

/** A put of `id` at hour `h` onto `from`, as put-secret-value does it. */
function put(from: SecretIndex, id: string, h: number, stages = ['AWSCURRENT']): SecretIndex {
  const labels = { ...from.labels };
  for (const stage of stages) {
    if (stage === 'AWSCURRENT') labels.AWSPREVIOUS = labels.AWSCURRENT!;
    labels[stage] = id;
  }
  return { ...from, lastChangedDate: at(h), labels, versions: { ...from.versions, [id]: at(h) } };
}

function merged(base: SecretIndex | undefined, ours: SecretIndex | undefined, theirs: SecretIndex | undefined, o: Partial<MergeOptions> = {}) {
  const r = mergeSecretIndex(base, ours, theirs, { ...opts, ...o });
  if (r.kind !== 'merged') throw new Error(`contested: ${r.contests.map(describeContest).join('; ')}`);
  return r;
}

describe('semantic merge of label indexes (issue #5 item 1)', () => {
  const base = index();

  it('versions: the union of both sides new versions (two offline puts keep both values)', () => {
    const r = merged(base, put(base, 'v2', 2), put(base, 'v3', 3, ['beta']));
    expect(Object.keys(r.index!.versions).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(r.index!.labels).toEqual({ AWSCURRENT: 'v2', AWSPREVIOUS: 'v1', beta: 'v3' });
    expect(r.index!.lastChangedDate).toBe(at(3));
  });

  it('a version present in base and pruned on one side stays gone (never re-added)', () => {
    const b = put(put(base, 'v2', 2), 'v3', 3);
    const ours = { ...b, versions: { v2: at(2), v3: at(3) } }; // v1 pruned on ours
    const theirs = put(b, 'v4', 4, ['beta']);
    const r = merged(b, ours, theirs);
    expect(Object.keys(r.index!.versions).sort()).toEqual(['v2', 'v3', 'v4']);
  });

  it('a label moved on one side only takes that side (no contest)', () => {
    const theirs = put(base, 'v2', 2);
    expect(merged(base, base, theirs).index).toEqual(theirs);
    expect(merged(base, { ...base, description: 'd' }, theirs).index!.labels).toEqual({ AWSCURRENT: 'v2', AWSPREVIOUS: 'v1' });
  });

  it('both sides moving AWSCURRENT to different versions is contested without a preference', () => {
    const r = mergeSecretIndex(base, put(base, 'v2', 2), put(base, 'v3', 3), opts);
    expect(r.kind).toBe('contested');
    if (r.kind !== 'contested') return;
    expect(r.contests).toEqual([{ secret: 'db', what: 'label AWSCURRENT', ours: 'v2', theirs: 'v3', preferable: true }]);
  });

  it.each([
    ['ours', 'v2', 'v3'],
    ['theirs', 'v3', 'v2'],
    ['newest', 'v3', 'v2'],
  ] as const)('--prefer %s: AWSCURRENT on the chosen version, the loser becomes AWSPREVIOUS', (prefer, current, previous) => {
    const r = merged(base, put(base, 'v2', 2), put(base, 'v3', 3), { prefer });
    expect(r.index!.labels).toEqual({ AWSCURRENT: current, AWSPREVIOUS: previous });
    expect(Object.keys(r.index!.versions).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(r.decisions).toHaveLength(1);
    expect(describeDecision(r.decisions[0]!)).toBe(
      `db label AWSCURRENT: kept ${prefer === 'ours' ? 'ours' : 'theirs'} ${current} over ${previous} (--prefer ${prefer}); ${previous} -> AWSPREVIOUS`,
    );
  });

  it('--prefer newest picks the later-created version whichever side holds it', () => {
    const r = merged(base, put(base, 'v9', 9), put(base, 'v3', 3), { prefer: 'newest' });
    expect(r.index!.labels).toEqual({ AWSCURRENT: 'v9', AWSPREVIOUS: 'v3' });
  });

  it('the merge is symmetric: swapping sides with the swapped preference gives the same index text', () => {
    const [o, t] = [put(base, 'v2', 2), put(put(base, 'v3', 3), 'v4', 4, ['beta'])];
    const a = merged(base, o, t, { prefer: 'ours' }).index!;
    const b = merged(base, t, o, { prefer: 'theirs' }).index!;
    expect(serializeSecretIndex(a)).toBe(serializeSecretIndex(b));
  });

  it('a custom label moved to different versions is contested; the preference settles it', () => {
    const o = put(base, 'v2', 2, ['beta']);
    const t = put(base, 'v3', 3, ['beta']);
    expect(mergeSecretIndex(base, o, t, opts).kind).toBe('contested');
    expect(merged(base, o, t, { prefer: 'theirs' }).index!.labels).toEqual({ AWSCURRENT: 'v1', beta: 'v3' });
  });

  it('fields: one-sided changes merge; both changed differently is contested, settled by the preference', () => {
    const o = { ...base, description: 'ours', lastChangedDate: at(2) };
    const t = { ...base, description: 'theirs', tags: [{ Key: 'Env', Value: 'prod' }], lastChangedDate: at(3) };
    const r = mergeSecretIndex(base, o, t, opts);
    expect(r.kind === 'contested' && r.contests.map((c) => c.what)).toEqual(['field description']);
    const n = merged(base, o, t, { prefer: 'newest' }).index!;
    expect([n.description, n.tags, n.lastChangedDate]).toEqual(['theirs', [{ Key: 'Env', Value: 'prod' }], at(3)]);
    expect(merged(base, o, t, { prefer: 'ours' }).index!.description).toBe('ours');
  });

  it('tags merge per key', () => {
    const b = { ...base, tags: [{ Key: 'A', Value: '1' }] };
    const o = { ...b, tags: [{ Key: 'A', Value: '1' }, { Key: 'B', Value: '2' }] };
    const t = { ...b, tags: [{ Key: 'A', Value: '9' }, { Key: 'C', Value: '3' }] };
    expect(merged(b, o, t).index!.tags).toEqual([
      { Key: 'A', Value: '9' },
      { Key: 'B', Value: '2' },
      { Key: 'C', Value: '3' },
    ]);
  });

  it('deletedDate set on one side is kept; rotation dates merge by time', () => {
    const o = { ...base, deletedDate: at(30) };
    const t = { ...base, rotation: { enabled: true, lastRotatedDate: at(5) } };
    const r = merged(base, o, t).index!;
    expect(r.deletedDate).toBe(at(30));
    expect(r.rotation).toEqual({ enabled: true, lastRotatedDate: at(5) });
  });

  it('the same name created on both sides (different ARNs) is contested and no preference settles it', () => {
    const o = index({ arn: `${ARN.slice(0, -6)}Xxxxxx` });
    const t = index({ arn: `${ARN.slice(0, -6)}Yyyyyy` });
    for (const prefer of [undefined, 'ours', 'theirs', 'newest'] as const) {
      const r = mergeSecretIndex(undefined, o, t, { ...opts, ...(prefer ? { prefer } : {}) });
      expect(r.kind).toBe('contested');
      if (r.kind === 'contested') expect(r.contests[0]).toMatchObject({ what: 'secret', preferable: false });
    }
  });

  it('a secret created on one side only, or deleted on one side and untouched on the other, merges', () => {
    expect(merged(undefined, undefined, base).index).toEqual(base);
    expect(merged(base, undefined, base).index).toBeUndefined();
  });

  it('deleted on one side and changed on the other is contested; the preference settles it', () => {
    const t = put(base, 'v2', 2);
    expect(mergeSecretIndex(base, undefined, t, opts).kind).toBe('contested');
    expect(merged(base, undefined, t, { prefer: 'newest' }).index).toEqual(t);
    expect(merged(base, undefined, t, { prefer: 'ours' }).index).toBeUndefined();
  });

  it('a label moved onto a version the other side pruned is refused, whatever the preference', () => {
    const b = put(put(base, 'v2', 2), 'v3', 3); // v1 deprecated
    const o = { ...b, versions: { v2: at(2), v3: at(3) } }; // pruned v1
    const t = { ...b, labels: { ...b.labels, keep: 'v1' } };
    const r = mergeSecretIndex(b, o, t, { ...opts, prefer: 'theirs' });
    expect(r.kind === 'contested' && r.contests[0]).toMatchObject({ what: 'label keep', preferable: false });
  });

  it('pruning applies after merging (the same applyPrune rule)', () => {
    const policy = { ...DEFAULT_POLICY, pruneAbove: 3, minVersionAgeHours: 0 };
    const b = put(put(base, 'v2', 2), 'v3', 3);
    const r = merged(b, put(b, 'v4', 4, ['x']), put(b, 'v5', 5, ['y']), { policy });
    expect(r.pruned).toEqual(['v1']);
    expect(Object.keys(r.index!.versions).sort()).toEqual(['v2', 'v3', 'v4', 'v5']);
  });

  it('every invariant holds: the merged index reads back through the codec, AWSPREVIOUS never on AWSCURRENT', () => {
    // ours rolls AWSCURRENT back to v1 (AWSPREVIOUS -> v2); theirs moves AWSPREVIOUS: ours' move wins consistently.
    const b = put(base, 'v2', 2);
    const o = { ...b, labels: { AWSCURRENT: 'v1', AWSPREVIOUS: 'v2' }, lastChangedDate: at(4) };
    const t = put(b, 'v3', 3, ['beta']);
    const r = merged(b, o, t).index!;
    expect(r.labels).toEqual({ AWSCURRENT: 'v1', AWSPREVIOUS: 'v2', beta: 'v3' });
    expect(parseSecretIndex(serializeSecretIndex(r), 'x')).toEqual(r);
  });

  it('a merge that would break an invariant (more than 20 labels) is refused', () => {
    const many = (prefix: string) => Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`${prefix}${i}`, 'v1']));
    const o = { ...base, labels: { ...base.labels, ...many('a') } };
    const t = { ...base, labels: { ...base.labels, ...many('b') } };
    expect(() => mergeSecretIndex(base, o, t, opts)).toThrow(/merge refused/);
  });

  it('placeholders follow the version rule; a placeholder filled on one side is a version', () => {
    const b = { ...base, labels: { ...base.labels, AWSPENDING: 'p1' }, placeholders: { p1: at(2) } };
    const filled = { ...b, versions: { ...b.versions, p1: at(3) }, placeholders: undefined };
    const tagged = { ...b, tags: [{ Key: 'k', Value: 'v' }] };
    const r = merged(b, filled, tagged).index!;
    expect(r.versions.p1).toBe(at(3));
    expect(r.placeholders).toBeUndefined();
    expect(r.labels.AWSPENDING).toBe('p1');
    // Cancelled on one side (placeholder and AWSPENDING gone), untouched on the other: stays cancelled.
    const cancelled = { ...b, labels: base.labels, placeholders: undefined };
    const c = merged(b, cancelled, tagged).index!;
    expect([c.placeholders, c.labels.AWSPENDING]).toEqual([undefined, undefined]);
  });

  it('when only one side moved AWSCURRENT, its AWSPREVIOUS comes with it even if the other side moved AWSPREVIOUS', () => {
    const b = put(base, 'v2', 2); // AWSCURRENT v2, AWSPREVIOUS v1
    const o = put(b, 'v3', 3); // AWSCURRENT v3, AWSPREVIOUS v2
    const t = { ...b, labels: { AWSCURRENT: 'v2' } }; // AWSPREVIOUS removed by hand
    expect(merged(b, o, t).index!.labels).toEqual({ AWSCURRENT: 'v3', AWSPREVIOUS: 'v2' });
  });

  it('rotation merges per field: lastRotatedDate the later, nextRotationDate the earlier, a changed command contested', () => {
    const b = { ...base, rotation: { enabled: true, lambdaArn: 'rotate.sh', lastRotatedDate: at(1), nextRotationDate: at(30) } };
    const o = { ...b, rotation: { ...b.rotation, lastRotatedDate: at(5), nextRotationDate: at(40) } };
    const t = { ...b, rotation: { ...b.rotation, lastRotatedDate: at(4), nextRotationDate: at(35) } };
    expect(merged(b, o, t).index!.rotation).toEqual({ enabled: true, lambdaArn: 'rotate.sh', lastRotatedDate: at(5), nextRotationDate: at(35) });
    const o2 = { ...b, rotation: { ...b.rotation, lambdaArn: 'ours.sh' } };
    const t2 = { ...b, rotation: { ...b.rotation, lambdaArn: 'theirs.sh' } };
    const r = mergeSecretIndex(b, o2, t2, opts);
    expect(r.kind === 'contested' && r.contests.map((c) => [c.what, c.ours, c.theirs])).toEqual([['field rotation.lambdaArn', 'ours.sh', 'theirs.sh']]);
  });

  it('the same VersionId created on both sides with different times is refused whatever the preference', () => {
    const r = mergeSecretIndex(base, put(base, 'v2', 2), put(base, 'v2', 3), { ...opts, prefer: 'ours' });
    expect(r.kind === 'contested' && r.contests[0]).toMatchObject({ what: 'version v2', preferable: false });
  });

  it('the codec a merge reads with ignores a trailing signature block (signed changes)', () => {
    const text = `${serializeSecretIndex(base)}signature:\n  writer: alice\n  sig: abc\n`;
    expect(parseSecretIndex(text, 'x')).toEqual(base);
  });
});
