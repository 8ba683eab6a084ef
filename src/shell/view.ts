/**
 * The store as operations see it, read lazily from the work tree: one secret's index (and the listing of
 * its versions folder, to check the two agree) per read, a sealed file only when a value is needed.
 * Cost per operation never grows with the number of secrets, except for the listing (list-secrets,
 * batch-get by filters, prune), which reads every index file through a summary cache (see below).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DecryptionFailure, InternalServiceError, InvalidRequestException } from '../errors.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex } from '../core/codec.js';
import type { SecretSummary } from '../core/filters.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, VERSIONS_DIR, versionFileName, versionPath, versionsDir } from '../core/layout.js';
import { locateStore } from './location.js';
import type { Progress, ProgressFactory } from './progress.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';
import type { SecretValue } from '../model/value.js';
import type { StoreView } from '../ops/context.js';
import type { Identity } from '../crypto/types.js';
import { checkSigned, sha256Hex, splitSigned, type Previous } from '../core/signature.js';
import { refuseSymlinks } from './symlinks.js';
import { refuseUntrusted, verifyWriter, type TrustOptions } from './trust.js';


export async function readConfig(root: string): Promise<StoreConfig> {
  return (await readConfigFile(root)).config;
}

/** `.secretstore.yaml` as read (its signature is checked on this text) and parsed, from one read. */
export async function readConfigFile(root: string): Promise<{ text: string; config: StoreConfig }> {
  const file = join(root, CONFIG_FILE);
  refuseSymlinks(root, [CONFIG_FILE]);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidRequestException(`${root} is not a secretstore (no ${CONFIG_FILE}); run secretstore init`);
    }
    throw err;
  }
  return { text, config: parseConfig(text, CONFIG_FILE) };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** How often `load` reads a secret whose index and versions folder disagree (about 50 ms in all). */
const READ_ATTEMPTS = 5;

export class WorkTreeView implements StoreView {
  private readonly cache = new Map<string, SecretIndex | undefined>();
  private identities?: Promise<readonly Identity[]>;
  private summaries?: Promise<SecretSummary[]>;
  /** Per secret read: the sealed-file hashes its verified signature lists (undefined: let through unsigned). */
  private readonly signedFiles = new Map<string, Readonly<Record<string, string>> | undefined>();

  constructor(
    readonly root: string,
    readonly config: StoreConfig,
    private readonly loadIdentities: () => Promise<readonly Identity[]>,
    /** Draws the cold listing's progress (see `listSummaries`); none by default. */
    private readonly progress?: ProgressFactory,
    /** Whether files without a trusted signature are refused (the default) or read with a warning. */
    private readonly trust: TrustOptions = {},
  ) {}

  async readSecret(name: string): Promise<SecretIndex | undefined> {
    if (!this.cache.has(name)) this.cache.set(name, await this.load(name));
    return this.cache.get(name);
  }

  /**
   * Reads run without the store lock, so one can straddle a writer's two renames (the sealed file, then
   * the index) and find a version file the index does not list yet, or the reverse after a prune. The
   * pair is read again a few times before the disagreement counts as damage.
   */
  private async load(name: string): Promise<SecretIndex | undefined> {
    const file = indexPath(name);
    refuseSymlinks(this.root, [file, versionsDir(name)]);
    for (let attempt = 1; ; attempt++) {
      const text = await readIfExists(join(this.root, file));
      if (text === undefined) return undefined;
      const index = parseSecretIndex(text, file);
      if (index.name !== name) throw new InternalServiceError(`${file} is damaged: it names secret '${index.name}'`);
      try {
        checkVersionFiles(index, file, await listDir(join(this.root, versionsDir(name))));
      } catch (err) {
        if (attempt >= READ_ATTEMPTS) throw err;
        await sleep(5 * attempt);
        continue;
      }
      // Outside the retries: the text was read whole (writers rename), so its signature is what it is.
      const signed = checkIndexSignature(this.config, this.trust, file, name, text);
      if (signed !== undefined) await this.checkReplay(name, file, text, signed.previous);
      this.signedFiles.set(name, signed?.files);
      return index;
    }
  }

  /** See src/shell/replay.ts: one small read when this clone has seen the state before. */
  private async checkReplay(name: string, file: string, text: string, previous: Previous): Promise<void> {
    const loc = locateStore({ store: this.root, cwd: this.root, env: {} });
    const { followsHistory } = await import('./replay.js');
    if (!(await followsHistory(loc, file, sha256Hex(splitSigned(text).unsigned), previous))) {
      refuseUntrusted(this.trust, `secret '${name}': ${file} is a signed state that does not follow the one it replaced (an older signed index restored: a replay?)`);
    }
  }

  async listSecretNames(): Promise<string[]> {
    return (await this.listSecretSummaries()).map((s) => s.name).sort();
  }

  listSecretSummaries(): Promise<SecretSummary[]> {
    // Synchronous on purpose: ~30,000 stat calls for 10,000 secrets cost 3-4 times more as promises.
    this.summaries ??= new Promise((resolve) => resolve(listSummaries(this.root, this.progress, { config: this.config, trust: this.trust })));
    return this.summaries;
  }

  async openVersion(index: SecretIndex, versionId: string): Promise<SecretValue> {
    const file = versionPath(index.name, versionId);
    refuseSymlinks(this.root, [file]);
    const [text, identities, crypto] = await Promise.all([
      readFile(join(this.root, file), 'utf8'),
      (this.identities ??= this.loadIdentities()),
      loadCrypto(),
      this.readSecret(index.name), // the signature's file hashes (a no-op when the operation read it already)
    ]);
    const signed = this.signedFiles.get(index.name);
    // Anyone with the public keys can seal a value for a known VersionId: the signed hash is what says it is the writer's.
    if (signed !== undefined && signed[versionId] !== sha256Hex(text)) {
      // DecryptionFailure, as for a sealed file that fails authentication: this one is not the writer's either.
      refuseUntrusted(this.trust, `secret '${index.name}': ${file} is not the sealed file its signed index lists (swapped or tampered)`, DecryptionFailure);
    }
    return crypto.openValue(text, { storeId: this.config.storeId, secretArn: index.arn, versionId }, identities, file);
  }
}

/**
 * The sealed-file hashes and `previous` of an index whose signature is valid and by a writer trusted for the secret;
 * undefined when it is not and the caller allows unsigned reads (otherwise InvalidRequestException).
 */
export function checkIndexSignature(
  config: StoreConfig,
  trust: TrustOptions,
  file: string,
  name: string,
  text: string,
): { files: Readonly<Record<string, string>>; previous: Previous } | undefined {
  const verdict = checkSigned(splitSigned(text), { storeId: config.storeId, path: file, name }, config.writers, verifyWriter);
  if (verdict.ok) return { files: verdict.block.files ?? {}, previous: verdict.block.previous };
  refuseUntrusted(trust, `secret '${name}': ${file} ${verdict.why}`);
  return undefined;
}

/** The index and the versions folder must agree: a file without an entry, or an entry without a file, is damage. */
export function checkVersionFiles(index: SecretIndex, file: string, names: readonly string[]): void {
  const expected = new Map(Object.keys(index.versions).map((id) => [versionFileName(id), id]));
  for (const name of names) {
    if (!expected.delete(name)) throw new InternalServiceError(`${file} is damaged: version file ${name} has no entry in the index`);
  }
  for (const id of expected.values()) {
    throw new InternalServiceError(`${file} is damaged: version ${id} has no sealed file`);
  }
}

/** libsodium costs ~40 ms to start; only operations that seal or open a value pay for it. */
export async function loadCrypto(): Promise<typeof import('../crypto/index.js')> {
  const crypto = await import('../crypto/index.js');
  await crypto.cryptoReady();
  return crypto;
}

/*
 * The listing and its summary cache.
 *
 * Listing walks `secrets/` (skipping `versions/` folders: a name part `versions` is always encoded, so such
 * a folder is never a secret) and parses every `secret.yaml`. Parsing is what costs (~0.13 ms a file with
 * the YAML library: 1.3 s for 10,000 secrets), then the walk (~0.2 s); so both are remembered in
 * `<git dir>/secretstore-cache/summaries-<store>.json`, which git never tracks:
 *
 * - each index file's summary, kept while the file's (size, mtime, ctime, inode) stay the same: any write
 *   changes ctime (which, unlike mtime, cannot be set back by hand), a rename or checkout the inode;
 * - each folder's subfolders and whether it holds a `secret.yaml`, kept while the folder's (mtime, ctime,
 *   inode) stay the same: creating, deleting or renaming an entry in a folder changes them.
 *
 * So a warm listing costs one stat per folder and per index file plus reading the cache. A file or folder
 * whose ctime is less than RACY_MS before the listing started is used but not remembered: a second change
 * within the same timestamp tick could leave its stamp unchanged (git's "racily clean" problem); once it
 * is older than that, any later change necessarily moves its ctime.
 *
 * The cache is an optimisation only: a missing, unreadable, damaged, foreign-format or stale cache file is
 * ignored and rewritten; deleting it changes no result. Entries are checked one by one, so two processes
 * writing it at once (each by temp file + rename) cannot make each other wrong. A damaged index file is
 * never remembered (the listing fails naming it, as every read does). `SECRETSTORE_NO_CACHE=1` neither
 * reads nor writes the cache (to measure it, or to rule it out).
 */

/** Bump when the cache layout or the summary's shape changes. */
const CACHE_FORMAT = 'secretstore.summaries/1';
/** Longer than the coarsest timestamp tick of common file systems (FAT: 2 s) plus clock skew. */
const RACY_MS = 3000;

/** A folder: [mtimeMs, ctimeMs, ino, holds secret.yaml (0/1), ...subfolder names]. */
type DirEntry = [number, number, number, number, ...string[]];
/** An index file: [size, mtimeMs, ctimeMs, ino, summary]. */
type FileEntry = [number, number, number, number, SecretSummary];
interface CacheData {
  dirs: Record<string, DirEntry>;
  files: Record<string, FileEntry>;
}

/**
 * Summaries stay valid only for the code that made them. Rather than a version number someone must
 * remember to bump, the fingerprint is what this code makes of a probe index holding every field, and
 * where it files a name: an upgrade that reads an index differently (another default, another
 * normalisation, another layout) starts from an empty cache. The same for the CLI bundle and the library.
 * A new optional field needs nothing: an older parser refuses a file that has it, so never cached it.
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
      probe = JSON.stringify(parseSecretIndex(PROBE_INDEX, 'probe'));
    } catch (err) {
      probe = `refused: ${(err as Error).message}`;
    }
    fingerprint = createHash('sha256').update(`${CACHE_FORMAT}\n${probe}\n${indexPath('Probe/Name_1')}`).digest('base64url').slice(0, 22);
  }
  return fingerprint;
}

function cacheFile(root: string): string | undefined {
  if (process.env.SECRETSTORE_NO_CACHE) return undefined;
  try {
    const loc = locateStore({ store: root, cwd: root, env: {} });
    const id = createHash('sha256').update(loc.prefix).digest('hex').slice(0, 16);
    return join(loc.gitDir, 'secretstore-cache', `summaries-${id}.json`);
  } catch {
    return undefined;
  }
}

function loadCache(file: string | undefined, trustKey: string): CacheData {
  const empty: CacheData = { dirs: {}, files: {} };
  if (file === undefined) return empty;
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; codec?: unknown; trust?: unknown } & Partial<CacheData>;
    if (data.format !== CACHE_FORMAT || data.codec !== codecFingerprint() || data.trust !== trustKey) return empty;
    const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    // Entries are checked one by one as they are used (see dirEntry / fileEntry).
    return { dirs: isMap(data.dirs) ? data.dirs! : {}, files: isMap(data.files) ? data.files! : {} };
  } catch {
    return empty; // missing, unreadable or damaged: start afresh
  }
}

function saveCache(file: string, trustKey: string, data: CacheData): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, JSON.stringify({ format: CACHE_FORMAT, codec: codecFingerprint(), trust: trustKey, ...data }));
    renameSync(temp, file);
  } catch {
    // A read-only or full disk only costs the next listing its speed.
    try {
      unlinkSync(temp);
    } catch {
      // nothing to clean up
    }
  }
}

/** The cached entry when it is well-formed and its stamp is this one. */
function dirEntry(cached: unknown, st: Stats): DirEntry | undefined {
  if (!Array.isArray(cached) || cached.length < 4) return undefined;
  if (cached[0] !== st.mtimeMs || cached[1] !== st.ctimeMs || cached[2] !== st.ino || (cached[3] !== 0 && cached[3] !== 1)) return undefined;
  for (let i = 4; i < cached.length; i++) if (typeof cached[i] !== 'string') return undefined;
  return cached as DirEntry;
}

function fileEntry(cached: unknown, st: Stats): FileEntry | undefined {
  if (!Array.isArray(cached) || cached.length !== 5) return undefined;
  if (cached[0] !== st.size || cached[1] !== st.mtimeMs || cached[2] !== st.ctimeMs || cached[3] !== st.ino) return undefined;
  const summary = cached[4] as SecretSummary | null;
  return typeof summary === 'object' && summary !== null && typeof summary.name === 'string' ? (cached as FileEntry) : undefined;
}

function summaryOf(text: string, file: string): SecretSummary {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { versions, placeholders, ...summary } = parseSecretIndex(text, file);
  // A secret.yaml copied into another secret's folder would list one secret twice.
  if (indexPath(summary.name) !== file) throw new InternalServiceError(`${file} is damaged: it names secret '${summary.name}'`);
  return summary;
}

/** `read()`, or undefined when what it reads was deleted meanwhile (a secret purged by a concurrent writer). */
function gone<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Every secret's summary, in no particular order: the folder walk and the parsing, through the cache.
 * `progress` counts the index files parsed (cache misses): a warm listing never starts a progress line.
 */
export function listSummaries(root: string, progress?: ProgressFactory, signed?: SignedListing): SecretSummary[] {
  let bar: Progress | undefined;
  try {
    return walkSummaries(root, () => (bar ??= progress?.('reading secret indexes', undefined))?.tick(), signed);
  } finally {
    bar?.done();
  }
}

/**
 * Each index parsed is also checked for a trusted signature; only verified summaries are remembered, and
 * the cache is keyed by who is trusted (store id and writers), so a change of writers starts it afresh.
 */
export interface SignedListing {
  readonly config: StoreConfig;
  readonly trust: TrustOptions;
}

function walkSummaries(root: string, parsed: () => void, signed?: SignedListing): SecretSummary[] {
  const started = Date.now();
  const file = cacheFile(root);
  const trustKey = signed === undefined ? 'unchecked' : sha256Hex(JSON.stringify([signed.config.storeId, signed.config.writers]));
  const old = loadCache(file, trustKey);
  const next: CacheData = { dirs: {}, files: {} };
  const trusted = (st: Stats) => st.ctimeMs < started - RACY_MS;
  const base = `${root}/${SECRETS_DIR}`;
  let hits = 0;
  let changed = false;
  const out: SecretSummary[] = [];

  // Paths are joined by hand: path.join costs more than the stat it feeds (root is absolute already).
  const visit = (rel: string, abs: string, st: Stats): void => {
    let dir = dirEntry(old.dirs[rel], st);
    if (dir) {
      hits++;
    } else {
      dir = [st.mtimeMs, st.ctimeMs, st.ino, 0];
      const entries = gone(() => readdirSync(abs, { withFileTypes: true }));
      if (entries === undefined) return;
      for (const d of entries) {
        if (d.isDirectory() && d.name !== VERSIONS_DIR) dir.push(d.name);
        else if (d.name === INDEX_FILE && d.isFile()) dir[3] = 1;
      }
      changed ||= trusted(st);
    }
    if (trusted(st)) next.dirs[rel] = dir;

    if (dir[3] === 1) {
      const relFile = rel === '' ? INDEX_FILE : `${rel}/${INDEX_FILE}`;
      const fst = statSync(`${abs}/${INDEX_FILE}`, { throwIfNoEntry: false });
      if (fst !== undefined) {
        let entry = fileEntry(old.files[relFile], fst);
        if (entry) {
          hits++;
        } else {
          const path = `${SECRETS_DIR}/${relFile}`;
          const text = gone(() => readFileSync(`${root}/${path}`, 'utf8'));
          let verified = true;
          if (text !== undefined) {
            const summary = summaryOf(text, path);
            if (signed !== undefined) verified = checkIndexSignature(signed.config, signed.trust, path, summary.name, text) !== undefined;
            entry = [fst.size, fst.mtimeMs, fst.ctimeMs, fst.ino, summary];
          }
          parsed();
          changed ||= trusted(fst) && verified;
          if (!verified) {
            out.push(entry![4]); // let through by --allow-unsigned (with a warning), never remembered
            entry = undefined;
          }
        }
        if (entry !== undefined) {
          if (trusted(fst)) next.files[relFile] = entry;
          out.push(entry[4]);
        }
      }
    }
    for (let i = 4; i < dir.length; i++) {
      const name = dir[i] as string;
      const subAbs = `${abs}/${name}`;
      const sst = statSync(subAbs, { throwIfNoEntry: false });
      if (sst?.isDirectory()) visit(rel === '' ? name : `${rel}/${name}`, subAbs, sst);
    }
  };

  const rootStat = statSync(base, { throwIfNoEntry: false });
  if (rootStat?.isDirectory()) visit('', base, rootStat);
  // Rewrite only when something worth remembering changed, or something remembered is gone.
  if (file !== undefined && (changed || hits !== Object.keys(old.dirs).length + Object.keys(old.files).length)) saveCache(file, trustKey, next);
  return out;
}
