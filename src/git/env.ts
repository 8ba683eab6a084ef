/**
 * What every git process of secretstore shares, without simple-git: its environment and how a failure
 * is reported. Apart from client.ts so that the read path (long-lived `cat-file` processes,
 * objects.ts) does not load simple-git: a get never needs it.
 */
import { InternalServiceError } from '../errors.js';

/** A failed git command. An InternalServiceError, so it reaches the user as AWS would report it. */
export class GitCommandError extends InternalServiceError {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const why = stderr.trim().split('\n')[0] || `exit code ${exitCode}`;
    super(`git ${args[0] ?? ''} failed: ${why}`);
  }
}

export const FALLBACK_IDENTITY = { name: 'secretstore', email: 'secretstore@localhost' } as const;

/**
 * Only what git needs, so a stray GIT_DIR, GIT_WORK_TREE or pager setting in the caller's
 * environment cannot point our commands elsewhere. LC_ALL=C keeps messages stable for matching.
 */
export function gitEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    // Paths come from secret names: never let `*`, `?` or `:(magic)` in one act as a pattern.
    GIT_LITERAL_PATHSPECS: '1',
    // `git status` would otherwise rewrite the user's index as a side effect.
    GIT_OPTIONAL_LOCKS: '0',
  };
  // GIT_INDEX_FILE is not kept: a caller that wants another index (a hook) passes it per call.
  // GNUPGHOME, SSH_AUTH_SOCK, XDG_RUNTIME_DIR: a user with commit.gpgSign set can still sign.
  // GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES, GIT_QUARANTINE_PATH: inside a server's
  // pre-receive hook, the pushed objects are only visible through these (git sets them for the hook).
  const keep = [
    'PATH', 'HOME', 'XDG_CONFIG_HOME', 'TZ', 'EMAIL', 'GNUPGHOME', 'SSH_AUTH_SOCK', 'XDG_RUNTIME_DIR',
    'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH',
  ];
  for (const key of keep) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && /^GIT_(AUTHOR|COMMITTER|CONFIG)_?/.test(key)) env[key] = value;
  }
  return env;
}

