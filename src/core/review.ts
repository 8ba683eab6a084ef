/**
 * `secretstore review BASE..HEAD`: what a pull request does to a store, as a reviewer reads it, and what
 * deserves a second look (findings). Pure: the shell hands in the commits of the range and the texts they
 * touched; nothing is decrypted. The summary is net (merge base -> HEAD, what `git diff BASE...HEAD`
 * shows); the findings are per commit, since a bad file added and removed again is still in history.
 */
import { CONFIG_FILE, parseConfig, parseSecretIndex } from './codec.js';
import { findSignature } from './commit-signature.js';
import { INDEX_FILE, SECRETS_DIR, SEALED_EXT, VERSIONS_DIR, versionPath } from './layout.js';
import { labelMoves, versionsAdded } from './history.js';
import type { EnvelopeHeader } from '../crypto/envelope.js';
import type { Scope, SecretIndex, StoreConfig } from '../model/store.js';

export interface ReviewCommit {
  readonly commit: string;
  readonly parents: readonly string[];
  readonly author: string;
  readonly message: string;
  readonly changes: readonly {
    readonly status: string;
    /** Relative to the store root when under it; repository-relative (with `../`-free prefix kept) otherwise. */
    readonly path: string;
    readonly inStore: boolean;
    readonly oldText?: string;
    readonly newText?: string;
  }[];
}

export interface NetChange {
  /** Relative to the store root. */
  readonly path: string;
  readonly before?: string;
  readonly after?: string;
  /** The mode at HEAD (`120000`: a symlink). */
  readonly mode?: string;
}

export interface ReviewInput {
  readonly range: string;
  readonly base: string;
  readonly head: string;
  readonly mergeBase: string;
  /** Oldest first. */
  readonly commits: readonly ReviewCommit[];
  /** Net changes under the store between the merge base and HEAD. */
  readonly net: readonly NetChange[];
  /** The config at the merge base and at HEAD. */
  readonly configBefore?: string;
  readonly configAfter?: string;
  /**
   * Every secret folder with a net change (to its index or a version file): its index text at HEAD
   * (absent when purged) and the files under its `versions/` at HEAD.
   */
  readonly touched: ReadonlyMap<string, { readonly index?: string; readonly versionFiles: readonly string[] }>;
  /** First words of the commit messages secretstore writes (`put-secret-value`, `init`, `prune`...). */
  readonly commands: readonly string[];
  /** Reads a sealed file's header without a key; throws on a file that is not one. */
  readonly readHeader: (text: string, path: string) => EnvelopeHeader;
}

export type FindingRule =
  | 'hand-commit'
  | 'unsigned-change'
  | 'stray-file'
  | 'identity-file'
  | 'damaged-index'
  | 'label-on-missing-version'
  | 'sealed-mismatch';

export interface Finding {
  readonly Rule: FindingRule;
  readonly Commit?: string;
  readonly Path?: string;
  readonly Message: string;
}

export interface AccessChange {
  readonly Change: 'added' | 'removed' | 'scope changed';
  readonly Name: string;
  readonly Key: string;
  readonly Scope?: readonly string[];
  readonly PreviousScope?: readonly string[];
}

export interface Review {
  readonly Range: string;
  readonly Base: string;
  readonly Head: string;
  readonly MergeBase: string;
  readonly Commits: number;
  readonly Created: { readonly Secret: string; readonly Versions: number }[];
  readonly Deleted: { readonly Secret: string; readonly DeletionDate: string }[];
  readonly Restored: { readonly Secret: string }[];
  readonly Purged: { readonly Secret: string }[];
  readonly VersionsAdded: { readonly Secret: string; readonly Count: number; readonly VersionIds: string[] }[];
  readonly VersionsRemoved: { readonly Secret: string; readonly Count: number; readonly VersionIds: string[] }[];
  readonly LabelMoves: { readonly Secret: string; readonly Label: string; readonly From?: string; readonly To?: string }[];
  /** A rotation command (lambdaArn) set or changed: it runs on the machine of whoever rotates. */
  readonly RotationCommands: { readonly Secret: string; readonly From?: string; readonly To?: string }[];
  /**
   * Resource policies set, changed or removed (recorded, not enforced offline): the lines of the stored
   * (indented JSON) policy that went and came, in order.
   */
  readonly ResourcePolicies: { readonly Secret: string; readonly Change: 'set' | 'changed' | 'removed'; readonly Removed: string[]; readonly Added: string[] }[];
  /** Replica Regions recorded or removed (no replica is made offline). */
  readonly ReplicaRegions: { readonly Secret: string; readonly Added: string[]; readonly Removed: string[] }[];
  readonly Recipients: AccessChange[];
  readonly Writers: AccessChange[];
  readonly Policy: { readonly Field: string; readonly From: number; readonly To: number }[];
  readonly Findings: Finding[];
}

const IDENTITY_MARK = /SECRETSTORE-(SECRET|SIGNING)-KEY-1/i;
const isIndexPath = (p: string) => p.startsWith(`${SECRETS_DIR}/`) && p.endsWith(`/${INDEX_FILE}`);
const SEALED_PATH = new RegExp(`^${SECRETS_DIR}/.+/${VERSIONS_DIR}/[^/]+\\${SEALED_EXT}$`);

function tryIndex(text: string | undefined, file: string): SecretIndex | undefined | Error {
  if (text === undefined) return undefined;
  try {
    return parseSecretIndex(text, file);
  } catch (err) {
    return err as Error;
  }
}

const short = (commit: string) => commit.slice(0, 12);
const sameScope = (a?: Scope, b?: Scope) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function accessChanges<E extends { name: string; scope?: Scope }>(before: readonly E[], after: readonly E[], key: (e: E) => string): AccessChange[] {
  const old = new Map(before.map((e) => [key(e), e]));
  const now = new Map(after.map((e) => [key(e), e]));
  const out: AccessChange[] = [];
  const scope = (s?: Scope) => (s === undefined ? {} : { Scope: [...s] });
  for (const [k, e] of now) {
    const was = old.get(k);
    if (!was) out.push({ Change: 'added', Name: e.name, Key: k, ...scope(e.scope) });
    else if (!sameScope(was.scope, e.scope)) {
      out.push({ Change: 'scope changed', Name: e.name, Key: k, ...scope(e.scope), ...(was.scope === undefined ? {} : { PreviousScope: [...was.scope] }) });
    }
  }
  for (const [k, e] of old) if (!now.has(k)) out.push({ Change: 'removed', Name: e.name, Key: k, ...scope(e.scope) });
  return out;
}

function configOf(text: string | undefined, findings: Finding[]): StoreConfig | undefined {
  if (text === undefined) return undefined;
  try {
    return parseConfig(text, CONFIG_FILE);
  } catch (err) {
    findings.push({ Rule: 'damaged-index', Path: CONFIG_FILE, Message: (err as Error).message });
    return undefined;
  }
}

/**
 * Whether a commit message has the shape secretstore gives its own: `<command> <name>: <detail>` or
 * `<command>: <detail>` with a command it knows. A shape, not a proof: anyone can type it, which is what
 * signatures are for; it catches the everyday `git commit -am "fix"` in the store.
 */
export function madeBySecretstore(message: string, commands: readonly string[]): boolean {
  const m = /^([a-z][a-z-]*)(?: \S+)?: \S/.exec(message);
  return m !== null && commands.includes(m[1]!);
}

type Summary = Pick<
  Review,
  'Created' | 'Deleted' | 'Restored' | 'Purged' | 'VersionsAdded' | 'VersionsRemoved' | 'LabelMoves' | 'RotationCommands' | 'ResourcePolicies' | 'ReplicaRegions'
>;

/** The lines only one side has, in order: a plain longest-common-subsequence diff (policies are short). */
export function lineDiff(before: readonly string[], after: readonly string[]): { removed: string[]; added: string[] } {
  const n = before.length;
  const m = after.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) added.push(after[j++]!);
    else removed.push(before[i++]!);
  }
  return { removed, added };
}

/** Policy and replica Region changes of one secret (old undefined: created in the range). */
function metadataChanges(s: Summary, old: SecretIndex | undefined, now: SecretIndex): void {
  const [from, to] = [old?.resourcePolicy, now.resourcePolicy];
  if (from !== to) {
    const { removed, added } = lineDiff(from?.split('\n') ?? [], to?.split('\n') ?? []);
    s.ResourcePolicies.push({ Secret: now.name, Change: from === undefined ? 'set' : to === undefined ? 'removed' : 'changed', Removed: removed, Added: added });
  }
  const was = (old?.replicaRegions ?? []).map((r) => r.region);
  const is = (now.replicaRegions ?? []).map((r) => r.region);
  const added = is.filter((r) => !was.includes(r));
  const removed = was.filter((r) => !is.includes(r));
  if (added.length > 0 || removed.length > 0) s.ReplicaRegions.push({ Secret: now.name, Added: added, Removed: removed });
}

/** The net change to secrets, from each index at the merge base and at HEAD (the net list is sorted by path). */
function summarise(net: readonly NetChange[], findings: Finding[]): Summary {
  const s: Summary = {
    Created: [], Deleted: [], Restored: [], Purged: [], VersionsAdded: [], VersionsRemoved: [], LabelMoves: [], RotationCommands: [],
    ResourcePolicies: [], ReplicaRegions: [],
  };
  const rotation = (old: SecretIndex | undefined, now: SecretIndex) => {
    const from = old?.rotation?.lambdaArn;
    const to = now.rotation?.lambdaArn;
    if (from !== to) s.RotationCommands.push({ Secret: now.name, ...(from === undefined ? {} : { From: from }), ...(to === undefined ? {} : { To: to }) });
  };
  for (const change of net.filter((c) => isIndexPath(c.path))) {
    const before = tryIndex(change.before, change.path);
    const after = tryIndex(change.after, change.path);
    if (after instanceof Error) {
      findings.push({ Rule: 'damaged-index', Path: change.path, Message: after.message });
      continue;
    }
    const old = before instanceof Error ? undefined : before;
    const now = after;
    if (old && (!now || old.arn !== now.arn)) s.Purged.push({ Secret: old.name });
    if (now && (!old || old.arn !== now.arn)) {
      s.Created.push({ Secret: now.name, Versions: Object.keys(now.versions).length });
      rotation(undefined, now);
      metadataChanges(s, undefined, now);
    }
    if (!old || !now || old.arn !== now.arn) continue;
    rotation(old, now);
    metadataChanges(s, old, now);
    if (old.deletedDate === undefined && now.deletedDate !== undefined) s.Deleted.push({ Secret: now.name, DeletionDate: now.deletedDate });
    if (old.deletedDate !== undefined && now.deletedDate === undefined) s.Restored.push({ Secret: now.name });
    const ids = versionsAdded(old, now);
    if (ids.length > 0) s.VersionsAdded.push({ Secret: now.name, Count: ids.length, VersionIds: ids });
    const gone = versionsAdded(now, old);
    if (gone.length > 0) s.VersionsRemoved.push({ Secret: now.name, Count: gone.length, VersionIds: gone });
    for (const m of labelMoves(old, now)) {
      s.LabelMoves.push({ Secret: now.name, Label: m.label, ...(m.from === undefined ? {} : { From: m.from }), ...(m.to === undefined ? {} : { To: m.to }) });
    }
  }
  return s;
}

function policyChanges(before: StoreConfig | undefined, after: StoreConfig | undefined): Review['Policy'] {
  if (!before || !after) return [];
  return (Object.keys(after.policy) as (keyof StoreConfig['policy'])[])
    .filter((field) => before.policy[field] !== after.policy[field])
    .map((field) => ({ Field: field, From: before.policy[field], To: after.policy[field] }));
}

/** What is wrong with the store's files at HEAD, in the secret folders the range touched. */
function headFindings(input: ReviewInput, config: StoreConfig | undefined, findings: Finding[]): void {
  const indexes = new Map<string, SecretIndex>();
  for (const [dir, { index }] of input.touched) {
    const parsed = tryIndex(index, `${dir}/${INDEX_FILE}`);
    if (parsed && !(parsed instanceof Error)) indexes.set(dir, parsed);
  }
  for (const change of input.net) {
    if (change.after === undefined || !change.path.startsWith(`${SECRETS_DIR}/`)) continue;
    const symlink = change.mode === '120000';
    if (symlink || (!isIndexPath(change.path) && !SEALED_PATH.test(change.path))) {
      findings.push({ Rule: 'stray-file', Path: change.path, Message: `${change.path} is neither a secret.yaml nor a versions/*.sealed file${symlink ? ' (a symlink)' : ''}` });
      continue;
    }
    if (!SEALED_PATH.test(change.path)) continue;
    const mismatch = (why: string) => findings.push({ Rule: 'sealed-mismatch', Path: change.path, Message: why });
    let header: EnvelopeHeader;
    try {
      header = input.readHeader(change.after, change.path);
    } catch (err) {
      mismatch((err as Error).message);
      continue;
    }
    const index = indexes.get(change.path.slice(0, change.path.lastIndexOf(`/${VERSIONS_DIR}/`)));
    if (!index) {
      mismatch(`${change.path} is in a folder without a valid ${INDEX_FILE}`);
      continue;
    }
    const problems: string[] = [];
    if (config && header.store !== config.storeId) problems.push(`store ${header.store}`);
    if (header.secret !== index.arn) problems.push(`secret ${header.secret}`);
    if (versionPath(index.name, header.version) !== change.path) problems.push(`version ${header.version}`);
    if (problems.length > 0) mismatch(`${change.path} is sealed for ${problems.join(', ')}, not for the place it is in`);
  }
  for (const [dir, index] of indexes) {
    const files = new Set(input.touched.get(dir)?.versionFiles ?? []);
    for (const label of Object.keys(index.labels).sort()) {
      const id = index.labels[label]!;
      if ((index.placeholders && id in index.placeholders) || files.has(versionPath(index.name, id))) continue;
      findings.push({ Rule: 'label-on-missing-version', Path: `${dir}/${INDEX_FILE}`, Message: `${index.name}: ${label} is on version ${id}, which has no sealed file` });
    }
  }
}

/**
 * What is wrong with the commits themselves: hand commits, identities, changes without a signature.
 * A signature trailer here is only seen, not checked: `secretstore verify` authenticates the history.
 */
function commitFindings(input: ReviewInput, findings: Finding[]): void {
  for (const c of input.commits) {
    const inStore = c.changes.some((ch) => ch.inStore);
    // A merge's own resolution is judged by the findings at HEAD and by verify; its message is git's.
    if (c.parents.length < 2 && inStore && !madeBySecretstore(c.message, input.commands)) {
      const subject = c.message.split('\n', 1)[0] ?? '';
      findings.push({ Rule: 'hand-commit', Commit: c.commit, Message: `${short(c.commit)} (${c.author}, "${subject}") was not made by secretstore` });
    }
    if (c.parents.length < 2 && inStore && findSignature(c.message) === undefined) {
      findings.push({ Rule: 'unsigned-change', Commit: c.commit, Message: `${short(c.commit)} changes the store without a writer's signature (readers refuse it; secretstore verify says more)` });
    }
    for (const ch of c.changes) {
      if (ch.newText !== undefined && IDENTITY_MARK.test(ch.newText)) {
        findings.push({ Rule: 'identity-file', Commit: c.commit, Path: ch.path, Message: `${ch.path} holds what looks like a secretstore identity (a secret key), added in ${short(c.commit)}` });
      }
    }
  }
}

export function review(input: ReviewInput): Review {
  const findings: Finding[] = [];
  const summary = summarise(input.net, findings);
  const configBefore = configOf(input.configBefore, []);
  const configAfter = configOf(input.configAfter, findings);
  headFindings(input, configAfter, findings);
  commitFindings(input, findings);
  return {
    Range: input.range,
    Base: input.base,
    Head: input.head,
    MergeBase: input.mergeBase,
    Commits: input.commits.length,
    ...summary,
    Recipients: accessChanges(configBefore?.recipients ?? [], configAfter?.recipients ?? [], (r) => r.publicKey),
    Writers: accessChanges(configBefore?.writers ?? [], configAfter?.writers ?? [], (w) => w.writerKey),
    Policy: policyChanges(configBefore, configAfter),
    Findings: findings,
  };
}
