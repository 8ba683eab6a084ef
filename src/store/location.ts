/**
 * Finding the store and its repository from the file system alone: spawning git just to learn where
 * `.git` is would cost more than the rest of a read.
 */
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import type { StoreLocation } from '../model/repository.js';

export interface LocateOptions {
  /** `--store`: wins over everything. */
  readonly store?: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** The store folder is `store`, else `$SECRETSTORE_DIR`, else the git top level of `cwd`. */
export function locateStore(opts: LocateOptions): StoreLocation {
  const chosen = opts.store || opts.env.SECRETSTORE_DIR || undefined;
  const start = canonical(resolve(opts.cwd, chosen ?? '.'));
  const repo = findRepo(start);
  if (!repo) {
    throw new InvalidRequestException(`${start} is not inside a git repository; run git init first`);
  }
  const root = chosen === undefined ? repo.repoRoot : start;
  const rel = relative(repo.repoRoot, root).split(sep).join('/');
  return { root, repoRoot: repo.repoRoot, gitDir: repo.gitDir, prefix: rel ? `${rel}/` : '' };
}

/**
 * realpath of the deepest folder that exists, plus the rest: `init` may name a store folder that
 * is not there yet, and a symlink must not make the store look like part of the wrong repository.
 */
function canonical(path: string): string {
  const missing: string[] = [];
  let dir = path;
  for (;;) {
    try {
      return join(realpathSync(dir), ...missing.reverse());
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return path;
      missing.push(basename(dir));
      dir = parent;
    }
  }
}

function findRepo(start: string): { repoRoot: string; gitDir: string } | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const gitDir = gitDirAt(dir);
    if (gitDir) return { repoRoot: dir, gitDir };
    if (dirname(dir) === dir) return undefined;
  }
}

/** What `<dir>/.git` stands for: the folder itself, or where a worktree's or submodule's `.git` file points. */
function gitDirAt(dir: string): string | undefined {
  const dotGit = join(dir, '.git');
  let stat;
  try {
    stat = lstatSync(dotGit);
  } catch {
    return undefined;
  }
  if (stat.isDirectory()) return existsSync(join(dotGit, 'HEAD')) ? dotGit : undefined;
  if (!stat.isFile()) return undefined;
  // Like git, a broken `.git` file is an error, not a reason to use some repository further up.
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
  const target = match?.[1] && (isAbsolute(match[1]) ? match[1] : resolve(dir, match[1]));
  if (!target || !existsSync(target)) {
    throw new InvalidRequestException(`${dotGit} does not point at a git directory`);
  }
  return canonical(target);
}

/**
 * The repository a history check runs in: the store's, or a bare repository (a server's `pre-receive`
 * hook runs in one, with GIT_DIR set), whose store lives at its top level.
 */
export function locateRepository(opts: LocateOptions): StoreLocation {
  try {
    return locateStore(opts);
  } catch (err) {
    const dir = resolve(opts.cwd, opts.env.GIT_DIR ?? '.');
    if (['HEAD', 'objects', 'refs'].every((p) => existsSync(join(dir, p)))) {
      const gitDir = canonical(dir);
      return { root: gitDir, repoRoot: gitDir, gitDir, prefix: '' };
    }
    throw err;
  }
}
