/** `secretstore log`: the events of the store's history (core/history.ts) over a git range. */
import { INDEX_FILE, indexPath, SECRETS_DIR } from '../core/layout.js';
import { indexEvents, type HistoryEvent } from '../core/history.js';
import { parseSecretIndex } from '../core/codec.js';
import type { SecretIndex } from '../model/store.js';
import { InvalidParameterException } from '../errors.js';
import { GitCommandError, openGit } from '../git/client.js';
import { readCommits, readTexts } from '../git/history.js';
import type { StoreLocation } from '../model/repository.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

export interface LogOptions {
  /** A name, or a full or partial ARN (a full ARN keeps only that secret, not an older one of the same name). */
  readonly secretId?: string;
  /** A revision or range (`main..feature`); default HEAD. */
  readonly range?: string;
  /** Oldest first (default newest first, as `git log`). */
  readonly reverse?: boolean;
}

export interface LogResult {
  readonly Events: HistoryEvent[];
  /** Index texts in history that do not parse (a hand edit): skipped, and said on stderr. */
  readonly Skipped: string[];
}

const ARN = /^arn:aws:secretsmanager:[^:]*:[^:]*:secret:(.+)$/;
const SUFFIX = /-[A-Za-z0-9]{6}$/;

/** The secret name a SecretId stands for, and the exact ARN to keep when it is a full one. */
export function nameOfSecretId(secretId: string): { name: string; arn?: string } {
  const m = ARN.exec(secretId);
  if (!m) return { name: secretId };
  return SUFFIX.test(m[1]!) ? { name: m[1]!.slice(0, -7), arn: secretId } : { name: m[1]! };
}

export async function storeLog(loc: StoreLocation, env: NodeJS.ProcessEnv, opts: LogOptions = {}): Promise<LogResult> {
  const git = openGit(loc.repoRoot, env);
  const wanted = opts.secretId === undefined ? undefined : nameOfSecretId(opts.secretId);
  const path = loc.prefix + (wanted ? indexPath(wanted.name) : SECRETS_DIR);
  const range = opts.range ?? 'HEAD';
  const commits = await readCommits(git, [range], [path]).catch((err: unknown) => {
    if (err instanceof GitCommandError && /unknown revision|bad revision|ambiguous argument|invalid (?:object|revision)/i.test(err.stderr)) {
      throw new InvalidParameterException(`unknown revision or range ${range}`);
    }
    throw err;
  });
  const isIndex = (p: string) => p.startsWith(loc.prefix) && p.endsWith(`/${INDEX_FILE}`);
  const changes = commits.flatMap((c) => c.changes.filter((ch) => isIndex(ch.path)).map((ch) => ({ c, ch })));
  const texts = await readTexts(git, changes.flatMap(({ ch }) => [ch.oldBlob, ch.newBlob]), env);
  const skipped: string[] = [];
  const read = (blob: string | undefined, file: string, commit: string): SecretIndex | undefined | null => {
    if (blob === undefined) return undefined;
    try {
      return parseSecretIndex(texts.get(blob) ?? '', file);
    } catch (err) {
      skipped.push(`${commit.slice(0, 12)} ${file}: ${(err as Error).message}`);
      return null;
    }
  };
  // A change's author is the writer whose signature makes the commit authentic (a message can name anyone), else the commit's.
  const signers = await signerNames(loc, env, [...new Set(changes.map(({ c }) => c.commit))]);
  const events: HistoryEvent[] = [];
  // git lists commits newest first; the events of one commit stay in the order they happened.
  const ordered = opts.reverse ? [...changes].reverse() : changes;
  for (const { c, ch } of ordered) {
    const file = ch.path.slice(loc.prefix.length);
    const before = read(ch.oldBlob, file, c.commit);
    const after = read(ch.newBlob, file, c.commit);
    if (before === null || after === null) continue;
    const author = signers.get(c.commit) ?? c.author;
    let found = indexEvents({ commit: c.commit, date: c.date, author }, before, after);
    if (wanted?.arn !== undefined) found = found.filter((e) => e.Arn === wanted.arn);
    else if (wanted) found = found.filter((e) => e.Secret === wanted.name);
    events.push(...found);
  }
  return { Events: events, Skipped: skipped };
}

/** The writer who signed each commit, for the commits that authenticate; none when trust cannot be established. */
async function signerNames(loc: StoreLocation, env: NodeJS.ProcessEnv, commits: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (commits.length === 0) return names;
  const [{ ObjectReader }, { Authenticator }] = await Promise.all([import('../git/objects.js'), import('../trust/authenticate.js')]);
  const objects = new ObjectReader(loc.repoRoot, env);
  const auth = new Authenticator(loc, objects, env, () => undefined);
  try {
    for (const commit of commits) {
      const name = await auth.signerName(commit).catch(() => undefined);
      if (name !== undefined) names.set(commit, name);
    }
  } finally {
    auth.close();
    objects.close();
  }
  return names;
}
