/**
 * `secretstore review BASE..HEAD`: gathers what core/review.ts needs with a fixed number of git calls
 * (rev-parse, merge-base, one log, one diff, one ls-tree, one cat-file --batch), whatever the length of
 * the range or the size of the store.
 */
import { CONFIG_FILE } from '../core/codec.js';
import { INDEX_FILE, SEALED_EXT, SECRETS_DIR, VERSIONS_DIR } from '../core/layout.js';
import { review, type NetChange, type Review, type ReviewCommit } from '../core/review.js';
import { readEnvelopeHeader } from '../crypto/envelope.js';
import { InvalidParameterException } from '../errors.js';
import { operations } from '../ops/table.js';
import { openGit } from '../git/client.js';
import { readCommits, readDiff, readTexts, resolveCommit } from '../git/history.js';
import type { StoreLocation } from '../model/repository.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

/** Commit subjects of the commands that are not AWS operations (`init: ...`, `prune: ...`). */
const STORE_COMMANDS = ['init', 'prune', 'purge', 'sync', 'merge', 'rotate-due', 'rollback'];

/** `A..B` or `A...B` (either side may be empty: HEAD), as git spells a range. */
export function splitRange(range: string): { base: string; head: string } {
  const m = /^(.*?)\.\.\.?(.*)$/.exec(range);
  if (!m) throw new InvalidParameterException(`review takes a range BASE..HEAD (e.g. main..feature), not ${JSON.stringify(range)}`);
  return { base: m[1] || 'HEAD', head: m[2] || 'HEAD' };
}

export async function reviewRange(loc: StoreLocation, env: NodeJS.ProcessEnv, range: string): Promise<Review> {
  const git = openGit(loc.repoRoot, env);
  const { base, head } = splitRange(range);
  const [baseId, headId] = await Promise.all([resolveCommit(git, base), resolveCommit(git, head)]);
  let mergeBase: string;
  try {
    mergeBase = (await git.run(['merge-base', baseId, headId])).trim();
  } catch {
    throw new InvalidParameterException(`${base} and ${head} have no common history`);
  }
  const storePaths = loc.prefix ? [loc.prefix] : [];
  const inStore = (p: string) => p.startsWith(loc.prefix);
  const rel = (p: string) => (inStore(p) ? p.slice(loc.prefix.length) : p);
  const isIndex = (p: string) => p.startsWith(`${SECRETS_DIR}/`) && p.endsWith(`/${INDEX_FILE}`);
  const isSealed = (p: string) => p.startsWith(`${SECRETS_DIR}/`) && p.endsWith(SEALED_EXT);

  const [commits, net] = await Promise.all([readCommits(git, [`${baseId}..${headId}`], []), readDiff(git, mergeBase, headId, storePaths)]);
  const storeNet = net.filter((c) => inStore(c.path));
  // Every secret folder with a net change: its index and version files at HEAD are checked.
  const secretDir = (p: string) =>
    isIndex(p) ? p.slice(0, -INDEX_FILE.length - 1) : p.includes(`/${VERSIONS_DIR}/`) ? p.slice(0, p.lastIndexOf(`/${VERSIONS_DIR}/`)) : undefined;
  const touchedDirs = [...new Set(storeNet.map((c) => secretDir(rel(c.path))).filter((d): d is string => d !== undefined))];
  const listing =
    touchedDirs.length === 0 ? '' : await git.run(['ls-tree', '-r', '-z', '--name-only', headId, '--', ...touchedDirs.map((d) => `${loc.prefix}${d}/${VERSIONS_DIR}`)]);
  const headIndex = (dir: string) => `${headId}:${loc.prefix}${dir}/${INDEX_FILE}`;

  const blob = (id: string | undefined, mode: string) => (mode === '160000' ? undefined : id);
  const configBefore = `${mergeBase}:${loc.prefix}${CONFIG_FILE}`;
  const configAfter = `${headId}:${loc.prefix}${CONFIG_FILE}`;
  const texts = await readTexts(
    git,
    [
      configBefore,
      configAfter,
      ...touchedDirs.map(headIndex),
      ...commits.flatMap((c) => c.changes.flatMap((ch) => [blob(ch.newBlob, ch.newMode), isIndex(rel(ch.path)) || (inStore(ch.path) && rel(ch.path) === CONFIG_FILE) ? ch.oldBlob : undefined])),
      ...storeNet.flatMap((c) => (isIndex(rel(c.path)) || isSealed(rel(c.path)) ? [c.oldBlob, blob(c.newBlob, c.newMode)] : [])),
    ],
    env,
  );
  const text = (id: string | undefined) => (id === undefined ? {} : texts.has(id) ? { text: texts.get(id)! } : {});

  const reviewCommits: ReviewCommit[] = commits.reverse().map((c) => ({
    commit: c.commit,
    parents: c.parents,
    author: c.author,
    message: c.message,
    changes: c.changes.map((ch) => ({
      status: ch.status,
      path: rel(ch.path),
      inStore: inStore(ch.path),
      ...(ch.oldBlob && texts.has(ch.oldBlob) ? { oldText: texts.get(ch.oldBlob)! } : {}),
      ...(ch.newBlob && texts.has(ch.newBlob) ? { newText: texts.get(ch.newBlob)! } : {}),
    })),
  }));
  const netChanges: NetChange[] = storeNet.map((c) => ({
    path: rel(c.path),
    ...(c.newBlob === undefined ? {} : { mode: c.newMode }),
    ...(text(c.oldBlob).text === undefined ? {} : { before: text(c.oldBlob).text! }),
    ...(c.newBlob === undefined ? {} : { after: text(c.newBlob).text ?? '' }),
  }));
  const files = listing.split('\0').filter(Boolean).map(rel);
  const touched = new Map(
    touchedDirs.map((dir) => [
      dir,
      { ...(texts.has(headIndex(dir)) ? { index: texts.get(headIndex(dir))! } : {}), versionFiles: files.filter((f) => f.startsWith(`${dir}/${VERSIONS_DIR}/`)) },
    ]),
  );
  return review({
    range,
    base: baseId,
    head: headId,
    mergeBase,
    commits: reviewCommits,
    net: netChanges,
    ...(texts.has(configBefore) ? { configBefore: texts.get(configBefore)! } : {}),
    ...(texts.has(configAfter) ? { configAfter: texts.get(configAfter)! } : {}),
    touched,
    commands: [...Object.values(operations).map((op) => op.command), ...STORE_COMMANDS],
    readHeader: readEnvelopeHeader,
  });
}
