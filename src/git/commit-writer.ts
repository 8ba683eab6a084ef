/**
 * Commit objects written by a warm `git hash-object -w -t commit --stdin-paths` instead of a
 * `git commit-tree` process per commit: the same bytes commit-tree would write (tree, parents, author and
 * committer with the current time, the message ending in a newline), for the price of a temp file.
 *
 * Only when git would write nothing else: an identity set explicitly (config or GIT_AUTHOR_* and
 * GIT_COMMITTER_*), no GIT_*_DATE override, no commit.gpgSign, no i18n.commitEncoding. Otherwise
 * `Git.commitTree` makes the commit, as it always did (it also knows the no-identity fallback).
 *
 * Atomicity: like every object, a commit written here is invisible until HEAD moves to it; the temp file
 * is git-dir private, overwritten by the next commit and removed by recovery (`commitTempPath`).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InternalServiceError } from '../errors.js';
import type { Git } from './client.js';
import { gitEnv } from './env.js';
import { LineProcess } from './line-process.js';
import { objectId } from './object-id.js';
import type { CommitDraft } from '../model/repository.js';

/** Name and email of the author and committer, as git resolves them. */
interface Idents {
  readonly author: string;
  readonly committer: string;
}

export function commitTempPath(gitDir: string): string {
  return join(gitDir, 'secretstore-commit.tmp');
}

export class CommitWriter {
  private idents?: Promise<Idents | undefined>;
  private written = 0;
  private readonly process: LineProcess;
  /** The user's `core.fsync` (unset: undefined), known once the identities are read (fast-import.ts flushes by it). */
  fsync?: string;
  /** git's answer for the last commit written the warm way: until then it may read the temp file. */
  private previous?: Promise<unknown>;

  constructor(
    repoRoot: string,
    private readonly gitDir: string,
    private readonly source: NodeJS.ProcessEnv = process.env,
  ) {
    this.process = new LineProcess(repoRoot, ['hash-object', '-w', '-t', 'commit', '--stdin-paths'], source);
  }

  /**
   * Writes the commit of `draft` (its message final), with `git` as the fallback; its id. `treesWritten`
   * resolves once the draft's tree is in the object database: commit-tree checks that it is, the warm way
   * does not need it to be yet (the tree's id is what the commit names). With `later`, the warm way
   * returns the commit's id as computed here once the object is sent to git, and hands `later` the check
   * of git's answer (the temp file is free again once it resolves: await it before the next commit).
   */
  async write(git: Git, draft: CommitDraft, treesWritten: () => Promise<void> = async () => undefined, later?: (check: Promise<Error | undefined>) => void): Promise<string> {
    const commitTree = async () => (await treesWritten(), git.commitTree(draft.tree, draft.parents, draft.message));
    // The warm way costs two process starts (`var`, `hash-object`) before its first commit: a CLI command,
    // which makes one commit, is quicker with one `commit-tree`; a long-lived client switches at its second.
    if (this.written++ === 0) return commitTree();
    const text = await this.text(git, draft);
    if (text === undefined) return commitTree();
    const temp = commitTempPath(this.gitDir);
    await this.previous;
    writeFileSync(temp, text);
    const answer = this.process.ask(`${temp}\n`).then(
      (line) => {
        rmSync(temp, { force: true });
        const oid = line.trim();
        if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid)) throw new InternalServiceError(`git hash-object answered ${JSON.stringify(oid.slice(0, 80))}`);
        return oid;
      },
      (err: unknown) => {
        rmSync(temp, { force: true });
        throw err;
      },
    );
    this.previous = answer.catch(() => undefined);
    if (!later) return answer;
    // The id is the hash of the bytes written (as git computes it); git's answer is checked before HEAD moves.
    const oid = objectId('commit', Buffer.from(text), draft.tree.length);
    later(
      answer.then(
        (got) => (got === oid ? undefined : new InternalServiceError(`git wrote commit ${got} where ${oid} was computed; nothing was committed, try again`)),
        (err: unknown) => (err instanceof Error ? err : new InternalServiceError(String(err))),
      ),
    );
    return oid;
  }

  /**
   * The bytes commit-tree would write for `draft` now, or undefined where only commit-tree knows them
   * (see the header). Also what a commit written by fast-import holds (tree-writer.ts).
   */
  async text(git: Git, draft: CommitDraft): Promise<string | undefined> {
    this.idents ??= this.resolveIdents(git).catch(() => undefined);
    const idents = await this.idents;
    if (!idents) return undefined;
    const when = gitDate(new Date());
    const message = draft.message.endsWith('\n') ? draft.message : `${draft.message}\n`; // as commit-tree -m
    return [`tree ${draft.tree}`, ...draft.parents.map((p) => `parent ${p}`), `author ${idents.author} ${when}`, `committer ${idents.committer} ${when}`, '', message].join('\n');
  }

  /** Whether `text` can give a commit's bytes (the identities are known and nothing else changes them). */
  async warm(git: Git): Promise<boolean> {
    return (await (this.idents ??= this.resolveIdents(git).catch(() => undefined))) !== undefined;
  }

  close(): void {
    this.process.close();
  }

  /** From one `git var -l`; undefined where commit-tree must do the work. */
  private async resolveIdents(git: Git): Promise<Idents | undefined> {
    const env = gitEnv(this.source);
    if (env.GIT_AUTHOR_DATE !== undefined || env.GIT_COMMITTER_DATE !== undefined) return undefined;
    const vars = new Map<string, string>();
    for (const line of (await git.run(['var', '-l'])).split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) vars.set(line.slice(0, eq).toLowerCase(), line.slice(eq + 1));
    }
    this.fsync = vars.get('core.fsync');
    const truthy = (v: string | undefined) => v !== undefined && !/^(false|no|off|0|)$/i.test(v.trim());
    if (truthy(vars.get('commit.gpgsign')) || vars.has('i18n.commitencoding')) return undefined;
    const explicit = (role: 'AUTHOR' | 'COMMITTER') =>
      (env[`GIT_${role}_NAME`] !== undefined || vars.has('user.name')) && (env[`GIT_${role}_EMAIL`] !== undefined || vars.has('user.email'));
    if (!explicit('AUTHOR') || !explicit('COMMITTER')) return undefined;
    const person = (key: string) => /^(.* <[^<>]*>) \d+ [+-]\d{4}$/.exec(vars.get(key) ?? '')?.[1];
    const author = person('git_author_ident');
    const committer = person('git_committer_ident');
    return author && committer ? { author, committer } : undefined;
  }
}

/** `<seconds> <+hhmm>` in the local time zone, as git writes it. */
function gitDate(now: Date): string {
  const offset = -now.getTimezoneOffset();
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${Math.floor(now.getTime() / 1000)} ${zone}`;
}
