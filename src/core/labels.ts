/**
 * The label algebra of spec section 4. Labels live in a map label -> VersionId, so "a label sits on at
 * most one version" holds by construction; these functions keep the other invariants (AWSPREVIOUS follows
 * AWSCURRENT) and report every move so the commit message can list them.
 */
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

/** Spec 4.1: attach `label` to `target`, moving it from its holder; AWSPREVIOUS follows AWSCURRENT. */
export function attach(labels: Labels, label: string, target: string, moves: LabelMove[]): void {
  const holder = labels[label];
  if (holder === target) return;
  labels[label] = target;
  moves.push({ label, ...(holder === undefined ? {} : { from: holder }), to: target });
  if (label === AWSCURRENT && holder !== undefined) attach(labels, AWSPREVIOUS, holder, moves);
}

/** Spec 4.2: the labels a new version receives. */
export function labelNewVersion(labels: Labels, versionId: string, stages: readonly string[] | undefined, hadVersions: boolean): LabelMove[] {
  const wanted = [...new Set(stages ?? [AWSCURRENT])];
  if (!hadVersions && !wanted.includes(AWSCURRENT)) wanted.push(AWSCURRENT);
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
