/**
 * The git merge driver for label indexes (`merge=secretstore` in .gitattributes): plain `git pull`,
 * `git merge` and `git rebase` get the same semantic merge as `secretstore sync` (core/merge.ts).
 * Git calls it with three temporary files (%O base, %A ours, %B theirs) and the path (%P); it writes
 * the result over %A and exits 0, or leaves standard conflict markers in %A, explains in one line on
 * stderr and exits non-zero.
 *
 * The result is unsigned: an unsigned merge commit is accepted by readers exactly when its store is
 * secretstore's own merge of its parents (src/trust/store-merge.ts), which this driver's result is. It
 * never merges what does not authenticate: "theirs" must come from an incoming commit (MERGE_HEAD,
 * FETCH_HEAD, a commit being picked, a branch or remote-tracking head) that holds exactly %B at the path
 * and authenticates; otherwise it leaves conflict markers and says why (readers would refuse such a
 * merge anyway). It does not prune: pruning is a signed commit of its own (the post-merge hook). During
 * a rebase git swaps the sides: "ours" is the branch being rebased onto.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidParameterException, SecretsManagerError } from '../errors.js';
import { shortCommit } from '../core/authorise.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { describeContest, describeDecision, mergeSecretIndex, PREFERENCES, type MergeOutcome, type Preference } from '../core/merge.js';
import { Authenticator } from '../trust/authenticate.js';
import { GitCommandError, openGit } from '../git/client.js';
import { ObjectReader } from '../git/objects.js';
import type { StoreLocation } from '../model/repository.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

export interface MergeDriverArgs {
  readonly base: string;
  readonly ours: string;
  readonly theirs: string;
  /** The file's path in the repository (%P). */
  readonly path: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Lines for stderr and whether the merge succeeded. */
export interface MergeDriverResult {
  readonly ok: boolean;
  readonly notes: string[];
}

/** Pruning is a commit of its own (see above): a threshold no index reaches. */
const NEVER = Number.MAX_SAFE_INTEGER;

/** The preference for a driver run: $SECRETSTORE_PREFER, else `git config secretstore.prefer`. */
async function preference(loc: StoreLocation, env: NodeJS.ProcessEnv): Promise<Preference | undefined> {
  const git = openGit(loc.repoRoot, env);
  const value = env.SECRETSTORE_PREFER || (await git.run(['config', '--get', 'secretstore.prefer']).catch(() => '')).trim();
  if (value === '') return undefined;
  if (!PREFERENCES.includes(value as Preference)) {
    throw new InvalidParameterException(`secretstore.prefer / SECRETSTORE_PREFER must be one of ${PREFERENCES.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as Preference;
}

export async function runMergeDriver(loc: StoreLocation, a: MergeDriverArgs): Promise<MergeDriverResult> {
  const [baseText, oursText, theirsText] = await Promise.all([a.base, a.ours, a.theirs].map((f) => readFile(resolve(a.cwd, f), 'utf8')));
  const read = (text: string, side: string) => (text.trim() === '' ? undefined : parseSecretIndex(text, `${a.path} (${side})`));
  const objects = new ObjectReader(loc.repoRoot, a.env);
  let configText: string | undefined;
  try {
    // Anything that stops the check (no trust root, a damaged object) is a refusal too: a person decides.
    const refused = await incomingRefusal(loc, objects, a).catch((err: unknown) => (err instanceof Error ? err.message.split('\n')[0]! : String(err)));
    if (refused !== undefined) {
      await leaveMarkers(loc, a);
      return { ok: false, notes: [`secretstore: ${a.path}: refused to merge, left conflict markers: ${refused}`] };
    }
    configText = (await objects.read(`HEAD:${loc.prefix}${CONFIG_FILE}`))?.content.toString('utf8');
  } finally {
    objects.close();
  }
  if (configText === undefined) throw new InvalidParameterException(`HEAD has no ${loc.prefix}${CONFIG_FILE}`);
  const config = parseConfig(configText, CONFIG_FILE);
  const prefer = await preference(loc, a.env);
  let outcome: MergeOutcome;
  try {
    outcome = mergeSecretIndex(read(baseText!, 'base'), read(oursText!, 'ours'), read(theirsText!, 'theirs'), {
      now: new Date(),
      policy: { ...config.policy, pruneAbove: NEVER },
      ...(prefer ? { prefer } : {}),
    });
  } catch (err) {
    // A damaged side, or a merge that would break an invariant: a person decides, with git's markers.
    if (!(err instanceof SecretsManagerError)) throw err;
    await leaveMarkers(loc, a);
    return { ok: false, notes: [`secretstore: ${a.path}: left conflict markers: ${err.message}`] };
  }
  if (outcome.kind === 'contested') {
    await leaveMarkers(loc, a);
    const what = outcome.contests.map(describeContest).join('; ');
    return {
      ok: false,
      notes: [`secretstore: ${a.path}: contested, left conflict markers: ${what}; resolve them, or merge again with SECRETSTORE_PREFER=ours|theirs|newest`],
    };
  }
  const notes = outcome.decisions.map((d) => `secretstore: ${a.path}: ${describeDecision(d)}`);
  if (outcome.index === undefined) return { ok: false, notes: [...notes, `secretstore: ${a.path}: the merge deletes this secret; resolve with git rm`] };
  await writeFile(resolve(a.cwd, a.ours), serializeSecretIndex(outcome.index));
  return { ok: true, notes };
}

/**
 * Why "theirs" may not be merged, or undefined when an incoming commit that holds exactly %B at the path
 * authenticates. Candidates are what git may be merging from: MERGE_HEAD, the merge entries of
 * FETCH_HEAD (`git pull`), the commit a cherry-pick, revert or rebase is applying, and the heads of
 * branches and remote-tracking branches (`git merge origin/main`).
 */
async function incomingRefusal(loc: StoreLocation, objects: ObjectReader, a: MergeDriverArgs): Promise<string | undefined> {
  const git = openGit(loc.repoRoot, a.env);
  const blob = (await git.run(['hash-object', '--', resolve(a.cwd, a.theirs)])).trim();
  const file = (name: string) => readFile(join(loc.gitDir, name), 'utf8').catch(() => '');
  const ids = (text: string) => text.split('\n').flatMap((line) => /^[0-9a-f]{40,64}/.exec(line)?.[0] ?? []);
  const [mergeHead, fetchHead, picks, done, refs] = await Promise.all([
    file('MERGE_HEAD'),
    file('FETCH_HEAD'),
    Promise.all(['CHERRY_PICK_HEAD', 'REVERT_HEAD', 'REBASE_HEAD'].map(file)),
    file(join('rebase-merge', 'done')),
    git.run(['for-each-ref', '--format=%(objectname)', 'refs/heads', 'refs/remotes']).catch(() => ''),
  ]);
  const candidates = [
    ...ids(mergeHead),
    ...ids(fetchHead.split('\n').filter((l) => !l.includes('\tnot-for-merge\t')).join('\n')),
    ...picks.flatMap(ids),
    ...done.split('\n').flatMap((line) => /^\S+ ([0-9a-f]{7,64})\b/.exec(line)?.[1] ?? []),
    ...ids(refs),
  ];
  const holding: string[] = [];
  for (const c of [...new Set(candidates)]) {
    const obj = await objects.read(`${c}:${a.path}`);
    if (obj?.oid === blob) holding.push(c);
  }
  if (holding.length === 0) return 'no incoming commit (MERGE_HEAD, FETCH_HEAD, a branch head) holds this version of the file, so it cannot be authenticated';
  const trust = new Authenticator(loc, objects, a.env, () => undefined);
  try {
    // The trust root comes from our own history, never from what is being merged in.
    await trust.root('HEAD');
    let why = '';
    for (const c of holding) {
      const verdict = await trust.authenticate(c);
      if (verdict.ok) return undefined;
      why ||= `the incoming commit ${shortCommit(c)} does not authenticate: commit ${shortCommit(verdict.commit)} ${verdict.why}`;
    }
    return why;
  } finally {
    trust.close();
  }
}

/**
 * Standard markers in %A, as git's own merge would leave them, so every merge tool knows what to do.
 * When the lines happen to merge cleanly (the conflict is in meaning, not in lines), the whole file is
 * put between markers instead, so a person still has to decide.
 */
async function leaveMarkers(loc: StoreLocation, a: MergeDriverArgs): Promise<void> {
  const [ours, base, theirs] = [a.ours, a.base, a.theirs].map((f) => resolve(a.cwd, f)) as [string, string, string];
  const [oursText, theirsText] = await Promise.all([readFile(ours, 'utf8'), readFile(theirs, 'utf8')]);
  const conflicted = await openGit(loc.repoRoot, a.env)
    .run(['merge-file', '-L', 'ours', '-L', 'base', '-L', 'theirs', ours, base, theirs])
    .then(
      () => false,
      (err: unknown) => {
        if (err instanceof GitCommandError && (err.exitCode ?? 0) > 0) return true; // exit code = number of conflicts
        throw err;
      },
    );
  if (!conflicted) {
    const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
    await writeFile(ours, `<<<<<<< ours\n${line(oursText)}=======\n${line(theirsText)}>>>>>>> theirs\n`);
  }
}
