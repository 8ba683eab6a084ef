/**
 * Store history from git: one `git log --raw -z` for the commits and the blobs they changed, one
 * `git cat-file --batch` for the texts. The computations on those texts are pure (core/history.ts,
 * core/review.ts); this module only fetches.
 */
import { InvalidParameterException } from '../errors.js';
import { readBlobs, type Git } from './client.js';

const ZERO = /^0+$/;

export interface RawChange {
  /** A, M, D, T... as `git log --raw` prints it. */
  readonly status: string;
  /** Path relative to the repository top level. */
  readonly path: string;
  readonly oldBlob?: string;
  readonly newBlob?: string;
  /** The new file mode (`120000` is a symlink, `160000` a submodule). */
  readonly newMode: string;
}

export interface RawCommit {
  readonly commit: string;
  readonly parents: readonly string[];
  readonly author: string;
  readonly authorEmail: string;
  /** Author date, ISO-8601 UTC. */
  readonly date: string;
  readonly message: string;
  readonly changes: readonly RawChange[];
}

/** A revision or range from the command line: never an option in disguise. */
export function checkRevision(rev: string): string {
  if (rev === '' || rev.startsWith('-') || /[\s\0]/.test(rev)) throw new InvalidParameterException(`not a revision or range: ${JSON.stringify(rev)}`);
  return rev;
}

/**
 * Commits of `revs` that touch `paths` (repository-relative), newest first, each with its raw changes
 * against its first parent. Merge commits are listed without changes: the commits they join carry them.
 */
export async function readCommits(git: Git, revs: readonly string[], paths: readonly string[]): Promise<RawCommit[]> {
  const out = await git.run([
    'log', '-z', '--raw', '--no-renames', '--no-abbrev', '--no-color', '--no-ext-diff',
    '--format=%x01%H%x00%P%x00%an%x00%ae%x00%aI%x00%B',
    ...revs.map(checkRevision), '--', ...paths,
  ]);
  const commits: RawCommit[] = [];
  for (const chunk of out.split('\x01')) {
    if (chunk === '') continue;
    const [commit, parents, author, authorEmail, date, message, ...rest] = chunk.split('\0');
    const changes = parseRaw(rest);
    commits.push({
      commit: commit!,
      parents: parents ? parents.split(' ') : [],
      author: author!,
      authorEmail: authorEmail!,
      date: new Date(date!).toISOString(),
      message: message!.replace(/\n$/, ''),
      changes,
    });
  }
  return commits;
}

/** `--raw -z` entries: a `:modes ids status` token, then the path, each NUL-terminated. */
function parseRaw(tokens: readonly string[]): RawChange[] {
  const changes: RawChange[] = [];
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const meta = tokens[i]!.replace(/^\n/, '');
    if (!meta.startsWith(':')) {
      i -= 1; // an empty token (the end of a commit without changes): realign on the next one
      continue;
    }
    const [, newMode, oldBlob, newBlob, status] = meta.slice(1).split(' ');
    changes.push({
      status: status!.charAt(0),
      path: tokens[i + 1]!,
      newMode: newMode!,
      ...(ZERO.test(oldBlob!) ? {} : { oldBlob: oldBlob! }),
      ...(ZERO.test(newBlob!) ? {} : { newBlob: newBlob! }),
    });
  }
  return changes;
}

/** `git diff --raw` between two commits: the net change, limited to `paths`. */
export async function readDiff(git: Git, from: string, to: string, paths: readonly string[]): Promise<RawChange[]> {
  const out = await git.run(['diff', '-z', '--raw', '--no-renames', '--no-abbrev', '--no-color', '--no-ext-diff', from, to, '--', ...paths]);
  return parseRaw(out.split('\0'));
}

/** The texts of blobs, by id (UTF-8; a sealed file or index is always text). */
export async function readTexts(git: Git, ids: readonly (string | undefined)[], env?: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const blobs = await readBlobs(git.repoRoot, ids.filter((id): id is string => id !== undefined), env);
  return new Map([...blobs].map(([id, bytes]) => [id, bytes.toString('utf8')]));
}

/** `git rev-parse --verify` of one revision, to a commit id. */
export async function resolveCommit(git: Git, rev: string): Promise<string> {
  try {
    return (await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${checkRevision(rev)}^{commit}`])).trim();
  } catch {
    throw new InvalidParameterException(`unknown revision ${rev}`);
  }
}
