/**
 * The pruning rule (spec Decisions table), one pure function used by put's own commit, the pre-commit
 * hook and `secretstore prune`: while a secret has more than `pruneAbove` versions, drop the oldest
 * deprecated (label-less) version that is at least `minVersionAgeHours` old. Labelled and young
 * versions are never pruned, so the count may stay above the threshold.
 */
import type { Policy, SecretIndex } from '../model/store.js';
import { versionsByAge } from './codec.js';

const HOUR_MS = 3_600_000;

export function versionsToPrune(index: Pick<SecretIndex, 'labels' | 'versions'>, now: Date, policy: Policy): string[] {
  const ids = Object.keys(index.versions);
  if (ids.length <= policy.pruneAbove) return [];
  const labelled = new Set(Object.values(index.labels));
  const oldEnough = now.getTime() - policy.minVersionAgeHours * HOUR_MS;
  // Only the candidates are put in age order (a busy secret above the threshold often has none: all young).
  const candidates: Record<string, string> = {};
  let any = false;
  for (const id of ids) {
    if (labelled.has(id) || Date.parse(index.versions[id]!) > oldEnough) continue;
    candidates[id] = index.versions[id]!;
    any = true;
  }
  return any ? versionsByAge({ versions: candidates }).slice(0, ids.length - policy.pruneAbove) : [];
}

/** The index without the versions the rule prunes, and which those were. */
export function applyPrune<T extends Pick<SecretIndex, 'labels' | 'versions'>>(index: T, now: Date, policy: Policy): { index: T; pruned: string[] } {
  const pruned = versionsToPrune(index, now, policy);
  if (pruned.length === 0) return { index, pruned };
  const versions = { ...index.versions };
  for (const id of pruned) delete versions[id];
  return { index: { ...index, versions }, pruned };
}
