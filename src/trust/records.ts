/**
 * What one clone remembers about trust, under `<git common dir>/secretstore-trust/<store>/` (git never
 * tracks it, and every worktree of the clone shares it):
 *
 *   root                 "<commit> <writer key | -> <pinned | tofu>": where authentication starts
 *   ok/<xx>/<rest>       one empty file per authenticated commit: a read of an unchanged store is a stat
 *                        (hard links to ok/anchor where the file system has them: see markFile)
 *   heads/<branch>       the newest authenticated commit read or written on that branch (never backwards):
 *                        its last whole line (lines are appended; see replaceHead)
 *
 * Keyed by immutable commit ids: a mark never goes stale. Only the root and the head records change: the
 * root by temp file + rename, a head record by appending a line (rewritten by temp file + rename when full).
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { StoreLocation } from '../model/repository.js';

export interface TrustRoot {
  readonly commit: string;
  /** The writer key that must have signed the root; undefined: any unscoped writer of its own configuration. */
  readonly key?: string;
  /** Pinned by the user (out of band), or trusted on first use. */
  readonly how: 'pinned' | 'tofu';
}

/** The git directory shared by every worktree of the clone. */
export function commonDir(gitDir: string): string {
  let dir = commonDirs.get(gitDir);
  if (dir === undefined) {
    const file = join(gitDir, 'commondir');
    dir = existsSync(file) ? resolve(gitDir, readFileSync(file, 'utf8').trim()) : gitDir;
    commonDirs.set(gitDir, dir);
  }
  return dir;
}

/** A git directory's common directory never changes (a long-lived client asks per request). */
const commonDirs = new Map<string, string>();

/** The branch HEAD is on (`main`, `feature/x`), or undefined when it is detached (bisect, a checkout of a commit). */
export function currentBranch(gitDir: string): string | undefined {
  try {
    const m = /^ref: refs\/heads\/(.+)$/m.exec(readFileSync(join(gitDir, 'HEAD'), 'utf8'));
    return m?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/**
 * What HEAD points at, as file-system facts: HEAD's text and the stat data of its branch's loose ref
 * and of packed-refs. git moves a ref by writing a lock file and renaming it (a new inode and ctime), so
 * an unchanged stamp means an unchanged HEAD; a long-lived client then skips asking git.
 */
export function headStamp(gitDir: string): string | undefined {
  try {
    const head = headText(gitDir);
    const common = commonDir(gitDir);
    const ref = /^ref: (refs\/heads\/.+)$/m.exec(head)?.[1]?.trim();
    // packed-refs matters only while the branch has no loose ref (a loose ref wins; a detached HEAD names its commit).
    const loose = ref ? stat(join(common, ref)) : '';
    return [head, loose, loose === '-' ? stat(join(common, 'packed-refs')) : ''].join('|');
  } catch {
    return undefined;
  }
}

const headTexts = new Map<string, { stat: string; text: string }>();

/** HEAD's text, read again only when HEAD's own stamp moved (git rewrites it by rename, too). */
function headText(gitDir: string): string {
  const headFile = join(gitDir, 'HEAD');
  const headStat = stat(headFile);
  let seen = headTexts.get(gitDir);
  if (seen?.stat !== headStat) headTexts.set(gitDir, (seen = { stat: headStat, text: readFileSync(headFile, 'utf8') }));
  return seen.text;
}

/**
 * The commit HEAD names, read from the files git keeps it in when that is plain: a detached HEAD's id, or
 * the id in its branch's loose ref (git replaces a ref file whole, by rename). undefined when git must say
 * (a packed ref, a symbolic ref further on, another ref store): then ask `git cat-file`.
 */
export function headFromFiles(gitDir: string): string | undefined {
  try {
    const head = headText(gitDir);
    const ref = /^ref: (refs\/heads\/\S+)\s*$/.exec(head)?.[1];
    const text = ref ? readFileSync(join(commonDir(gitDir), ref), 'utf8') : head;
    return /^([0-9a-f]{40}|[0-9a-f]{64})\n?$/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

function stat(file: string): string {
  // Times in milliseconds with their sub-millisecond fraction (what bigint stats give costs a read more).
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : '-';
}

export class TrustRecords {
  readonly dir: string;
  /** Directories this object made or found (a put marks a commit and moves a head: no mkdir each time). */
  private readonly dirs = new Set<string>();
  /** Branches this object saw listed in heads.index (the index only grows). */
  private readonly listed = new Set<string>();
  /** Whether marks are made as links (until the file system refuses one). */
  private links = true;

  constructor(loc: Pick<StoreLocation, 'gitDir' | 'prefix'>) {
    const store = createHash('sha256').update(loc.prefix).digest('hex').slice(0, 16);
    this.dir = join(commonDir(loc.gitDir), 'secretstore-trust', store);
  }

  private markPath(commit: string): string {
    return join(this.dir, 'ok', commit.slice(0, 2), commit.slice(2));
  }

  isMarked(commit: string): boolean {
    return existsSync(this.markPath(commit));
  }

  /** Marks commits authenticated. A failure to write only costs the next read a walk. */
  mark(commits: Iterable<string>): void {
    for (const commit of commits) {
      try {
        this.markFile(this.markPath(commit));
      } catch {
        return;
      }
    }
  }

  /**
   * A mark is an empty file, made as a hard link to one empty file (`ok/anchor`) where the file system
   * allows: a link adds a name only, where a new file costs an inode too (most of a put's record
   * keeping). Readers see an empty file either way. An anchor at the file system's link limit is
   * replaced by a fresh one (the marks keep the old); without hard links, marks are new empty files.
   */
  private markFile(file: string): void {
    const anchor = join(this.dir, 'ok', 'anchor');
    for (let attempt = 0; this.links && attempt < 2; attempt++) {
      try {
        linkSync(anchor, file);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return;
        if (code === 'ENOENT') {
          // the anchor or the mark's folder is missing (a first mark, or the records were removed)
          if (!existsSync(anchor)) {
            this.forget();
            this.writeFile(anchor, '');
          }
          this.ensureDir(dirname(file));
        } else if (code === 'EMLINK') {
          rmSync(anchor, { force: true });
          this.writeFile(anchor, '');
        } else {
          this.links = false;
        }
      }
    }
    this.writeFile(file, '');
  }

  /** The records were removed under this client: forget what it knew of them. */
  private forget(): void {
    this.dirs.clear();
    this.listed.clear();
  }

  private ensureDir(dir: string): void {
    if (this.dirs.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.dirs.add(dir);
  }

  /** Writes `file`, making its directory only when this object has not seen it (or it went away since). */
  private writeFile(file: string, text: string): void {
    const dir = dirname(file);
    if (this.dirs.has(dir)) {
      try {
        writeFileSync(file, text);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.forget();
      }
    }
    this.ensureDir(dir);
    writeFileSync(file, text);
  }

  root(): TrustRoot | undefined {
    const line = this.read('root');
    const [commit, key, how] = line?.trim().split(' ') ?? [];
    if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
    return { commit, ...(key && key !== '-' ? { key } : {}), how: how === 'pinned' ? 'pinned' : 'tofu' };
  }

  setRoot(root: TrustRoot): void {
    this.write('root', `${root.commit} ${root.key ?? '-'} ${root.how}\n`);
  }

  head(branch: string): string | undefined {
    return lastCommitLine(this.read(this.headFile(branch)));
  }

  setHead(branch: string, commit: string): void {
    // Every read of an unchanged HEAD asks this: it writes nothing.
    if (this.head(branch) === commit) return;
    this.replaceHead(branch, commit);
  }

  /**
   * As setHead, for a commit the record is known not to hold (one this clone just made, or one checked
   * against it). The line is appended to the record, which costs no new file and no rename (a put's
   * costliest file operations on a busy disk); a record of HEAD_RECORD_BYTES or more is rewritten whole
   * (temp file + rename) with the new line alone, as is one whose last line a crash cut short. Appends
   * (O_APPEND, one write each) do not interleave, and a cut line is skipped by head() (lastCommitLine),
   * so a record is never read as a commit nobody recorded: at worst as the one before.
   */
  replaceHead(branch: string, commit: string): void {
    const rel = this.headFile(branch);
    if (!this.append(join(this.dir, rel), `${commit}\n`)) this.write(rel, `${commit}\n`);
    this.list(branch);
  }

  /** Appends `line` to an existing record below HEAD_RECORD_BYTES; false when it did not (missing, full, unwritable). */
  private append(file: string, line: string): boolean {
    let fd: number;
    try {
      // O_APPEND: concurrent appends each land whole after the others; no O_CREAT: a first record is made by rename
      fd = openSync(file, constants.O_RDWR | constants.O_APPEND);
    } catch {
      return false;
    }
    try {
      const { size } = fstatSync(fd);
      if (size >= HEAD_RECORD_BYTES) return false;
      // A record whose last line was cut short (a crash mid-append) is rewritten whole instead: appended
      // after a line break, the cut line would become whole, and could read as an id (of another length).
      const last = Buffer.alloc(1);
      if (size === 0 || readSync(fd, last, 0, 1, size - 1) !== 1 || last[0] !== 0x0a) return false;
      writeSync(fd, line);
      return true;
    } catch {
      return false;
    } finally {
      closeSync(fd);
    }
  }

  /** Every branch record, for `secretstore trust`. */
  heads(): { branch: string; commit: string }[] {
    const text = this.read('heads.index') ?? '';
    return [...new Set(text.split('\n').filter(Boolean))].flatMap((branch) => {
      const commit = this.head(branch);
      return commit ? [{ branch, commit }] : [];
    });
  }

  /** Branch names become file names by hex, so `a/b` and `..` need no escaping rules. */
  private headFile(branch: string): string {
    return join('heads', Buffer.from(branch).toString('hex'));
  }

  private read(rel: string): string | undefined {
    try {
      return readFileSync(join(this.dir, rel), 'utf8');
    } catch {
      return undefined;
    }
  }

  private write(rel: string, text: string): void {
    const file = join(this.dir, rel);
    const temp = `${file}.${process.pid}.tmp`;
    this.writeFile(temp, text);
    renameSync(temp, file);
  }

  /** Lists `branch` in heads.index (for `secretstore trust`), once. */
  private list(branch: string): void {
    if (this.listed.has(branch)) return;
    const index = this.read('heads.index') ?? '';
    if (!index.split('\n').includes(branch)) writeFileSync(join(this.dir, 'heads.index'), `${index}${branch}\n`);
    this.listed.add(branch);
  }
}

/** A head record is rewritten whole once it reaches this size (about a hundred appended lines). */
const HEAD_RECORD_BYTES = 4096;

/**
 * The newest commit of a head record: its last whole line (ended by a line break) that is a commit id.
 * A record of one line (every record before appends, and each rewritten one) is read as it always was.
 */
export function lastCommitLine(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let end = text.lastIndexOf('\n');
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end);
    if (/^[0-9a-f]{40,64}$/.test(line)) return line;
    end = start - 1;
  }
  return undefined;
}
