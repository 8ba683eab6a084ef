/** `secretstore log`: the events of the store's history (core/history.ts) over a git range. */
import { INDEX_FILE, indexPath, SECRETS_DIR } from '../core/layout.js';
import { indexEvents, type HistoryEvent } from '../core/history.js';
import { readSignedIndex, type Signed } from '../core/signed-text.js';
import { checkSigned, splitSigned } from '../core/signature.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';
import { InvalidParameterException } from '../errors.js';
import { GitCommandError, openGit } from './git.js';
import { readCommits, readTexts } from './history.js';
import type { StoreLocation } from './types.js';
import { verifyWriter } from './trust.js';

/**
 * The configuration whose writers name the authors: this clone's trusted one; undefined (commit authors
 * only) when it is not trusted or cannot be read, since log is also for looking at a damaged store.
 */
async function trustedConfig(loc: StoreLocation): Promise<StoreConfig | undefined> {
  const { readTrustedConfig } = await import('./config-trust.js');
  return readTrustedConfig(loc, {}).catch(() => undefined);
}

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
  const read = (blob: string | undefined, file: string, commit: string): Signed<SecretIndex> | undefined | null => {
    if (blob === undefined) return undefined;
    try {
      return readSignedIndex(texts.get(blob) ?? '', file);
    } catch (err) {
      skipped.push(`${commit.slice(0, 12)} ${file}: ${(err as Error).message}`);
      return null;
    }
  };
  const config = await trustedConfig(loc);
  // A change's author is the writer whose signature on it holds (a block can name anyone), else the commit's.
  const signedBy = (blob: string | undefined, file: string, name: string): string | undefined => {
    if (config === undefined || blob === undefined) return undefined;
    const verdict = checkSigned(splitSigned(texts.get(blob) ?? ''), { storeId: config.storeId, path: file, name }, config.writers, verifyWriter);
    return verdict.ok ? verdict.writer.name : undefined;
  };
  const events: HistoryEvent[] = [];
  // git lists commits newest first; the events of one commit stay in the order they happened.
  const ordered = opts.reverse ? [...changes].reverse() : changes;
  for (const { c, ch } of ordered) {
    const file = ch.path.slice(loc.prefix.length);
    const before = read(ch.oldBlob, file, c.commit);
    const after = read(ch.newBlob, file, c.commit);
    if (before === null || after === null) continue;
    const author = (after && signedBy(ch.newBlob, file, after.value.name)) ?? c.author;
    let found = indexEvents({ commit: c.commit, date: c.date, author }, before?.value, after?.value);
    if (wanted?.arn !== undefined) found = found.filter((e) => e.Arn === wanted.arn);
    else if (wanted) found = found.filter((e) => e.Secret === wanted.name);
    events.push(...found);
  }
  return { Events: events, Skipped: skipped };
}
