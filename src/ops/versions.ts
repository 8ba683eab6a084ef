/**
 * Creating a version, shared by CreateSecret and PutSecretValue (and later UpdateSecret and rotation):
 * the idempotency rule of spec 2.8, the label moves of spec 4.2, the label quota, pruning and the
 * version quota, and the sealed file itself.
 */
import { LimitExceededException, Messages, ResourceExistsException } from '../errors.js';
import { versionPath } from '../core/layout.js';
import { AWSCURRENT, checkLabelQuota, describeMoves, labelNewVersion, type LabelMove } from '../core/labels.js';
import { optional } from '../core/codec.js';
import { applyPrune } from '../core/prune.js';
import type { SecretIndex } from '../model/store.js';
import type { SecretValue } from '../model/value.js';
import type { FileChange, OpContext } from './context.js';
import { indexChange } from './common.js';
import { afterNewCurrent, livePlaceholders, withPlaceholders } from './rotate-secret.js';

/**
 * A request whose token is already a VersionId of this secret: true when the value is the same (the
 * call succeeds and changes nothing); ResourceExistsException when it differs; false for a new token
 * and for a rotation placeholder's token (it has no value to compare: the put fills it, spec 2.8).
 */
export async function isReplay(ctx: OpContext, index: SecretIndex, token: string, value: SecretValue): Promise<boolean> {
  if (!(token in index.versions)) return false;
  // A write-only writer compares by its keyed commitment, without decrypting (see ctx.sameValue)
  if (await ctx.sameValue(index, token, value)) return true;
  throw new ResourceExistsException(Messages.tokenInUse(token, index.arn));
}

export interface NewVersion {
  readonly index: SecretIndex;
  readonly changes: FileChange[];
  /** Commit message lines: the version, each label move, each pruned version. */
  readonly log: string[];
  readonly moves: readonly LabelMove[];
}

/**
 * A new version `versionId` with `value`. When `versionId` is a placeholder that rotate-secret reserved
 * (spec 2.8, 3.2 step 3), the version fills it: it gets its sealed file, moves from `placeholders` to
 * `versions`, and keeps the labels already on it (AWSPENDING) besides those `stages` attach. A
 * placeholder left without labels (this version took its AWSPENDING) is dropped.
 * Placeholders are not versions: they neither count as "had a version before" (spec 4.2) nor for
 * pruning or the version quota. A value that becomes AWSCURRENT restarts an interval rotation schedule.
 */
export async function addVersion(
  ctx: OpContext,
  before: SecretIndex,
  versionId: string,
  value: SecretValue,
  stages?: readonly string[],
): Promise<NewVersion> {
  const now = ctx.now.toISOString();
  const labels = { ...before.labels };
  const hadVersions = Object.keys(before.versions).length > 0;
  const moves = labelNewVersion(labels, versionId, stages, hadVersions);
  checkLabelQuota(labels);
  const fills = versionId in (before.placeholders ?? {});
  // The filled one becomes a version; one whose AWSPENDING this version took is dropped.
  const placeholders = livePlaceholders(labels, before.placeholders ?? {});
  delete placeholders[versionId];
  const becameCurrent = moves.some((m) => m.label === AWSCURRENT && m.to === versionId);
  const rotation = becameCurrent ? afterNewCurrent(before.rotation, ctx.now) : before.rotation;
  const grown = withPlaceholders(
    { ...before, labels, versions: { ...before.versions, [versionId]: now }, lastChangedDate: now, ...optional('rotation', rotation) },
    placeholders,
  );
  const { index, pruned } = applyPrune(grown, ctx.now, ctx.store.config.policy);
  const quota = ctx.store.config.policy.versionQuota;
  if (Object.keys(index.versions).length > quota) {
    throw new LimitExceededException(
      `You have exceeded the quota of ${quota} versions for secret ${before.name}; no deprecated version is old enough to prune.`,
    );
  }
  const changes: FileChange[] = [
    { path: versionPath(index.name, versionId), content: await ctx.seal(index.arn, versionId, value) },
    indexChange(index),
    ...pruned.map((id): FileChange => ({ path: versionPath(index.name, id), delete: true })),
  ];
  const log = [
    `version: ${versionId}${fills ? ' (fills the AWSPENDING placeholder rotate-secret reserved)' : ''}`,
    ...describeMoves(moves),
    ...pruned.map((id) => `pruned: ${id}`),
  ];
  return { index, changes, log, moves };
}

export function commitMessage(command: string, name: string, detail: string, lines: readonly string[]): string {
  return `${command} ${name}: ${detail}\n\n${lines.join('\n')}\n`;
}
