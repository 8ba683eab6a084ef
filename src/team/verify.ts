/**
 * `secretstore verify`: checks the store and its history and reports every problem found, as findings,
 * instead of stopping at the first (docs/trust.md):
 *
 * - history: every commit reachable from HEAD back to this clone's trust root is authenticated by the
 *   rules of src/trust/authenticate.ts; every refused commit is a finding (commit, why), another root
 *   commit that brings store content too. With `range` (`OLD..NEW`, a CI check or a `pre-receive` hook),
 *   only what NEW adds to an authenticated OLD;
 * - HEAD's committed store: every index parses, sits in its name's folder, its labels point at versions,
 *   its versions and sealed files agree; every sealed file opens for the current identity or, when that
 *   is not a recipient, its header is bound to its store, secret and version; nothing else is tracked
 *   under `secrets/` (a plaintext file there is a leak); no identity file is tracked anywhere; every
 *   rotation command's pinned files still hold their pinned content; the hooks are installed.
 *
 * A fixed number of git processes whatever the size of the store; authenticated commits and sealed files
 * that passed are remembered, so a second run checks only what changed.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { shortCommit } from '../core/authorise.js';
import { parseSecretIndex } from '../core/codec.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, VERSIONS_DIR, versionFileName } from '../core/layout.js';
import type { Identity } from '../crypto/types.js';
import { InvalidParameterException } from '../errors.js';
import type { SecretIndex } from '../model/store.js';
import type { Authenticator } from '../trust/authenticate.js';
import { GitCommandError, openGit } from '../git/client.js';
import { HOOK_MARK } from '../store/init.js';
import { noProgress, type ProgressFactory } from '../terminal/progress.js';
import type { SecretStore } from '../store/secret-store.js';
import { pinProblems } from '../store/rotation-pins.js';
import { loadCrypto } from '../crypto/load.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

export interface Finding {
  /** Store-relative path (repository-relative for files outside the store), or `commit <id>`. */
  readonly File: string;
  readonly Finding: string;
}

export interface VerifyReport {
  readonly Findings: Finding[];
  /** Commits whose authentication was checked in this run (remembered ones are not counted). */
  readonly Commits: number;
  readonly Secrets: number;
  /** Sealed files checked (those an index lists). */
  readonly SealedFiles: number;
  /** Sealed files decrypted with the current identity; the others had their header checked only. */
  readonly Opened: number;
}

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * The history findings: every commit of `target` from the trust root (or, with `since`, every commit
 * that `target` adds to `since`, which must be authenticated itself) that is refused.
 */
export async function verifyHistory(auth: Authenticator, target: string, since?: string): Promise<{ findings: Finding[]; commits: number }> {
  const findings: Finding[] = [];
  const git = openGit(auth.loc.repoRoot);
  const resolve = async (rev: string) => {
    try {
      return (await git.run(['rev-parse', '--verify', '-q', `${rev}^{commit}`])).trim();
    } catch {
      throw new InvalidParameterException(`unknown revision ${rev}`);
    }
  };
  const head = await resolve(target);
  let exclude: string[];
  if (since !== undefined && !/^0+$/.test(since)) {
    const base = await resolve(since);
    const verdict = await auth.authenticate(base);
    if (!verdict.ok) findings.push({ File: `commit ${shortCommit(verdict.commit)}`, Finding: `${verdict.why} (in the history of the range's base ${shortCommit(base)})` });
    exclude = [base];
  } else {
    const root = await auth.root(head);
    // From the root on: history before it is not authenticated (docs/trust.md), so it is not judged.
    exclude = (await git.run(['rev-parse', `${root.commit}^@`]).catch(() => '')).split('\n').filter(Boolean);
  }
  const judged = await auth.walk(head, exclude);
  for (const [commit, verdict] of judged) {
    if (!verdict.ok && verdict.commit === commit) findings.push({ File: `commit ${shortCommit(commit)}`, Finding: verdict.why });
  }
  return { findings, commits: judged.length };
}

const KEY_PATTERN = 'SECRETSTORE-(SECRET|SIGNING)-KEY-1[02-9ac-hj-np-z]{50}';

export async function verifyStore(store: SecretStore, progress: ProgressFactory = noProgress): Promise<VerifyReport> {
  const loc = store.location;
  const env = store.options.env ?? process.env;
  const git = openGit(loc.repoRoot, env);
  const commit = store.commitId;
  const config = store.config;
  const history = await verifyHistory(store.trust, commit);
  const findings: Finding[] = [...history.findings];
  const { currentBranch } = await import('../trust/records.js');
  const branch = currentBranch(loc.gitDir);
  const rewound = branch === undefined ? undefined : await store.trust.rewound(branch, commit);
  if (rewound !== undefined) findings.push({ File: `commit ${commit.slice(0, 12)}`, Finding: rewound });
  const find = (File: string, Finding: string) => findings.push({ File, Finding });
  const repoPath = (path: string) => `${loc.prefix}${path}`;
  const text = async (path: string) => (await store.objects.read(`${commit}:${repoPath(path)}`))?.content.toString('utf8');

  // What is committed: under secrets/, only indexes and sealed files; nowhere, an identity file.
  const tracked = (await git.run(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit, '--', repoPath(SECRETS_DIR)]))
    .split('\0')
    .filter(Boolean)
    .map((p) => p.slice(loc.prefix.length));
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
  for (const path of await grepCommitted(git, commit, KEY_PATTERN)) {
    find(path.startsWith(loc.prefix) ? path.slice(loc.prefix.length) : path, 'holds a secretstore secret key (an identity file is tracked: remove it from the repository and its history, and make new keys)');
  }
  const hook = await readFile(join(loc.gitDir, 'hooks', 'pre-commit'), 'utf8').catch(() => '');
  if (!hook.includes(HOOK_MARK)) find('.git/hooks/pre-commit', 'the secretstore hooks are not installed (secretstore install-hooks installs them)');

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
  const cacheFile = join(loc.gitDir, 'secretstore-cache', `verified-${sha256Hex(loc.prefix).slice(0, 16)}.json`);
  const passed = loadPassed(cacheFile);
  const next = new Map<string, 0 | 1>();
  let sealedFiles = 0;
  let opened = 0;
  const bar = progress('verify', indexes.length);
  try {
    for (const path of indexes.sort()) {
      bar.tick();
      const folder = path.slice(0, -INDEX_FILE.length - 1);
      const sealed = sealedIn.get(folder) ?? [];
      sealedIn.delete(folder);
      const indexText = await text(path);
      if (indexText === undefined) {
        find(path, 'is not a file');
        continue;
      }
      let index: SecretIndex;
      try {
        index = parseSecretIndex(indexText, path); // labels on missing versions, AWSCURRENT missing...
      } catch (err) {
        find(path, (err as Error).message.replace(`${path} `, ''));
        continue;
      }
      if (indexPath(index.name) !== path) {
        find(path, `names secret '${index.name}', which belongs in ${indexPath(index.name)}`);
        continue;
      }
      for (const { file, why } of await pinProblems(index, async (f) => (await store.objects.read(`${commit}:${f}`))?.content)) {
        // Named by the commit that last changed the file, as every other unauthorised change is.
        const last = (await git.run(['log', '-1', '--format=%H', commit, '--', file]).catch(() => '')).trim();
        if (last) find(`commit ${last.slice(0, 12)}`, `changed ${file}, which the rotation command of ${path} runs: ${why}`);
        else find(path, `its rotation command runs ${file}: ${why}`);
      }
      const present = new Set(sealed);
      for (const [id, created] of Object.entries(index.versions)) {
        void created;
        const file = `${folder}/${VERSIONS_DIR}/${versionFileName(id)}`;
        if (!present.delete(versionFileName(id))) {
          find(path, `lists version ${id}, which has no tracked sealed file`);
          continue;
        }
        const content = await text(file);
        if (content === undefined) {
          find(file, 'is not a file');
          continue;
        }
        const contentHash = sha256Hex(content);
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

  savePassed(cacheFile, next);
  return { Findings: findings, Commits: history.commits, Secrets: indexes.length, SealedFiles: sealedFiles, Opened: opened };
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

/** Files of `commit` (repository-relative) whose content matches `pattern`. */
async function grepCommitted(git: ReturnType<typeof openGit>, commit: string, pattern: string): Promise<string[]> {
  try {
    const prefix = `${commit}:`;
    return (await git.run(['grep', '-l', '-z', '-I', '-i', '-E', '-e', pattern, commit]))
      .split('\0')
      .filter(Boolean)
      .map((p) => (p.startsWith(prefix) ? p.slice(prefix.length) : p));
  } catch (err) {
    if (err instanceof GitCommandError && err.exitCode === 1) return []; // no match
    throw err;
  }
}

