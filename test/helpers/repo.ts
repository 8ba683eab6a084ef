/** Throwaway git repositories for tests: fixed identity, signing off, branch `main`, no user config. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/** Keeps the developer's ~/.gitconfig (hooks, signing, autocrlf) out of the tests. Idempotent. */
export function isolateGitConfig(): void {
  process.env.GIT_CONFIG_GLOBAL = devNull;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  delete process.env.SECRETSTORE_FAULT_AT;
  delete process.env.SECRETSTORE_DIR;
}

export function tempDir(prefix = 'secretstore-test-'): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

export interface Snapshot {
  head: string;
  status: string;
  index: string;
  files: Record<string, string>;
  gitDirLeftovers: string[];
}

export class TestRepo {
  constructor(readonly dir: string) {}

  get gitDir(): string {
    return join(this.dir, '.git');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  write(path: string, content: string): void {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    writeFileSync(join(this.dir, path), content);
  }

  read(path: string): string | undefined {
    const file = join(this.dir, path);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  }

  /** Commits everything in the work tree; returns the new HEAD. */
  commitAll(message = 'setup'): string {
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    return this.head();
  }

  head(): string {
    try {
      return this.git('rev-parse', '-q', '--verify', 'HEAD').trim();
    } catch {
      return '(unborn)';
    }
  }

  /** `git status --porcelain`, counting untracked and ignored files too. */
  status(): string {
    return this.git('status', '--porcelain', '--untracked-files=all', '--ignored');
  }

  commitCount(): number {
    return this.head() === '(unborn)' ? 0 : Number(this.git('rev-list', '--count', 'HEAD').trim());
  }

  /** Every file of the work tree (outside .git) with its content. */
  files(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.name === '.git' && dir === this.dir) continue;
        if (entry.isDirectory()) walk(full);
        else out[relative(this.dir, full)] = readFileSync(full, 'utf8');
      }
    };
    walk(this.dir);
    return out;
  }

  /** What a test compares before and after: HEAD, status, index entries, work tree, our files in .git. */
  snapshot(): Snapshot {
    return {
      head: this.head(),
      status: this.status(),
      index: this.git('ls-files', '-s'),
      files: this.files(),
      gitDirLeftovers: readdirSync(this.gitDir).filter((f) => f.startsWith('secretstore')),
    };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function makeRepo(opts: { identity?: boolean } = {}): TestRepo {
  isolateGitConfig();
  const repo = new TestRepo(tempDir());
  repo.git('init', '-q', '-b', 'main');
  if (opts.identity !== false) {
    repo.git('config', 'user.name', 'Test Author');
    repo.git('config', 'user.email', 'author@example.com');
  }
  repo.git('config', 'commit.gpgsign', 'false');
  return repo;
}
