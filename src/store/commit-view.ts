/**
 * The store as operations see it: the committed content of one authenticated commit, read through a
 * long-lived `git cat-file --batch` (src/git/objects.ts). Uncommitted edits are never read, so what a
 * read returns is exactly what trusted writers made (src/trust/authenticate.ts decided that before the
 * view was made), and a writer's half-done work tree is never seen.
 *
 * Cost per read is independent of the number of secrets, versions and commits: one tree object (the
 * secret's folder), its index blob, and for a value one sealed blob. Parsed indexes are kept by blob id,
 * so a long-lived client (agent, serve) parses an unchanged index once. The listing (list-secrets, prune)
 * is the only whole-store read; it is remembered by the id of the `secrets` tree (see `listSummaries`).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InternalServiceError, InvalidRequestException } from '../errors.js';
import { parseSecretIndex, parseSecretIndexAsync, parseSecretIndexFast, takeWrittenIndexes } from '../core/codec.js';
import { objectId } from '../git/object-id.js';
import { treeEntry } from '../git/tree-entries.js';
import { yamlReady } from '../core/yaml-value.js';
import type { SecretSummary } from '../core/filters.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, secretDir, versionFileName, versionPath, versionsDir } from '../core/layout.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';
import type { SecretValue } from '../model/value.js';
import type { StoreView } from '../ops/context.js';
import type { Identity } from '../crypto/types.js';
import type { ObjectReader } from '../git/objects.js';
import type { Progress, ProgressFactory } from '../terminal/progress.js';
import type { StoreLocation } from '../model/repository.js';
import { loadCrypto } from '../crypto/load.js';

/** Parsed indexes by blob id, shared by every view of the process (a blob's content never changes). */
const parsedIndexes = new Map<string, SecretIndex>();
const MAX_PARSED = 50_000;

function remember(oid: string, index: SecretIndex): void {
  if (parsedIndexes.size >= MAX_PARSED) parsedIndexes.clear();
  parsedIndexes.set(oid, index);
}

const SYMLINK_MODE = '120000';

export class CommitView implements StoreView {
  private readonly cache = new Map<string, SecretIndex | undefined>();
  private identities?: Promise<readonly Identity[]>;
  private summaries?: Promise<SecretSummary[]>;

  constructor(
    readonly loc: StoreLocation,
    /** The authenticated commit every read of this view is made at; undefined: nothing committed yet. */
    readonly commit: string | undefined,
    readonly config: StoreConfig,
    private readonly objects: ObjectReader,
    private readonly loadIdentities: () => Promise<readonly Identity[]>,
    private readonly progress?: ProgressFactory,
  ) {}

  get root(): string {
    return this.loc.root;
  }

  private spec(path: string): string {
    return `${this.commit}:${this.loc.prefix}${path}`;
  }

  async readSecret(name: string): Promise<SecretIndex | undefined> {
    if (!this.cache.has(name)) this.cache.set(name, await this.load(name));
    return this.cache.get(name);
  }

  private async load(name: string): Promise<SecretIndex | undefined> {
    if (this.commit === undefined) return undefined;
    const folder = secretDir(name);
    const tree = await this.objects.read(this.spec(folder));
    if (tree === undefined || tree.type !== 'tree') return undefined;
    const entry = treeEntry(tree.content, INDEX_FILE, tree.oid.length / 2);
    if (entry === undefined) return undefined;
    const file = indexPath(name);
    if (entry.mode === SYMLINK_MODE) throw new InvalidRequestException(linkRefusal(file, 'the index file'));
    if (entry.mode.startsWith('40')) throw new InternalServiceError(`${file} is damaged: it is a folder`);
    let index = parsedIndexes.get(entry.oid);
    if (index === undefined) {
      // An index this process wrote (a put reads the one the previous put wrote) needs no read nor parse.
      for (const [text, written] of takeWrittenIndexes()) remember(objectId('blob', Buffer.from(text), entry.oid.length), written);
      index = parsedIndexes.get(entry.oid);
    }
    if (index === undefined) {
      const blob = await this.objects.read(entry.oid);
      if (blob === undefined) throw new InternalServiceError(`${file} is missing from the git object store (a damaged clone: git fsck)`);
      index = await parseSecretIndexAsync(blob.content.toString('utf8'), file);
      remember(entry.oid, index);
    }
    if (index.name !== name) throw new InternalServiceError(`${file} is damaged: it names secret '${index.name}'`);
    return index;
  }

  async listSecretNames(): Promise<string[]> {
    return (await this.listSecretSummaries()).map((s) => s.name).sort();
  }

  listSecretSummaries(): Promise<SecretSummary[]> {
    this.summaries ??= this.commit === undefined ? Promise.resolve([]) : listSummaries(this.loc, this.commit, this.objects, this.progress);
    return this.summaries;
  }

  async readSealedText(index: SecretIndex, versionId: string): Promise<string> {
    const file = versionPath(index.name, versionId);
    // A link's blob is its target path: look at the entry's mode in the versions tree, never at the blob alone.
    const folder = this.commit === undefined ? undefined : await this.objects.read(this.spec(versionsDir(index.name)));
    const entry = folder?.type === 'tree' ? treeEntry(folder.content, versionFileName(versionId), folder.oid.length / 2) : undefined;
    if (folder?.type === 'blob') throw new InvalidRequestException(linkRefusal(versionsDir(index.name), 'the versions folder'));
    if (entry?.mode === SYMLINK_MODE) throw new InvalidRequestException(linkRefusal(file, 'the sealed file'));
    const blob = entry === undefined ? undefined : await this.objects.read(entry.oid);
    if (blob === undefined || blob.type !== 'blob') throw new InternalServiceError(`${indexPath(index.name)} is damaged: version ${versionId} has no sealed file`);
    return blob.content.toString('utf8');
  }

  async openVersion(index: SecretIndex, versionId: string): Promise<SecretValue> {
    const [text, identities, crypto] = await Promise.all([this.readSealedText(index, versionId), (this.identities ??= this.loadIdentities()), loadCrypto()]);
    await yamlReady(text); // a sealed file the fast reader declines (edited by hand) is read by the yaml package
    return crypto.openValue(text, { storeId: this.config.storeId, secretArn: index.arn, versionId }, identities, versionPath(index.name, versionId));
  }
}

/** The one line a store path that is a symbolic link in a committed tree is refused with (issue 13.3). */
export function linkRefusal(file: string, what: string): string {
  return `${file} is a symbolic link in the committed store; secretstore never follows links: replace it with ${what}`;
}

/** Refuses `name` of the committed tree `treeSpec` when it is a symbolic link (mode 120000). */
export async function refuseLinkEntry(objects: ObjectReader, treeSpec: string, name: string, file: string, what: string): Promise<void> {
  const tree = await objects.read(treeSpec);
  if (tree?.type !== 'tree') return;
  if (treeEntry(tree.content, name, tree.oid.length / 2)?.mode === SYMLINK_MODE) throw new InvalidRequestException(linkRefusal(file, what));
}

/*
 * The listing and its cache.
 *
 * Every `secret.yaml` of the commit's `secrets` tree (one `git ls-tree -r`), each parsed once per blob id.
 * `<git dir>/secretstore-cache/listing-<store>.json` remembers the `secrets` tree id and, per index path,
 * the blob id and its summary: an unchanged store lists from that file alone; a changed one re-reads only
 * the indexes whose blob changed. Blob and tree ids never change meaning, so the cache cannot go stale;
 * it is keyed by what this code makes of a probe index (codecFingerprint), so an upgrade that reads an
 * index differently starts afresh. A missing or damaged cache is ignored and rewritten.
 * `SECRETSTORE_NO_CACHE=1` neither reads nor writes it.
 */
const LISTING_FORMAT = 'secretstore.listing/1';

interface ListingCache {
  readonly tree: string;
  /** index path (relative to secrets/) -> [blob id, summary] */
  readonly files: Record<string, [string, SecretSummary]>;
}

function listingFile(loc: StoreLocation): string {
  const id = createHash('sha256').update(loc.prefix).digest('hex').slice(0, 16);
  return join(loc.gitDir, 'secretstore-cache', `listing-${id}.json`);
}

function loadListing(file: string): ListingCache | undefined {
  if (process.env.SECRETSTORE_NO_CACHE) return undefined;
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; codec?: unknown } & Partial<ListingCache>;
    if (data.format !== LISTING_FORMAT || data.codec !== codecFingerprint() || typeof data.tree !== 'string' || typeof data.files !== 'object' || data.files === null) return undefined;
    // Every entry is [blob id, summary]: one that is not (a damaged file) makes the whole cache ignored.
    const wellFormed = (e: unknown) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'object' && e[1] !== null && typeof (e[1] as { name?: unknown }).name === 'string';
    if (!Object.values(data.files).every(wellFormed)) return undefined;
    return { tree: data.tree, files: data.files };
  } catch {
    return undefined;
  }
}

function saveListing(file: string, cache: ListingCache): void {
  if (process.env.SECRETSTORE_NO_CACHE) return;
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, JSON.stringify({ format: LISTING_FORMAT, codec: codecFingerprint(), ...cache }));
    renameSync(temp, file);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // nothing to clean up
    }
  }
}

async function listSummaries(loc: StoreLocation, commit: string, objects: ObjectReader, progress?: ProgressFactory): Promise<SecretSummary[]> {
  const tree = await objects.read(`${commit}:${loc.prefix}${SECRETS_DIR}`);
  if (tree === undefined || tree.type !== 'tree') return [];
  const file = listingFile(loc);
  const old = loadListing(file);
  if (old?.tree === tree.oid) return Object.values(old.files).map(([, s]) => s);
  const { listTree, streamObjects } = await import('../git/object-stream.js');
  const files: Record<string, [string, SecretSummary]> = {};
  const missing: { path: string; oid: string }[] = [];
  for (const { path, mode, oid } of await listTree(loc.repoRoot, objects.source, tree.oid)) {
    if (!path.endsWith(`/${INDEX_FILE}`) && path !== INDEX_FILE) continue;
    if (path.includes('/versions/')) continue;
    if (mode === SYMLINK_MODE) throw new InvalidRequestException(linkRefusal(`${SECRETS_DIR}/${path}`, 'the index file'));
    const cached = old?.files[path];
    if (cached && cached[0] === oid) files[path] = cached;
    else missing.push({ path, oid });
  }
  const bar: Progress | undefined = missing.length > 500 ? progress?.('reading secret indexes', missing.length) : undefined;
  // Parsed as git streams them; a text the fast reader declines (edited by hand) is read after, by the yaml package.
  const declined: { path: string; oid: string; text: string }[] = [];
  await streamObjects(loc.repoRoot, objects.source, missing.map((m) => m.oid), (i, content) => {
    const { path, oid } = missing[i]!;
    const store = `${SECRETS_DIR}/${path}`;
    if (content === undefined) throw new InternalServiceError(`${store} is missing from the git object store (a damaged clone: git fsck)`);
    const text = content.toString('utf8');
    const index = parseSecretIndexFast(text, store);
    if (index === undefined) declined.push({ path, oid, text });
    else files[path] = [oid, summaryOf(index, store)];
    bar?.tick();
  });
  for (const { path, oid, text } of declined) files[path] = [oid, summaryOf(await parseSecretIndexAsync(text, `${SECRETS_DIR}/${path}`), `${SECRETS_DIR}/${path}`)];
  bar?.done();
  saveListing(file, { tree: tree.oid, files });
  return Object.values(files).map(([, s]) => s);
}

function summaryOf(index: SecretIndex, file: string): SecretSummary {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { versions, placeholders, ...summary } = index;
  // A secret.yaml copied into another secret's folder would list one secret twice.
  if (indexPath(summary.name) !== file) throw new InternalServiceError(`${file} is damaged: it names secret '${summary.name}'`);
  return summary;
}

/**
 * Summaries stay valid only for the code that made them: the fingerprint is what this code makes of a
 * probe index holding every field, and where it files a name.
 */
const PROBE_INDEX = `name: Probe/Name_1
arn: arn:aws:secretsmanager:us-east-1:000000000000:secret:Probe/Name_1-AbC123
description: probe
kmsKeyId: alias/probe
createdDate: 2020-01-01T00:00:00Z
lastChangedDate: 2020-01-02T00:00:00.5+01:00
deletedDate: 2020-01-03T00:00:00.000Z
tags:
  - Key: k
    Value: v
rotation:
  enabled: true
  lambdaArn: ./rotate.sh
  rules:
    AutomaticallyAfterDays: 30
  lastRotatedDate: 2020-01-01T00:00:00.000Z
  nextRotationDate: 2020-01-31T00:00:00.000Z
labels:
  AWSCURRENT: 11111111-0000-4000-8000-000000000001
  AWSPENDING: 11111111-0000-4000-8000-000000000002
versions:
  11111111-0000-4000-8000-000000000001: 2020-01-01T00:00:00.000Z
placeholders:
  11111111-0000-4000-8000-000000000002: 2020-01-01T00:00:00.000Z
`;
let fingerprint: string | undefined;
function codecFingerprint(): string {
  if (fingerprint === undefined) {
    let probe: string;
    try {
      // our own encoder's form: the fast reader takes it, so this never needs the yaml package
      probe = JSON.stringify(parseSecretIndex(PROBE_INDEX, 'probe'));
    } catch (err) {
      probe = `refused: ${(err as Error).message}`;
    }
    fingerprint = createHash('sha256').update(`${LISTING_FORMAT}\n${probe}\n${indexPath('Probe/Name_1')}`).digest('base64url').slice(0, 22);
  }
  return fingerprint;
}
