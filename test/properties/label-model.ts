/**
 * A reference model of the label algebra, written from the spec (section 4 and 3.9) rather than from
 * src/core/labels.ts: labels as each version's set, as the spec's tables show them. The property tests
 * run the same operations on the model and on the code and compare.
 */
export const CUR = 'AWSCURRENT';
export const PREV = 'AWSPREVIOUS';
export const PENDING = 'AWSPENDING';
export const LABEL_QUOTA = 20;

export class LabelModel {
  /** versionId -> its labels; placeholders (rotation's value-less versions) are listed too. */
  readonly stages = new Map<string, Set<string>>();

  holder(label: string): string | undefined {
    for (const [id, labels] of this.stages) if (labels.has(label)) return id;
    return undefined;
  }

  private on(id: string): Set<string> {
    let labels = this.stages.get(id);
    if (!labels) this.stages.set(id, (labels = new Set()));
    return labels;
  }

  /** Spec 4.1. */
  attach(label: string, target: string): void {
    const holder = this.holder(label);
    if (holder === target) return;
    if (holder !== undefined) this.stages.get(holder)!.delete(label);
    this.on(target).add(label);
    if (label === CUR && holder !== undefined) this.attach(PREV, holder);
  }

  /** Spec 4.2; false (and nothing moved) when the version would get both AWSCURRENT and AWSPREVIOUS (4.1's invariant). */
  newVersion(id: string, stages: readonly string[] | undefined, hadVersions: boolean): boolean {
    const labels = [...new Set(stages ?? [CUR])];
    if (!hadVersions && !labels.includes(CUR)) labels.push(CUR);
    if (labels.includes(CUR) && labels.includes(PREV)) return false;
    this.on(id);
    for (const label of labels) this.attach(label, id);
    return true;
  }

  /**
   * Spec 3.9 steps 3-8 and 4.3: why the move must fail, or undefined when it applies (it then has).
   * `known` are the versions (and placeholders) of the secret; `valued` those with a value.
   */
  moveStage(label: string, r: string | undefined, m: string | undefined, known: ReadonlySet<string>, valued: ReadonlySet<string>): string | undefined {
    if (r !== undefined && !known.has(r)) return 'R is not a version';
    if (m !== undefined && !known.has(m)) return 'M is not a version';
    if (label === CUR && m !== undefined && !valued.has(m)) return 'AWSCURRENT onto a version without a value';
    const h = this.holder(label);
    if (r === undefined && m === undefined) return 'neither R nor M';
    if (r !== undefined && r !== h) return 'R does not hold the label';
    if (m !== undefined && m === h) return undefined; // already there: nothing to do
    if (m !== undefined && h !== undefined && r === undefined) return 'R required';
    if (label === CUR && m === undefined) return 'AWSCURRENT cannot be removed';
    // secretstore's own decision: AWSPREVIOUS never on the AWSCURRENT version (spec 4.1 invariant)
    if (label === PREV && m !== undefined && this.holder(CUR) === m) return 'AWSPREVIOUS onto AWSCURRENT';
    if (r !== undefined) this.stages.get(r)!.delete(label);
    if (m !== undefined) this.on(m).add(label);
    if (label === CUR && r !== undefined && m !== undefined) this.attach(PREV, r);
    // spec 3.9 step 8 with the 4.1 invariant: AWSCURRENT taken without R leaves M without AWSPREVIOUS
    if (label === CUR && m !== undefined && this.stages.get(m)!.has(PREV)) this.stages.get(m)!.delete(PREV);
    return undefined;
  }

  labelCount(): number {
    let n = 0;
    for (const labels of this.stages.values()) n += labels.size;
    return n;
  }

  /** label -> versionId, as secret.yaml holds them. */
  labelMap(): Record<string, string> {
    const entries = [...this.stages].flatMap(([id, labels]) => [...labels].map((l): [string, string] => [l, id]));
    return sortKeys(Object.fromEntries(entries));
  }

  clone(): LabelModel {
    const copy = new LabelModel();
    for (const [id, labels] of this.stages) copy.stages.set(id, new Set(labels));
    return copy;
  }
}

export const sortKeys = (labels: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
