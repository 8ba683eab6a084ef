/**
 * `secretstore verify` (issue #4, item 5): checks the whole store and reports every problem found, as
 * findings, instead of stopping at the first:
 *
 * - the history of `.secretstore.yaml` from its first commit: the first configuration signed by a writer
 *   it names, each later one by an unscoped writer of the one before, chained by `previous`;
 * - every index: parses, sits in its name's folder, its labels point at versions, its versions and sealed
 *   files agree, its latest change is signed by a writer trusted for the secret, and its `previous` is the
 *   state it replaced (an old signed index restored in a new commit is a replay);
 * - every sealed file: its hash is the one signed; it opens for the current identity or, when that is not
 *   a recipient (or there is none), it parses and its header is bound to its store, secret and version;
 * - nothing else is tracked under `secrets/` (a plaintext file there is a leak), no identity file
 *   (`SECRETSTORE-SECRET-KEY-1...`, `SECRETSTORE-SIGNING-KEY-1...`) is tracked anywhere in the repository;
 * - the pre-commit hook is installed.
 *
 * It reads the work tree (what reads see) and git: a fixed number of git processes, whatever the size of
 * the store (ls-files, grep, two logs, two cat-file batches).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CONFIG_FILE, parseConfig, parseSecretIndex } from '../core/codec.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, VERSIONS_DIR, versionFileName } from '../core/layout.js';
import { checkSigned, sha256Hex, splitSigned, trustedWriter, type SignatureBlock, type Verdict } from '../core/signature.js';
import type { Identity } from '../crypto/types.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';
import { GitCommandError, openGit, readTexts } from './git.js';
import { HOOK_MARK } from './init.js';
import { noProgress, type ProgressFactory } from './progress.js';
import type { SecretStore } from './store.js';
import { chainsTo, shallowCommits } from './replay.js';
import { verifyWriter } from './trust.js';
import { loadCrypto } from './view.js';

export interface Finding {
  /** Store-relative path (repository-relative for files outside the store). */
  readonly File: string;
  readonly Finding: string;
}

export interface VerifyReport {
  readonly Findings: Finding[];
  readonly Secrets: number;
  /** Sealed files checked (those an index lists). */
  readonly SealedFiles: number;
  /** Sealed files decrypted with the current identity; the others had their header checked only. */
  readonly Opened: number;
}

const KEY_PATTERN = 'SECRETSTORE-(SECRET|SIGNING)-KEY-1[02-9ac-hj-np-z]{50}';

export async function verifyStore(store: SecretStore, progress: ProgressFactory = noProgress): Promise<VerifyReport> {
  const loc = store.location;
  const env = store.options.env ?? process.env;
  const git = openGit(loc.repoRoot, env);
  const findings: Finding[] = [];
  const find = (File: string, Finding: string) => findings.push({ File, Finding });
  const repoPath = (path: string) => `${loc.prefix}${path}`;

  // The configuration and its history.
  const config = await verifyConfigHistory(store, find);
  if (config === undefined) return { Findings: findings, Secrets: 0, SealedFiles: 0, Opened: 0 };

  // What is tracked: under secrets/, only indexes and sealed files; nowhere, an identity file.
  const tracked = (await git.run(['ls-files', '-z', '--', repoPath(SECRETS_DIR)])).split('\0').filter(Boolean).map((p) => p.slice(loc.prefix.length));
  const indexes: string[] = [];
  const sealedIn = new Map<string, string[]>(); // secret folder -> sealed file names
  for (const path of tracked) {
    const marker = path.lastIndexOf(`/${VERSIONS_DIR}/`);
    if (path.endsWith(`/${INDEX_FILE}`)) indexes.push(path);
    else if (marker > 0 && path.endsWith('.sealed') && !path.slice(marker + VERSIONS_DIR.length + 2).includes('/')) {
      const folder = path.slice(0, marker);
      sealedIn.set(folder, [...(sealedIn.get(folder) ?? []), path.slice(marker + VERSIONS_DIR.length + 2)]);
    } else find(path, `is tracked under ${SECRETS_DIR}/ but is neither a ${INDEX_FILE} nor a ${VERSIONS_DIR}/*.sealed file (a plaintext secret?)`);
  }
  for (const path of await grepTracked(git, KEY_PATTERN)) {
    find(path.startsWith(loc.prefix) ? path.slice(loc.prefix.length) : path, 'holds a secretstore secret key (an identity file is tracked: remove it from the repository and its history, and make new keys)');
  }
  const hook = await readFile(join(loc.gitDir, 'hooks', 'pre-commit'), 'utf8').catch(() => '');
  if (!hook.includes(HOOK_MARK)) find('.git/hooks/pre-commit', 'the secretstore pre-commit hook is not installed (secretstore init installs it)');

  // Every index and sealed file.
  let identities: readonly Identity[] = [];
  try {
    identities = (await store.keys()).identities;
  } catch {
    // No identity here: every sealed file gets the header check.
  }
  const crypto = await loadCrypto();
  const mine = new Set(identities.map((i) => i.publicKey));
  // Sealed files that passed before, by content, binding and identity (see `passedCache`).
  const identityKey = [...mine].sort().join(' ');
  const writersKey = sha256Hex(JSON.stringify([config.storeId, config.writers]));
  const cacheFile = join(loc.gitDir, 'secretstore-cache', `verified-${sha256Hex(loc.prefix).slice(0, 16)}.json`);
  const passed = loadPassed(cacheFile);
  const next = new Map<string, 0 | 1>();
  const chained: { path: string; block: SignatureBlock }[] = [];
  let sealedFiles = 0;
  let opened = 0;
  const bar = progress('verify', indexes.length);
  try {
    for (const path of indexes.sort()) {
      bar.tick();
      const folder = path.slice(0, -INDEX_FILE.length - 1);
      const sealed = sealedIn.get(folder) ?? [];
      sealedIn.delete(folder);
      const text = readText(loc.root, path);
      if (text === undefined) {
        find(path, 'is tracked but missing from the work tree');
        continue;
      }
      let index: SecretIndex;
      try {
        index = parseSecretIndex(text, path); // labels on missing versions, AWSCURRENT missing...
      } catch (err) {
        find(path, (err as Error).message.replace(`${path} `, ''));
        continue;
      }
      if (indexPath(index.name) !== path) {
        find(path, `names secret '${index.name}', which belongs in ${indexPath(index.name)}`);
        continue;
      }
      // An index whose exact text passed under the same writers is not verified again (see `loadPassed`).
      const indexKey = sha256Hex(JSON.stringify([path, sha256Hex(text), writersKey]));
      const split = splitSigned(text);
      const writer = passed.has(indexKey) && split.block !== undefined ? trustedWriter(config.writers, split.block.key, index.name) : undefined;
      const verdict: Verdict =
        writer !== undefined && split.block !== undefined
          ? { ok: true, block: split.block, writer }
          : checkSigned(split, { storeId: config.storeId, path, name: index.name }, config.writers, verifyWriter);
      if (verdict.ok) next.set(indexKey, 0);
      if (verdict.ok) chained.push({ path, block: verdict.block });
      else find(path, verdict.why);
      const files = verdict.ok ? (verdict.block.files ?? {}) : undefined;
      const present = new Set(sealed);
      for (const [id, created] of Object.entries(index.versions)) {
        void created;
        const file = `${folder}/${VERSIONS_DIR}/${versionFileName(id)}`;
        if (!present.delete(versionFileName(id))) {
          find(path, `lists version ${id}, which has no tracked sealed file`);
          continue;
        }
        const content = readText(loc.root, file);
        if (content === undefined) {
          find(file, 'is tracked but missing from the work tree');
          continue;
        }
        const contentHash = sha256Hex(content);
        if (files !== undefined && files[id] !== contentHash) find(file, 'is not the sealed file its signed index lists (swapped or tampered)');
        sealedFiles++;
        const binding = { storeId: config.storeId, secretArn: index.arn, versionId: id };
        const key = sha256Hex(JSON.stringify([binding, contentHash, identityKey]));
        const known = passed.get(key);
        if (known !== undefined) {
          next.set(key, known);
          opened += known;
          continue;
        }
        try {
          const header = crypto.readEnvelopeHeader(content, file);
          if (header.recipients.some((r) => mine.has(r))) {
            const value = crypto.openValue(content, binding, identities, file);
            if (value.type === 'binary') value.bytes.fill(0);
            opened++;
            next.set(key, 1);
          } else {
            const wrong = (
              [
                ['store', header.store, binding.storeId],
                ['secret', header.secret, binding.secretArn],
                ['version', header.version, binding.versionId],
              ] as const
            ).find(([, found, expected]) => found !== expected);
            if (wrong) find(file, `its header names ${wrong[0]} ${wrong[1]}, not ${wrong[2]} (copied, moved or edited)`);
            else next.set(key, 0);
          }
        } catch (err) {
          find(file, (err as Error).message.replace(`${file} `, ''));
        }
      }
      for (const stray of present) find(`${folder}/${VERSIONS_DIR}/${stray}`, `has no entry in ${path}`);
    }
  } finally {
    bar.done();
  }
  for (const [folder, names] of sealedIn) for (const name of names) find(`${folder}/${VERSIONS_DIR}/${name}`, `has no ${INDEX_FILE} beside its versions folder`);

  for (const { path, why } of await replays(store, chained)) find(path, why);
  savePassed(cacheFile, next);
  return { Findings: findings, Secrets: indexes.length, SealedFiles: sealedFiles, Opened: opened };
}

/*
 * The passed-files cache: opening 10,000 sealed files and checking 10,000 signatures costs seconds, and a
 * pre-push hook runs verify on a store where little changed. A sealed file that passed (opened, 1; or header
 * bound, 0) is remembered by the sha256 of its content, its binding and the identities used; an index whose
 * signature held, by its path, the sha256 of its text and the writers it was checked against; in `<git dir>/secretstore-cache/verified-*.json`
 * (never tracked, written only by this clone); any change to one of them checks it again. Only files that
 * are still there are kept. Deleting the file changes no result.
 */
const PASSED_FORMAT = 'secretstore.verified/1';

function loadPassed(file: string): Map<string, 0 | 1> {
  if (process.env.SECRETSTORE_NO_CACHE) return new Map();
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; passed?: unknown };
    if (data.format !== PASSED_FORMAT || typeof data.passed !== 'object' || data.passed === null) return new Map();
    return new Map(Object.entries(data.passed as Record<string, unknown>).filter((e): e is [string, 0 | 1] => e[1] === 0 || e[1] === 1));
  } catch {
    return new Map();
  }
}

function savePassed(file: string, passed: ReadonlyMap<string, 0 | 1>): void {
  if (process.env.SECRETSTORE_NO_CACHE) return;
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, JSON.stringify({ format: PASSED_FORMAT, passed: Object.fromEntries(passed) }));
    renameSync(temp, file);
  } catch {
    // Only the next run's speed depends on it.
  }
}

function readText(root: string, path: string): string | undefined {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return undefined;
  }
}

/** Tracked files (repository-relative) whose content matches `pattern`. */
async function grepTracked(git: ReturnType<typeof openGit>, pattern: string): Promise<string[]> {
  try {
    return (await git.run(['grep', '--cached', '-l', '-z', '-I', '-i', '-E', '-e', pattern])).split('\0').filter(Boolean);
  } catch (err) {
    if (err instanceof GitCommandError && err.exitCode === 1) return []; // no match
    throw err;
  }
}

const hashOf = (text: string | undefined): string | null => (text === undefined ? null : sha256Hex(splitSigned(text).unsigned));

/**
 * The replay check: each signed index's `previous` must be the state it replaced, that is the file in the
 * parent(s) of the commit that last changed it (HEAD's, for an index changed in the work tree).
 */
async function replays(store: SecretStore, signed: readonly { path: string; block: SignatureBlock }[]): Promise<{ path: string; why: string }[]> {
  if (signed.length === 0) return [];
  const loc = store.location;
  const env = store.options.env ?? process.env;
  const git = openGit(loc.repoRoot, env);
  const base = `${loc.prefix}${SECRETS_DIR}`;
  const hasHead = await git.run(['rev-parse', '--verify', '-q', 'HEAD']).then(() => true, () => false);
  if (!hasHead) return [];
  const dirty = new Set((await git.run(['diff', '--name-only', '-z', '--no-renames', 'HEAD', '--', base])).split('\0').filter(Boolean));
  const last = new Map<string, string[]>(); // repo path -> parents of the commit that last changed it
  const shallow = shallowCommits(loc);
  const unknowable = new Set<string>(); // last changed by a shallow clone's boundary commit: no parent to compare with
  const log = await git.run(['log', '--format=%x01%H %P', '--name-only', '--no-renames', '-z', 'HEAD', '--', base]);
  for (const entry of log.split('\x01').slice(1)) {
    const [head, ...names] = entry.split(/[\n\0]/).filter(Boolean);
    const [commit, ...parents] = (head ?? '').split(' ').filter(Boolean);
    for (const name of names) {
      if (!name.endsWith(`/${INDEX_FILE}`) || last.has(name)) continue;
      last.set(name, parents);
      if (parents.length === 0 && commit !== undefined && shallow.has(commit)) unknowable.add(name);
    }
  }
  const specs: string[] = [];
  const wanted = signed.map(({ path }) => {
    const repo = `${loc.prefix}${path}`;
    const revs = dirty.has(repo) ? ['HEAD'] : (last.get(repo) ?? []);
    const at = specs.length;
    for (const rev of revs) specs.push(`${rev}:${repo}`);
    return { at, count: revs.length };
  });
  const blobs = await readTexts(loc.repoRoot, specs, env);
  const out: { path: string; why: string }[] = [];
  signed.forEach(({ path, block }, i) => {
    if (unknowable.has(`${loc.prefix}${path}`) && !dirty.has(`${loc.prefix}${path}`)) return; // see shallowCommits
    const { at, count } = wanted[i]!;
    const parents = count === 0 ? [null] : blobs.slice(at, at + count).map(hashOf);
    if (!chainsTo(block.previous, parents)) {
      out.push({ path, why: 'is a signed state that does not follow the one it replaced (an older signed index restored: a replay?)' });
    }
  });
  return out;
}

/**
 * Walks `.secretstore.yaml` from its first commit. Returns the configuration to check the store against
 * (the latest one whose change was trusted), or undefined when there is none.
 */
async function verifyConfigHistory(store: SecretStore, find: (file: string, what: string) => void): Promise<StoreConfig | undefined> {
  const loc = store.location;
  const env = store.options.env ?? process.env;
  const git = openGit(loc.repoRoot, env);
  const path = `${loc.prefix}${CONFIG_FILE}`;
  const commits = (await git.run(['log', '--reverse', '--format=%H', '--no-renames', '--', path]).catch(() => '')).split('\n').filter(Boolean);
  const texts = await readTexts(loc.repoRoot, commits.map((c) => `${c}:${path}`), env);
  const current = readText(loc.root, CONFIG_FILE);
  const versions = [...commits.map((c, i) => ({ at: `commit ${c.slice(0, 12)}`, text: texts[i] }))];
  if (current !== texts[texts.length - 1]) versions.push({ at: 'the work tree', text: current });
  let trusted: StoreConfig | undefined;
  let previousText: string | undefined;
  for (const [i, { at, text }] of versions.entries()) {
    const last = i === versions.length - 1;
    if (text === undefined) {
      find(CONFIG_FILE, `is deleted in ${at}`);
      continue;
    }
    let config: StoreConfig;
    try {
      config = parseConfig(text, CONFIG_FILE);
    } catch (err) {
      find(CONFIG_FILE, `in ${at}: ${(err as Error).message.replace(`${CONFIG_FILE} `, '')}`);
      continue;
    }
    if (trusted !== undefined && config.storeId !== trusted.storeId) find(CONFIG_FILE, `in ${at}: the storeId changed`);
    // The first configuration is its own root of trust; each later one answers to the one before.
    const verdict = checkSigned(splitSigned(text), { storeId: config.storeId, path: CONFIG_FILE, name: undefined }, (trusted ?? config).writers, verifyWriter);
    // A state no trusted writer signed is a finding while it is the current one; once a trusted writer
    // signs a later state on top of it (secretstore sign after a hand edit), that writer vouches for the result.
    if (!verdict.ok) {
      if (last) find(CONFIG_FILE, `in ${at}: ${verdict.why}`);
    } else if (!chainsTo(verdict.block.previous, [hashOf(previousText)])) find(CONFIG_FILE, `in ${at}: is a signed state that does not follow the one it replaced (a replay?)`);
    if (verdict.ok || trusted === undefined) trusted = config; // an untrusted change gives no new trust
    previousText = text;
  }
  if (current === undefined) {
    find(CONFIG_FILE, 'is missing: this is not a store');
    return undefined;
  }
  // Indexes answer to the last configuration whose change was signed by a trusted writer, so a writer
  // added by an untrusted change vouches for nothing.
  return trusted;
}
