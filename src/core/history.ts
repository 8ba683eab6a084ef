/**
 * The history of secrets as events, computed from the label index before and after each commit: no
 * value is opened and no sealed file is read. One commit's change to one `secret.yaml` gives its events
 * in a fixed order (created, restored, versions added, label moves, versions removed, deleted, purged),
 * so `log` reads like the operation that made it.
 */
import { versionsByAge } from './codec.js';
import type { SecretIndex } from '../model/store.js';

export type HistoryEventKind = 'Created' | 'Restored' | 'VersionAdded' | 'LabelMoved' | 'VersionRemoved' | 'Deleted' | 'Purged';

/** One event of `secretstore log`, PascalCase like the rest of the CLI's structured output. */
export interface HistoryEvent {
  /** Commit time (author date), ISO-8601 UTC. */
  readonly Date: string;
  readonly Commit: string;
  /** The writer whose signature makes the commit authentic, else the commit author. */
  readonly Author: string;
  readonly Secret: string;
  readonly Arn: string;
  readonly Event: HistoryEventKind;
  readonly Label?: string;
  /** LabelMoved: the version the label left (absent when it was newly attached). */
  readonly From?: string;
  /** LabelMoved: the version the label reached (absent when it was removed). */
  readonly To?: string;
  /** VersionAdded, VersionRemoved. */
  readonly VersionId?: string;
  /** Deleted: when the secret will be purged. */
  readonly DeletionDate?: string;
}

export interface CommitMeta {
  readonly commit: string;
  readonly date: string;
  readonly author: string;
}

/** AWS's labels first, in the order a rotation moves them, then the others by name. */
const LABEL_ORDER = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'];
export function labelOrder(a: string, b: string): number {
  const ia = LABEL_ORDER.indexOf(a);
  const ib = LABEL_ORDER.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface LabelMove {
  readonly label: string;
  readonly from?: string;
  readonly to?: string;
}

/** Every label whose version differs between two indexes (either may be absent). */
export function labelMoves(before: SecretIndex | undefined, after: SecretIndex | undefined): LabelMove[] {
  const old = before?.labels ?? {};
  const now = after?.labels ?? {};
  const labels = [...new Set([...Object.keys(old), ...Object.keys(now)])].sort(labelOrder);
  return labels
    .filter((l) => old[l] !== now[l])
    .map((label) => ({ label, ...(old[label] === undefined ? {} : { from: old[label] }), ...(now[label] === undefined ? {} : { to: now[label] }) }));
}

/** Versions of `after` that `before` does not have, oldest first. */
export function versionsAdded(before: SecretIndex | undefined, after: SecretIndex | undefined): string[] {
  if (!after) return [];
  return versionsByAge(after).filter((id) => !(before && id in before.versions));
}

/**
 * The events of one index change. A different ARN under the same name is a purge and a new secret;
 * a change that is not a move of anything (a tag, a description) gives no event.
 */
export function indexEvents(meta: CommitMeta, before: SecretIndex | undefined, after: SecretIndex | undefined): HistoryEvent[] {
  if (before && after && before.arn !== after.arn) {
    return [...indexEvents(meta, before, undefined), ...indexEvents(meta, undefined, after)];
  }
  const secret = (after ?? before)!;
  const base = { Date: meta.date, Commit: meta.commit, Author: meta.author, Secret: secret.name, Arn: secret.arn };
  const events: HistoryEvent[] = [];
  if (!before && after) events.push({ ...base, Event: 'Created' });
  if (before?.deletedDate !== undefined && after && after.deletedDate === undefined) events.push({ ...base, Event: 'Restored' });
  for (const id of versionsAdded(before, after)) events.push({ ...base, Event: 'VersionAdded', VersionId: id });
  // A purge takes its labels with it: one Purged event says it all.
  for (const m of after ? labelMoves(before, after) : []) {
    events.push({ ...base, Event: 'LabelMoved', Label: m.label, ...(m.from === undefined ? {} : { From: m.from }), ...(m.to === undefined ? {} : { To: m.to }) });
  }
  if (before && after) {
    for (const id of versionsByAge(before).filter((v) => !(v in after.versions))) events.push({ ...base, Event: 'VersionRemoved', VersionId: id });
  }
  if (after?.deletedDate !== undefined && before?.deletedDate === undefined && before) {
    events.push({ ...base, Event: 'Deleted', DeletionDate: after.deletedDate });
  }
  if (before && !after) events.push({ ...base, Event: 'Purged' });
  return events;
}

/** How `log` prints VersionIds: whole (the default, for scripts) or cut to `abbrev` characters. */
export function formatEvent(e: HistoryEvent, abbrev?: number): string {
  const v = (id: string | undefined, none: string) => (id === undefined ? none : abbrev === undefined ? id : id.slice(0, abbrev));
  const head = `${e.Date.slice(0, 10)} ${e.Author} ${e.Secret}`;
  switch (e.Event) {
    case 'Created':
      return `${head} created`;
    case 'Restored':
      return `${head} restored`;
    case 'VersionAdded':
      return `${head} version ${v(e.VersionId, '?')} added`;
    case 'LabelMoved':
      return `${head} ${e.Label!} ${v(e.From, '(none)')} -> ${v(e.To, '(removed)')}`;
    case 'VersionRemoved':
      return `${head} version ${v(e.VersionId, '?')} removed`;
    case 'Deleted':
      return `${head} deleted (purge on ${e.DeletionDate!.slice(0, 10)})`;
    case 'Purged':
      return `${head} purged`;
  }
}
