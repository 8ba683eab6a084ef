/**
 * Properties of the label algebra (spec 2.3 and 4): after any sequence of operations the labels are
 * where the spec's model puts them, the invariants of AWSCURRENT / AWSPREVIOUS / AWSPENDING hold, and an
 * operation that fails changes nothing. Once over src/core/labels.ts alone (fast, many sequences), once
 * through the real operations of the table on an in-memory store (codec and sealing included).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect } from 'vitest';
import { checkLabelQuota, labelNewVersion, moveStage, type Labels } from '../../src/core/labels.js';
import { parseSecretIndex, serializeSecretIndex } from '../../src/core/codec.js';
import { indexPath, versionPath } from '../../src/core/layout.js';
import type { SecretIndex } from '../../src/model/store.js';
import { CUR, LABEL_QUOTA, LabelModel, PENDING, PREV, sortKeys } from './label-model.js';
import { configFor, makeKeys, MemoryStore, type Keys } from './memory-store.js';
import { property, propertyAsync, resultOrNamedError, resultOrNamedErrorAsync } from './fuzz.js';

const CUSTOM = Array.from({ length: 25 }, (_, n) => `L${n}`);
/** The AWS labels most often, custom ones (one that looks like AWS's), enough others to reach the quota, and any text. */
const label = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(CUR, PREV, PENDING, 'one', 'two', 'AWSSOMETHING') },
  { weight: 2, arbitrary: fc.constantFrom(...CUSTOM) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 6 }) },
  // names an object literal already has: a label map must not take them for labels
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty') },
);
const stages = fc.oneof(
  { weight: 6, arbitrary: fc.option(fc.array(label, { minLength: 1, maxLength: 20 }), { nil: undefined, freq: 3 }) },
  // close to the label quota: one more label anywhere is the 21st
  { weight: 1, arbitrary: fc.shuffledSubarray(CUSTOM, { minLength: 17, maxLength: 20 }) },
);
/** A version by position among the known ones, a VersionId the secret does not have, or none. */
const ref = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((n) => ({ known: n })) },
  { weight: 1, arbitrary: fc.constant({ unknown: true as const }) },
  { weight: 2, arbitrary: fc.constant(undefined) },
);
type Ref = { known: number } | { unknown: true } | undefined;
const token = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat().map((n) => ({ known: n })) });

const command = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), stages, token, value: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('update' as const), token, value: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('stage' as const), label, from: ref, to: ref }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rotate' as const), token }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const) }) },
);

const UNKNOWN_ID = 'ffffffff-0000-4000-8000-notaversion0';
const idFor = (n: number) => `${String(n).padStart(8, '0')}-fuzz-4000-8000-000000000000`;
function resolve(r: Ref, known: readonly string[]): string | undefined {
  if (r === undefined) return undefined;
  if ('unknown' in r) return UNKNOWN_ID;
  return known.length === 0 ? UNKNOWN_ID : known[r.known % known.length];
}

/** Spec 4.1's invariants, and the quota, over a label -> VersionId map. */
function expectInvariants(labels: Readonly<Record<string, string>>, valued: ReadonlySet<string>, known: ReadonlySet<string>): void {
  if (labels[CUR] !== undefined) expect(labels[PREV]).not.toBe(labels[CUR]);
  expect(valued.size > 0).toBe(labels[CUR] !== undefined);
  if (labels[CUR] !== undefined) expect(valued.has(labels[CUR])).toBe(true);
  for (const id of Object.values(labels)) expect(known.has(id)).toBe(true);
  expect(Object.keys(labels).length).toBeLessThanOrEqual(LABEL_QUOTA);
}

describe('labels: the algebra of src/core/labels.ts against the spec model', () => {
  property(
    'labels: any sequence of new versions and stage moves leaves the labels where spec 4 puts them, within the invariants',
    fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
      let labels: Labels = {};
      const model = new LabelModel();
      const versions: string[] = [];
      for (const c of commands) {
        if (c.kind === 'put' || c.kind === 'update') {
          const id = idFor(versions.length);
          const next = { ...labels };
          const trial = model.clone();
          const allowed = trial.newVersion(id, c.kind === 'put' ? c.stages : undefined, versions.length > 0);
          const outcome = resultOrNamedError(() => {
            labelNewVersion(next, id, c.kind === 'put' ? c.stages : undefined, versions.length > 0);
            checkLabelQuota(next);
          });
          expect('error' in outcome).toBe(!allowed || trial.labelCount() > LABEL_QUOTA);
          if ('error' in outcome) continue;
          labels = next;
          model.stages.clear();
          for (const [k, v] of trial.stages) model.stages.set(k, v);
          versions.push(id);
        } else if (c.kind === 'stage') {
          const next = { ...labels };
          const from = resolve(c.from, versions);
          const to = resolve(c.to, versions);
          const known = new Set(versions);
          // moveStage sees labels only; whether R and M exist is the operation's check
          if ((from !== undefined && !known.has(from)) || (to !== undefined && !known.has(to))) continue;
          const trial = model.clone();
          const why = trial.moveStage(c.label, from, to, known, known);
          const outcome = resultOrNamedError(() => {
            moveStage(next, c.label, from, to);
            checkLabelQuota(next);
          });
          expect('error' in outcome ? 'fails' : 'applies').toBe(why !== undefined || trial.labelCount() > LABEL_QUOTA ? 'fails' : 'applies');
          if ('error' in outcome) continue;
          labels = next;
          model.stages.clear();
          for (const [k, v] of trial.stages) model.stages.set(k, v);
        }
        expect(sortKeys(labels)).toEqual(model.labelMap());
        expectInvariants(labels, new Set(versions), new Set(versions));
      }
    }),
    300,
  );
});

describe('labels: the operations of the table on an in-memory store against the spec model', () => {
  let keys: Keys;
  beforeAll(async () => {
    keys = await makeKeys();
  });

  const NAME = 'fuzz/labels';
  const value = (n: number) => `value-${n}`;

  propertyAsync(
    'labels: after any sequence of create, put, update, update-secret-version-stage, rotate and cancel, labels follow spec 4, AWSCURRENT reads the right value and a failed operation changes nothing',
    fc.asyncProperty(fc.boolean(), fc.integer({ min: 2, max: 6 }), fc.array(command, { maxLength: 25 }), async (withValue, pruneAbove, commands) => {
      const store = new MemoryStore(configFor(keys, { pruneAbove, minVersionAgeHours: 0 }), keys);
      const model = new LabelModel();
      const values = new Map<string, number>(); // versionId -> value number, for versions with a value
      const created = new Map<string, number>(); // versionId -> creation order, for pruning
      let placeholders = new Set<string>();
      let rotationConfigured = false;
      let fresh = 0;
      const nextId = () => idFor(fresh++);
      const known = () => [...values.keys(), ...placeholders];

      /** The model's side of a new version (spec 4.2, 2.8, 2.7); undefined when it must fail. */
      const modelPut = (id: string, stageList: readonly string[] | undefined, v: number): LabelModel | 'replay' | undefined => {
        if (values.has(id)) return values.get(id) === v ? 'replay' : undefined;
        const trial = model.clone();
        const allowed = trial.newVersion(id, stageList, values.size > 0);
        return !allowed || trial.labelCount() > LABEL_QUOTA ? undefined : trial;
      };
      const commitPut = (trial: LabelModel, id: string, v: number) => {
        model.stages.clear();
        for (const [k, s] of trial.stages) model.stages.set(k, s);
        values.set(id, v);
        created.set(id, fresh);
        placeholders.delete(id);
        placeholders = new Set([...placeholders].filter((p) => (model.stages.get(p)?.size ?? 0) > 0));
        for (const p of [...model.stages.keys()]) if (!values.has(p) && !placeholders.has(p)) model.stages.delete(p);
        // Pruning (spec Decisions): oldest label-less versions while there are more than pruneAbove.
        const byAge = [...values.keys()].sort((a, b) => created.get(a)! - created.get(b)!);
        let count = values.size;
        for (const old of byAge) {
          if (count <= pruneAbove) break;
          if ((model.stages.get(old)?.size ?? 0) > 0) continue;
          values.delete(old);
          model.stages.delete(old);
          count -= 1;
        }
      };

      const first = withValue ? nextId() : undefined;
      await store.run('CreateSecret', { Name: NAME, ...(first ? { SecretString: value(0), ClientRequestToken: first } : {}) });
      if (first) {
        model.newVersion(first, undefined, false);
        values.set(first, 0);
        created.set(first, -1);
      }

      for (const c of commands) {
        const before = new Map(store.files);
        let expectFailure: boolean;
        let outcome: { value: unknown } | { error: Error };
        if (c.kind === 'put' || c.kind === 'update') {
          const id = c.token === undefined ? nextId() : resolve(c.token, known())!;
          const stageList = c.kind === 'put' ? c.stages : undefined;
          const trial = modelPut(id, stageList, c.value);
          expectFailure = trial === undefined;
          outcome =
            c.kind === 'put'
              ? await resultOrNamedErrorAsync(() =>
                  store.run('PutSecretValue', { SecretId: NAME, ClientRequestToken: id, SecretString: value(c.value), ...(stageList ? { VersionStages: [...stageList] } : {}) }),
                )
              : await resultOrNamedErrorAsync(() => store.run('UpdateSecret', { SecretId: NAME, ClientRequestToken: id, SecretString: value(c.value) }));
          if (trial instanceof LabelModel && !('error' in outcome)) commitPut(trial, id, c.value);
        } else if (c.kind === 'stage') {
          const from = resolve(c.from, known());
          const to = resolve(c.to, known());
          const trial = model.clone();
          const why = trial.moveStage(c.label, from, to, new Set(known()), new Set(values.keys()));
          expectFailure = why !== undefined || trial.labelCount() > LABEL_QUOTA;
          outcome = await resultOrNamedErrorAsync(() =>
            store.run('UpdateSecretVersionStage', {
              SecretId: NAME,
              VersionStage: c.label,
              ...(from === undefined ? {} : { RemoveFromVersionId: from }),
              ...(to === undefined ? {} : { MoveToVersionId: to }),
            }),
          );
          if (!expectFailure && !('error' in outcome)) {
            model.stages.clear();
            for (const [k, s] of trial.stages) model.stages.set(k, s);
          }
        } else if (c.kind === 'rotate') {
          const id = c.token === undefined ? nextId() : resolve(c.token, known())!;
          const pending = model.holder(PENDING);
          const unfinished = pending !== undefined && pending !== model.holder(CUR) ? pending : undefined;
          const trial = model.clone();
          trial.attach(PENDING, id);
          expectFailure = (unfinished !== undefined && unfinished !== id) || (unfinished === undefined && values.has(id)) || trial.labelCount() > LABEL_QUOTA;
          outcome = await resultOrNamedErrorAsync(() => store.run('RotateSecret', { SecretId: NAME, ClientRequestToken: id, RotationLambdaARN: 'true' }));
          if (!expectFailure && !('error' in outcome)) {
            model.stages.clear();
            for (const [k, s] of trial.stages) model.stages.set(k, s);
            placeholders = new Set([...placeholders].filter((p) => (model.stages.get(p)?.size ?? 0) > 0));
            if (!values.has(id)) placeholders.add(id);
            for (const p of [...model.stages.keys()]) if (!values.has(p) && !placeholders.has(p)) model.stages.delete(p);
            rotationConfigured = true;
          }
        } else {
          expectFailure = !rotationConfigured;
          outcome = await resultOrNamedErrorAsync(() => store.run('CancelRotateSecret', { SecretId: NAME }));
        }

        const failed = 'error' in outcome;
        expect(failed ? `fails (${(outcome as { error: Error }).error.message})` : 'applies').toEqual(expectFailure ? expect.stringMatching(/^fails/) : 'applies');
        if (failed) expect(store.files).toEqual(before);

        const index = (await store.index(NAME)) as SecretIndex;
        const text = store.files.get(indexPath(NAME))!;
        expect(serializeSecretIndex(parseSecretIndex(text, 'secret.yaml'))).toBe(text);
        expect(sortKeys(index.labels)).toEqual(model.labelMap());
        expect(new Set(Object.keys(index.versions))).toEqual(new Set(values.keys()));
        expect(new Set(Object.keys(index.placeholders ?? {}))).toEqual(placeholders);
        expectInvariants(index.labels, new Set(values.keys()), new Set(known()));
        for (const id of values.keys()) expect(store.files.has(versionPath(NAME, id))).toBe(true);
        for (const id of placeholders) expect(store.files.has(versionPath(NAME, id))).toBe(false);

        // The default read answers with AWSCURRENT's value, or says there is none.
        const current = model.holder(CUR);
        const read = await resultOrNamedErrorAsync(() => store.run('GetSecretValue', { SecretId: NAME }));
        if (current === undefined) expect('error' in read && read.error.name).toBe('ResourceNotFoundException');
        else expect('value' in read && read.value.SecretString).toBe(value(values.get(current)!));
      }
    }),
    20,
    20,
  );
});
