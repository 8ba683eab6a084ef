/**
 * The git merge driver for label indexes (`merge=secretstore` in .gitattributes): plain `git pull`,
 * `git merge` and `git rebase` get the same semantic merge as `secretstore sync` (core/merge.ts).
 * Git calls it with three temporary files (%O base, %A ours, %B theirs) and the path (%P); it writes
 * the result over %A and exits 0, or leaves standard conflict markers in %A, explains in one line on
 * stderr and exits non-zero.
 *
 * It does not prune: git merges the version files itself, and a pruned version's file would be left
 * behind. The pre-merge-commit hook prunes (and validates) the merge before it is committed, with the
 * same function sync uses, so both give the same index. During a rebase git swaps the sides: "ours" is
 * the branch being rebased onto.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidParameterException, SecretsManagerError } from '../errors.js';
import { serializeSecretIndex, parseSecretIndex } from '../core/codec.js';
import { describeContest, describeDecision, mergeSecretIndex, PREFERENCES, type MergeOutcome, type Preference } from '../core/merge.js';
import { GitCommandError, openGit } from './git.js';
import { signWhenKeyed } from './signing.js';
import type { StoreLocation } from './types.js';
import { readConfig } from './view.js';
import { optionalSigner } from './writer-key.js';

export interface MergeDriverArgs {
  readonly base: string;
  readonly ours: string;
  readonly theirs: string;
  /** The file's path in the repository (%P). */
  readonly path: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly identity?: string;
}

/** Lines for stderr and whether the merge succeeded. */
export interface MergeDriverResult {
  readonly ok: boolean;
  readonly notes: string[];
}

/** Pruning is the pre-merge-commit hook's job here (see above): a threshold no index reaches. */
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
  const config = await readConfig(loc.root);
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
  const storePath = a.path.startsWith(loc.prefix) ? a.path.slice(loc.prefix.length) : a.path;
  const { signer, why } = await optionalSigner(a.identity, a.env);
  if (signer === undefined) notes.push(`secretstore: ${a.path}: merged index left unsigned (${why ?? 'no signing key'})`);
  const [change] = await signWhenKeyed({ location: loc, config, signer }, [{ path: storePath, content: serializeSecretIndex(outcome.index) }]);
  if (change === undefined || !('content' in change)) throw new InvalidParameterException(`signing dropped ${storePath}`);
  await writeFile(resolve(a.cwd, a.ours), change.content);
  return { ok: true, notes };
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
