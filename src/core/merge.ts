/**
 * The 3-way semantic merge of one secret's label index (`secret.yaml`): base, ours, theirs -> merged,
 * or the list of what is contested. Pure: `secretstore sync` and the git merge driver both call it, so
 * a plain `git pull` and a sync produce the same index text.
 *
 * The rules (README "Sync and merging"):
 * - Versions: the union of both sides' new versions. A version in base that is absent on one side was
 *   pruned or deleted there and stays gone (never re-added). Placeholders follow the same rule; a
 *   placeholder filled on either side is a version.
 * - Labels, each one 3-way: a label moved on one side takes that side's target; both sides to the same
 *   target is fine; both to different targets (or moved on one and removed on the other) is CONTESTED.
 *   A contest is resolved only by an explicit preference: `ours`, `theirs` or `newest` (the candidate
 *   version created later; ties by VersionId).
 * - AWSPREVIOUS follows the AWSCURRENT outcome: when AWSCURRENT was contested and resolved, the losing
 *   candidate becomes AWSPREVIOUS, so nobody's new value is left without a label; when one side moved
 *   AWSCURRENT, that side's AWSPREVIOUS comes with it; otherwise AWSPREVIOUS is merged like any label.
 *   It never sits on AWSCURRENT's version, nor on a version the merge dropped.
 * - Other fields, 3-way each: one side changed it -> take it. Both changed to different values: dates
 *   that only record when something happened (lastChangedDate, rotation's lastRotatedDate) take the
 *   later one; a purge date or next rotation date takes the earlier (the stricter); tags merge per key;
 *   anything else is contested, resolved by the preference (`newest`: the side changed last by
 *   lastChangedDate, ties to theirs).
 * - The same name created on both sides (different ARNs: two different secrets), or a version id
 *   added on both with different times, or a label moved onto a version the other side pruned, cannot
 *   be preferred away: the merge is refused for that secret until a person resolves it.
 * - Afterwards pruning applies (`applyPrune`, the one rule), and the result must pass every check a
 *   read applies (the codec's parse of the serialized text, the label quota); a merge that breaks one
 *   is refused.
 */
import { InvalidRequestException } from '../errors.js';
import type { Policy, RotationConfig, SecretIndex, Tag } from '../model/store.js';
import { optional, parseSecretIndex, serializeSecretIndex } from './codec.js';
import { AWSCURRENT, AWSPREVIOUS, holderOf, MAX_LABELS, setLabel } from './labels.js';
import { applyPrune } from './prune.js';

export type Side = 'ours' | 'theirs';
export type Preference = Side | 'newest';
export const PREFERENCES: readonly Preference[] = ['ours', 'theirs', 'newest'];

/** Something both sides changed differently. `preferable: false` means no preference may settle it. */
export interface Contest {
  readonly secret: string;
  /** `label AWSCURRENT`, `field description`, `tag Env`, `secret` (existence), `version V`. */
  readonly what: string;
  /** What each side holds (a VersionId for a label; `(none)` when absent). Never a secret value. */
  readonly ours: string;
  readonly theirs: string;
  readonly preferable: boolean;
  /** Why it cannot be settled by a preference, when it cannot. */
  readonly why?: string;
}

/** A contest settled by the preference, for the merge commit's message. */
export interface Decision {
  readonly secret: string;
  readonly what: string;
  readonly chosen: Side;
  readonly kept: string;
  readonly over: string;
  readonly by: Preference;
  /** e.g. `v2 -> AWSPREVIOUS`: what the rule did with the loser. */
  readonly note?: string;
}

export type MergeOutcome =
  | {
      readonly kind: 'merged';
      /** undefined: the secret is gone (deleted on both sides, or purged on one and untouched on the other). */
      readonly index: SecretIndex | undefined;
      readonly decisions: readonly Decision[];
      readonly pruned: readonly string[];
    }
  | { readonly kind: 'contested'; readonly contests: readonly Contest[] };

export interface MergeOptions {
  readonly prefer?: Preference;
  readonly now: Date;
  readonly policy: Policy;
}

const NONE = '(none)';

/** Per-merge state: contests found and decisions taken while merging one secret. */
class Merger {
  readonly contests: Contest[] = [];
  readonly decisions: Decision[] = [];
  constructor(
    readonly secret: string,
    readonly prefer: Preference | undefined,
    /** Which side `newest` picks for a non-version field. */
    readonly newerSide: Side,
  ) {}

  /** Settle a contest by the preference, or record it. Returns the side chosen, or undefined. */
  settle(what: string, ours: string, theirs: string, newest: Side, note?: string): Side | undefined {
    if (this.prefer === undefined) {
      this.contests.push({ secret: this.secret, what, ours, theirs, preferable: true });
      return undefined;
    }
    const chosen = this.prefer === 'newest' ? newest : this.prefer;
    const [kept, over] = chosen === 'ours' ? [ours, theirs] : [theirs, ours];
    this.decisions.push({ secret: this.secret, what, chosen, kept, over, by: this.prefer, ...optional('note', note) });
    return chosen;
  }

  refuse(what: string, ours: string, theirs: string, why: string): void {
    this.contests.push({ secret: this.secret, what, ours, theirs, preferable: false, why });
  }

  /** Plain 3-way of one value, compared as JSON; a real conflict goes to `settle`. */
  field<T>(what: string, base: T | undefined, ours: T | undefined, theirs: T | undefined): T | undefined {
    const [b, o, t] = [key(base), key(ours), key(theirs)];
    if (o === t || t === b) return ours;
    if (o === b) return theirs;
    const chosen = this.settle(what, o ?? NONE, t ?? NONE, this.newerSide);
    return chosen === 'theirs' ? theirs : ours;
  }
}

function key(value: unknown): string | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
}

/** 3-way where a real conflict is settled by a fixed rule (later or earlier timestamp), never contested. */
function byTime(base: string | undefined, ours: string | undefined, theirs: string | undefined, pick: 'later' | 'earlier'): string | undefined {
  if (ours === theirs || theirs === base) return ours;
  if (ours === base) return theirs;
  if (ours === undefined || theirs === undefined) return ours ?? theirs;
  return (ours > theirs) === (pick === 'later') ? ours : theirs;
}

/** The ids kept by the deletion rule: in base and still on both sides, or new on either side. */
function keptIds(
  base: Readonly<Record<string, string>>,
  ours: Readonly<Record<string, string>>,
  theirs: Readonly<Record<string, string>>,
  m: Merger,
  what: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    const [o, t] = [ours[id], theirs[id]];
    if (id in base) {
      if (o !== undefined && t !== undefined) out[id] = o;
      continue;
    }
    if (o !== undefined && t !== undefined && o !== t) {
      m.refuse(`${what} ${id}`, o, t, 'the same VersionId was created on both sides with different times');
      continue;
    }
    out[id] = (o ?? t)!;
  }
  return out;
}

function mergeTags(m: Merger, base?: readonly Tag[], ours?: readonly Tag[], theirs?: readonly Tag[]): Tag[] | undefined {
  if (key(ours) === key(theirs) || key(theirs) === key(base)) return ours ? [...ours] : undefined;
  if (key(ours) === key(base)) return theirs ? [...theirs] : undefined;
  const asMap = (tags?: readonly Tag[]) => new Map((tags ?? []).map((t) => [t.Key, t.Value]));
  const [b, o, t] = [asMap(base), asMap(ours), asMap(theirs)];
  // Ours' order, then keys new on theirs in theirs' order: stable, so both directions read the same.
  const keys = [...new Set([...o.keys(), ...t.keys()])];
  const out: Tag[] = [];
  for (const k of keys) {
    const value = m.field(`tag ${k}`, b.get(k), o.get(k), t.get(k));
    if (value !== undefined) out.push({ Key: k, Value: value });
  }
  return out.length > 0 ? out : undefined;
}

function mergeRotation(m: Merger, base?: RotationConfig, ours?: RotationConfig, theirs?: RotationConfig): RotationConfig | undefined {
  if (key(ours) === key(theirs) || key(theirs) === key(base)) return ours;
  if (key(ours) === key(base)) return theirs;
  const enabled = m.field('field rotation.enabled', base?.enabled, ours?.enabled, theirs?.enabled) ?? false;
  return {
    enabled,
    ...optional('lambdaArn', m.field('field rotation.lambdaArn', base?.lambdaArn, ours?.lambdaArn, theirs?.lambdaArn)),
    ...optional('rules', m.field('field rotation.rules', base?.rules, ours?.rules, theirs?.rules)),
    ...optional('lastRotatedDate', byTime(base?.lastRotatedDate, ours?.lastRotatedDate, theirs?.lastRotatedDate, 'later')),
    ...optional('nextRotationDate', byTime(base?.nextRotationDate, ours?.nextRotationDate, theirs?.nextRotationDate, 'earlier')),
  };
}

/** `newest` between two candidate versions: the one created later (ties by VersionId). */
function newerVersion(o: string, t: string, created: Readonly<Record<string, string>>): Side {
  const [a, b] = [`${created[o] ?? ''} ${o}`, `${created[t] ?? ''} ${t}`];
  return a >= b ? 'ours' : 'theirs';
}

function mergeLabels(
  m: Merger,
  base: Readonly<Record<string, string>>,
  ours: Readonly<Record<string, string>>,
  theirs: Readonly<Record<string, string>>,
  ids: Readonly<Record<string, string>>,
): Record<string, string> {
  const labels: Record<string, string> = {};
  const label3 = (label: string): string | undefined => {
    const [b, o, t] = [holderOf(base, label), holderOf(ours, label), holderOf(theirs, label)];
    if (o === t || t === b) return o;
    if (o === b) return t;
    const newest = o === undefined ? 'theirs' : t === undefined ? 'ours' : newerVersion(o, t, ids);
    const chosen = m.settle(`label ${label}`, o ?? NONE, t ?? NONE, newest);
    return chosen === 'theirs' ? t : o;
  };
  let previous: string | undefined;
  const [bc, oc, tc] = [base[AWSCURRENT], ours[AWSCURRENT], theirs[AWSCURRENT]];
  if (oc !== tc && oc !== bc && tc !== bc && oc !== undefined && tc !== undefined) {
    // Both moved AWSCURRENT: the loser becomes AWSPREVIOUS, so neither new value is left unlabelled.
    const newest = newerVersion(oc, tc, ids);
    const chosen = m.settle(`label ${AWSCURRENT}`, oc, tc, newest);
    if (chosen !== undefined) {
      const [winner, loser] = chosen === 'ours' ? [oc, tc] : [tc, oc];
      labels[AWSCURRENT] = winner;
      previous = loser;
      const last = m.decisions[m.decisions.length - 1]!;
      m.decisions[m.decisions.length - 1] = { ...last, note: `${loser} -> ${AWSPREVIOUS}` };
    }
  } else {
    const current = label3(AWSCURRENT);
    if (current !== undefined) labels[AWSCURRENT] = current;
    // AWSPREVIOUS comes with the AWSCURRENT move that produced it.
    if (oc !== bc && tc === bc) previous = ours[AWSPREVIOUS];
    else if (tc !== bc && oc === bc) previous = theirs[AWSPREVIOUS];
    else previous = label3(AWSPREVIOUS);
  }
  if (previous !== undefined && previous !== labels[AWSCURRENT]) labels[AWSPREVIOUS] = previous;
  const others = new Set([...Object.keys(base), ...Object.keys(ours), ...Object.keys(theirs)]);
  for (const label of [...others].sort()) {
    if (label === AWSCURRENT || label === AWSPREVIOUS) continue;
    const target = label3(label);
    if (target !== undefined) setLabel(labels, label, target);
  }
  // A label left on a version the merge dropped: AWSPREVIOUS simply goes (its version was pruned);
  // any other label was moved there on one side while the other pruned it: a person must decide.
  for (const [label, target] of Object.entries(labels)) {
    if (target in ids) continue;
    delete labels[label];
    if (label !== AWSPREVIOUS) {
      m.refuse(`label ${label}`, holderOf(ours, label) ?? NONE, holderOf(theirs, label) ?? NONE, `it points at version ${target}, which the other side deleted`);
    }
  }
  return labels;
}

/** Merge one secret's index. Each side undefined when the secret has no index there. */
export function mergeSecretIndex(
  base: SecretIndex | undefined,
  ours: SecretIndex | undefined,
  theirs: SecretIndex | undefined,
  opts: MergeOptions,
): MergeOutcome {
  const name = (ours ?? theirs ?? base)!.name;
  const same = (a?: SecretIndex, b?: SecretIndex) => key(a && serializeSecretIndex(a)) === key(b && serializeSecretIndex(b));
  if (same(ours, theirs) || same(theirs, base)) return finish(ours, [], opts);
  if (same(ours, base)) return finish(theirs, [], opts);
  const newerSide: Side = (ours?.lastChangedDate ?? '') > (theirs?.lastChangedDate ?? '') ? 'ours' : 'theirs';
  const m = new Merger(name, opts.prefer, newerSide);
  if (ours === undefined || theirs === undefined) {
    // Deleted (purged) on one side, changed on the other: keep the change or the deletion.
    const changed: Side = ours === undefined ? 'theirs' : 'ours';
    const [o, t] = ours === undefined ? ['(deleted)', 'changed'] : ['changed', '(deleted)'];
    const chosen = m.settle('secret', o, t, changed);
    if (chosen === undefined) return { kind: 'contested', contests: m.contests };
    return finish(chosen === 'ours' ? ours : theirs, m.decisions, opts);
  }
  if (ours.arn !== theirs.arn || (base !== undefined && base.arn !== ours.arn && base.arn !== theirs.arn)) {
    m.refuse('secret', ours.arn, theirs.arn, 'two different secrets of this name were created on the two sides');
    return { kind: 'contested', contests: m.contests };
  }
  // A secret new on both sides with the same ARN merges against an empty base.
  const b: Partial<SecretIndex> = base?.arn === ours.arn ? base : {};
  const versions = keptIds(b.versions ?? {}, ours.versions, theirs.versions, m, 'version');
  const placeholders = keptIds(b.placeholders ?? {}, ours.placeholders ?? {}, theirs.placeholders ?? {}, m, 'placeholder');
  for (const id of Object.keys(versions)) delete placeholders[id];
  const labels = mergeLabels(m, b.labels ?? {}, ours.labels, theirs.labels, { ...placeholders, ...versions });
  const description = m.field('field description', b.description, ours.description, theirs.description);
  const kmsKeyId = m.field('field kmsKeyId', b.kmsKeyId, ours.kmsKeyId, theirs.kmsKeyId);
  const merged: SecretIndex = {
    name,
    arn: ours.arn,
    ...optional('description', description),
    ...optional('kmsKeyId', kmsKeyId),
    ...optional('tags', mergeTags(m, b.tags, ours.tags, theirs.tags)),
    createdDate: ours.createdDate < theirs.createdDate ? ours.createdDate : theirs.createdDate,
    lastChangedDate: byTime(b.lastChangedDate, ours.lastChangedDate, theirs.lastChangedDate, 'later')!,
    ...optional('deletedDate', byTime(b.deletedDate, ours.deletedDate, theirs.deletedDate, 'earlier')),
    ...optional('rotation', mergeRotation(m, b.rotation, ours.rotation, theirs.rotation)),
    ...optional('replicaRegions', m.field('field replicaRegions', b.replicaRegions, ours.replicaRegions, theirs.replicaRegions)),
    ...optional('resourcePolicy', m.field('field resourcePolicy', b.resourcePolicy, ours.resourcePolicy, theirs.resourcePolicy)),
    labels,
    versions,
    ...optional('placeholders', Object.keys(placeholders).length > 0 ? placeholders : undefined),
  };
  if (m.contests.length > 0) return { kind: 'contested', contests: m.contests };
  return finish(merged, m.decisions, opts);
}

/** Prune, then check every invariant a read checks: a merge that breaks one is refused. */
function finish(index: SecretIndex | undefined, decisions: readonly Decision[], opts: MergeOptions): MergeOutcome {
  if (index === undefined) return { kind: 'merged', index, decisions, pruned: [] };
  const { index: pruned, pruned: ids } = applyPrune(index, opts.now, opts.policy);
  const file = `${index.name} (merged)`;
  if (Object.keys(pruned.labels).length > MAX_LABELS) {
    throw new InvalidRequestException(`merge refused: ${file} would carry more than ${MAX_LABELS} labels`);
  }
  try {
    parseSecretIndex(serializeSecretIndex(pruned), file);
  } catch (err) {
    throw new InvalidRequestException(`merge refused: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { kind: 'merged', index: pruned, decisions, pruned: ids };
}

/** One line per decision, for the merge commit's message. */
export function describeDecision(d: Decision): string {
  return `${d.secret} ${d.what}: kept ${d.chosen} ${d.kept} over ${d.over} (--prefer ${d.by})${d.note ? `; ${d.note}` : ''}`;
}

/** One line per contest, for the report and the merge driver's explanation. */
export function describeContest(c: Contest): string {
  const why = c.preferable ? '' : ` (cannot be settled by --prefer: ${c.why ?? 'resolve by hand'})`;
  return `${c.secret} ${c.what}: ours ${c.ours}, theirs ${c.theirs}${why}`;
}
