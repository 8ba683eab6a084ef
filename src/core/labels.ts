/**
 * The label algebra of spec section 4. Labels live in a map label -> VersionId, so "a label sits on at
 * most one version" holds by construction; these functions keep the other invariants (AWSPREVIOUS follows
 * AWSCURRENT) and report every move so the commit message can list them.
 */
import { InvalidParameterException, InvalidRequestException, LimitExceededException } from '../errors.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';
export const MAX_LABELS = 20;

export interface LabelMove {
  readonly label: string;
  readonly from?: string;
  readonly to?: string;
}

export type Labels = Record<string, string>;

/**
 * The version `label` is on. Own keys only: a label is any text (spec 2.3), `constructor` or `toString`
 * included, which a plain lookup would find on Object.prototype.
 */
export function holderOf(labels: Readonly<Labels>, label: string): string | undefined {
  return Object.hasOwn(labels, label) ? labels[label] : undefined;
}

/** Puts `label` on `versionId` as an own key, even `__proto__`, which an assignment would take for the prototype. */
export function setLabel(labels: Labels, label: string, versionId: string): void {
  Object.defineProperty(labels, label, { value: versionId, writable: true, enumerable: true, configurable: true });
}

/** Spec 4.1: attach `label` to `target`, moving it from its holder; AWSPREVIOUS follows AWSCURRENT. */
export function attach(labels: Labels, label: string, target: string, moves: LabelMove[]): void {
  const holder = holderOf(labels, label);
  if (holder === target) return;
  setLabel(labels, label, target);
  moves.push({ label, ...(holder === undefined ? {} : { from: holder }), to: target });
  if (label === AWSCURRENT && holder !== undefined) attach(labels, AWSPREVIOUS, holder, moves);
}

/**
 * Spec 4.2: the labels a new version receives. AWSPREVIOUS asked for together with AWSCURRENT (listed, or
 * given to a secret's first version) would put both on the new version, which the index refuses (spec
 * 4.1): refused here, as update-secret-version-stage refuses it, before any label moves.
 */
export function labelNewVersion(labels: Labels, versionId: string, stages: readonly string[] | undefined, hadVersions: boolean): LabelMove[] {
  const wanted = [...new Set(stages ?? [AWSCURRENT])];
  if (!hadVersions && !wanted.includes(AWSCURRENT)) wanted.push(AWSCURRENT);
  if (wanted.includes(AWSCURRENT) && wanted.includes(AWSPREVIOUS)) throw new InvalidParameterException(StageMessages.previousOnCurrent);
  const moves: LabelMove[] = [];
  for (const label of wanted) attach(labels, label, versionId, moves);
  return moves;
}

export function labelsOf(labels: Readonly<Labels>, versionId: string): string[] {
  return Object.keys(labels).filter((l) => labels[l] === versionId).sort();
}

/** VersionIdsToStages: every labelled version with its labels; deprecated versions are left out. */
export function versionsToStages(labels: Readonly<Labels>): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const label of Object.keys(labels).sort()) (map[labels[label]!] ??= []).push(label);
  return map;
}

export function describeMoves(moves: readonly LabelMove[]): string[] {
  return moves.map((m) => `${m.label}: ${m.from ?? '(none)'} -> ${m.to ?? '(removed)'}`);
}

/** The label quota (spec Decisions): at most MAX_LABELS distinct labels across a secret's versions. */
export function checkLabelQuota(labels: Readonly<Labels>): void {
  if (Object.keys(labels).length > MAX_LABELS) {
    throw new LimitExceededException(`A secret can have at most ${MAX_LABELS} staging labels attached across all of its versions.`);
  }
}

export const StageMessages = {
  neither: 'You must specify MoveToVersionId, RemoveFromVersionId, or both.',
  notOnVersion: (label: string, versionId: string) => `Version stage ${label} not found in version ${versionId}`,
  removeFromRequired: (label: string, holder: string) =>
    `The parameter RemoveFromVersionId can't be empty. Staging label ${label} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
  currentNotRemovable: "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.",
  previousOnCurrent: `Staging label ${AWSPREVIOUS} can't be attached to the version that holds ${AWSCURRENT}.`,
} as const;

/**
 * Spec 3.9 / 4.3, UpdateSecretVersionStage: move `label` off `from` (R) and onto `to` (M). Checks the label
 * rules (R must hold the label; R is required when M takes a label another version holds; AWSCURRENT can
 * only move, never be removed) and returns the moves, none when M already holds the label. Whether R and
 * M are versions of the secret is the caller's check: this function sees only the labels.
 */
export function moveStage(labels: Labels, label: string, from: string | undefined, to: string | undefined): LabelMove[] {
  const holder = holderOf(labels, label);
  if (from === undefined && to === undefined) throw new InvalidParameterException(StageMessages.neither);
  if (from !== undefined && from !== holder) throw new InvalidParameterException(StageMessages.notOnVersion(label, from));
  if (to !== undefined && to === holder) return [];
  if (to !== undefined && holder !== undefined && from === undefined) {
    throw new InvalidParameterException(StageMessages.removeFromRequired(label, holder));
  }
  if (label === AWSCURRENT && to === undefined) throw new InvalidParameterException(StageMessages.currentNotRemovable);
  // The index refuses AWSCURRENT and AWSPREVIOUS on one version (AWSPREVIOUS means "the version AWSCURRENT left").
  if (label === AWSPREVIOUS && to !== undefined && labels[AWSCURRENT] === to) {
    throw new InvalidParameterException(StageMessages.previousOnCurrent);
  }

  const moves: LabelMove[] = [];
  if (to === undefined) {
    delete labels[label];
    moves.push({ label, from: from! });
    return moves;
  }
  // attach() moves the label from its holder (R, checked above) and hands AWSPREVIOUS to the version
  // AWSCURRENT left, stripping it from M when M held it (the rollback case, spec 8.5 #49).
  attach(labels, label, to, moves);
  if (label === AWSCURRENT && labels[AWSPREVIOUS] === to) {
    // Only reachable when no version held AWSCURRENT (spec 3.9 step 8): M cannot be both.
    delete labels[AWSPREVIOUS];
    moves.push({ label: AWSPREVIOUS, from: to });
  }
  return moves;
}

/**
 * `secretstore rollback` (not an AWS operation): the version AWSCURRENT goes back to. By default the one
 * holding AWSPREVIOUS, so a second rollback undoes the first (AWSPREVIOUS follows AWSCURRENT, spec 4.1);
 * with `to`, that version. InvalidRequestException when there is nowhere to go. The move itself is
 * UpdateSecretVersionStage's (`moveStage`); whether `to` is a version with a value is its check too.
 */
export function rollbackTarget(name: string, labels: Readonly<Labels>, to: string | undefined): { from: string; to: string } {
  const current = labels[AWSCURRENT];
  if (current === undefined) throw new InvalidRequestException(`Secret ${name} has no value, so there is nothing to roll back.`);
  const target = to ?? labels[AWSPREVIOUS];
  if (target === undefined) {
    throw new InvalidRequestException(`Secret ${name} has no ${AWSPREVIOUS} version to roll back to; name one with --to VERSION_ID.`);
  }
  if (target === current) throw new InvalidRequestException(`Version ${target} of secret ${name} already holds ${AWSCURRENT}: nothing to roll back.`);
  return { from: current, to: target };
}
