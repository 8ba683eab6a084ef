/**
 * A team for the trust tests (issue 11): a bare remote whose branch is `trunk` (not git's usual `main`:
 * item 11), three clones and their people, each with an identity file of their own:
 * - alice: made the store (`init`), writer and recipient; the store's trust root is her `init` commit;
 * - bob: writer and recipient, a `git clone` plus `install-hooks`;
 * - mallory: the attacker, a clone with push access and an identity of her own that is neither a writer
 *   nor a recipient (her keys serve only to make a history of her own, signed by herself);
 * - carol: an identity that no clone uses, for recipients/writers changes.
 * Attacks are made with git plumbing in mallory's clone (`craft`): trees from a temporary index,
 * `git commit-tree` with chosen parents, pushes with or without --force.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { expect } from 'vitest';
import { openStore, type Store } from '../../src/index.js';
import { CLI, runCli, snapshotRepo, type CliResult } from './store.js';

export const BRANCH = 'trunk';

export interface Person {
  readonly name: string;
  readonly identity: string;
  /** The two lines `keygen` printed: the public key (secretstore1...) and the writer key (secretstoresig1...). */
  readonly publicKey: string;
  readonly writerKey: string;
}

export interface GitResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Actor extends Person {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  cli(args: readonly string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): CliResult;
  /** git in this clone; throws on a non-zero exit. */
  git(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; input?: string }): string;
  /** git in this clone, whatever its exit. */
  tryGit(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; input?: string }): GitResult;
  head(): string;
  snapshot(): string;
  /** The library on this clone, with this person's identity. */
  open(): Promise<Store>;
}

export interface TrustTeam {
  readonly base: string;
  readonly remote: string;
  readonly env: NodeJS.ProcessEnv;
  readonly alice: Actor;
  readonly bob: Actor;
  readonly mallory: Actor;
  readonly carol: Person;
  /** alice's `init` commit: the store's trust root, to pin out of band. */
  readonly root: string;
  /** A fresh clone of the remote with install-hooks, used by `as` (default alice). */
  fresh(name: string, as?: Person): Actor;
  remoteHead(): string;
  /** Every ref of the bare remote and what it points at, for before/after comparisons. */
  remoteRefs(): string;
  cleanup(): void;
}

/** The environment every process of a team gets: pinned git identity and config, `secretstore` on PATH. */
export function trustEnv(base: string): NodeJS.ProcessEnv {
  const gitconfig = join(base, 'gitconfig');
  writeFileSync(
    gitconfig,
    `[user]\n\tname = Team Member\n\temail = team@example.invalid\n[init]\n\tdefaultBranch = ${BRANCH}\n[advice]\n\tdetachedHead = false\n`,
  );
  const bin = join(base, 'bin');
  mkdirSync(bin, { recursive: true });
  // Rotation commands and the pre-receive hook call `secretstore` by name, as users' scripts do.
  writeFileSync(join(bin, 'secretstore'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
  chmodSync(join(bin, 'secretstore'), 0o755);
  return {
    PATH: [bin, dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(delimiter),
    HOME: join(base, 'home'),
    XDG_CONFIG_HOME: join(base, 'home', '.config'),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
  };
}

export function gitIn(dir: string, env: NodeJS.ProcessEnv, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): GitResult {
  const r = spawnSync('git', args, { cwd: dir, env: { ...env, ...opts.env }, input: opts.input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function makePerson(base: string, env: NodeJS.ProcessEnv, name: string): Person {
  const identity = join(base, 'identities', name);
  mkdirSync(dirname(identity), { recursive: true });
  const r = runCli(['keygen', '-o', identity], env, base);
  if (r.status !== 0) throw new Error(`keygen for ${name} failed: ${r.stderr}`);
  const [publicKey, writerKey] = r.stdout.trim().split('\n');
  return { name, identity, publicKey: publicKey!, writerKey: writerKey! };
}

export function actorAt(dir: string, person: Person, base: NodeJS.ProcessEnv): Actor {
  const env = { ...base, SECRETSTORE_IDENTITY: person.identity };
  const tryGit = (args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) => gitIn(dir, env, args, opts);
  const git = (args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) => {
    const r = tryGit(args, opts);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${person.name}'s clone exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    ...person,
    dir,
    env,
    cli: (args, o = {}) => runCli(args, { ...env, ...o.env }, dir, o.input),
    git,
    tryGit,
    head: () => git(['rev-parse', 'HEAD']).trim(),
    snapshot: () => snapshotRepo(dir),
    open: () => openStore({ store: dir, identity: person.identity, env }),
  };
}

export function ok(r: { status: number | null; stderr: string }, what = 'command'): void {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr}`);
}

/**
 * The team of the header, with `secrets` created by alice (one commit each) and pushed; bob and mallory
 * clone after that. Nobody pins a root here: clones trust on first use (the design's fallback), which
 * picks alice's `init` commit.
 */
export function makeTrustTeam(opts: { secrets?: Record<string, string> } = {}): TrustTeam {
  const base = mkdtempSync(join(tmpdir(), 'secretstore-trust-'));
  const env = trustEnv(base);
  const [pa, pb, pm, carol] = ['alice', 'bob', 'mallory', 'carol'].map((n) => makePerson(base, env, n)) as [Person, Person, Person, Person];
  const remote = join(base, 'remote.git');
  const aliceDir = join(base, 'alice');
  execFileSync('git', ['init', '-q', '-b', BRANCH, aliceDir], { env });
  execFileSync('git', ['init', '-q', '--bare', '-b', BRANCH, remote], { env });
  const alice = actorAt(aliceDir, pa, env);
  ok(alice.cli(['init', '--name', 'alice']), 'init');
  const root = alice.head();
  ok(alice.cli(['recipients', 'add', '--name', 'bob', '--public-key', pb.publicKey]), 'recipients add bob');
  ok(alice.cli(['writers', 'add', '--name', 'bob', '--writer-key', pb.writerKey]), 'writers add bob');
  for (const [name, value] of Object.entries(opts.secrets ?? {})) {
    ok(alice.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: value }), `create-secret ${name}`);
  }
  alice.git(['remote', 'add', 'origin', remote]);
  alice.git(['push', '-q', '-u', 'origin', BRANCH]);
  const clone = (name: string, person: Person, hooks: boolean): Actor => {
    const dir = join(base, name);
    execFileSync('git', ['clone', '-q', remote, dir], { env });
    const a = actorAt(dir, person, env);
    if (hooks) ok(a.cli(['install-hooks']), `install-hooks in ${name}`);
    return a;
  };
  clone('bob', pb, true);
  clone('mallory', pm, false);
  return teamAt(base, { alice: pa, bob: pb, mallory: pm, carol }, root);
}

function teamAt(base: string, people: Record<'alice' | 'bob' | 'mallory' | 'carol', Person>, root: string): TrustTeam {
  const env = trustEnv(base);
  const remote = join(base, 'remote.git');
  const at = (name: 'alice' | 'bob' | 'mallory') => actorAt(join(base, name), people[name], env);
  return {
    base,
    remote,
    env,
    alice: at('alice'),
    bob: at('bob'),
    mallory: at('mallory'),
    carol: people.carol,
    root,
    fresh: (name, as = people.alice) => {
      const dir = join(base, name);
      execFileSync('git', ['clone', '-q', remote, dir], { env });
      const a = actorAt(dir, as, env);
      ok(a.cli(['install-hooks']), `install-hooks in ${name}`);
      return a;
    },
    remoteHead: () => gitIn(remote, env, ['rev-parse', BRANCH]).stdout.trim(),
    remoteRefs: () => gitIn(remote, env, ['for-each-ref', '--format=%(refname) %(objectname)']).stdout,
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

/**
 * A byte copy of a whole team (remote, clones, identities, whatever else lies in its folder) in a new
 * folder, remotes re-pointed: a second team in the same state without paying for its setup again.
 */
export function copyTeam(t: TrustTeam): TrustTeam {
  const base = mkdtempSync(join(tmpdir(), 'secretstore-trust-'));
  cpSync(t.base, base, { recursive: true });
  const rebase = (p: Person): Person => ({ ...p, identity: join(base, 'identities', p.name) });
  const copy = teamAt(base, { alice: rebase(t.alice), bob: rebase(t.bob), mallory: rebase(t.mallory), carol: rebase(t.carol) }, t.root);
  for (const a of [copy.alice, copy.bob, copy.mallory]) a.git(['remote', 'set-url', 'origin', copy.remote]);
  return copy;
}

// ---------------------------------------------------------------------------------------------------
// Crafting histories with git plumbing (the attacker's tools)

export type TreeEdit =
  | { path: string; content: string; mode?: string }
  | { path: string; remove: true }
  /** The file or folder `path` exactly as it is in commit `from` (absent there: removed). */
  | { path: string; from: string };

let indexSeq = 0;

/** The tree of `base` with `edits` applied, built in a temporary index (the clone's own index is untouched). */
export function buildTree(a: Actor, base: string, edits: readonly TreeEdit[]): string {
  const index = join(a.dir, '.git', `craft-index-${process.pid}-${indexSeq++}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    a.git(['read-tree', base], { env });
    for (const e of edits) {
      if ('content' in e) {
        const oid = a.git(['hash-object', '-w', '--stdin'], { input: e.content }).trim();
        a.git(['update-index', '--add', '--cacheinfo', `${e.mode ?? '100644'},${oid},${e.path}`], { env });
        continue;
      }
      const under = a.git(['ls-files', '-z', '--', e.path], { env }).split('\0').filter(Boolean);
      if (under.length > 0) a.git(['update-index', '--force-remove', '-z', '--stdin'], { env, input: under.map((p) => `${p}\0`).join('') });
      if ('from' in e) {
        const entries = a.git(['ls-tree', '-r', '-z', e.from, '--', e.path]);
        if (entries) a.git(['update-index', '-z', '--index-info'], { env, input: entries });
      }
    }
    return a.git(['write-tree'], { env }).trim();
  } finally {
    rmSync(index, { force: true });
  }
}

/** `git commit-tree` with the given parents (none: a root commit), as `a`'s git identity. */
export function commitTree(a: Actor, tree: string, parents: readonly string[], message: string): string {
  const who = { GIT_AUTHOR_NAME: a.name, GIT_AUTHOR_EMAIL: `${a.name}@example.invalid`, GIT_COMMITTER_NAME: a.name, GIT_COMMITTER_EMAIL: `${a.name}@example.invalid` };
  return a.git(['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message], { env: who }).trim();
}

/** Pushes `commit` as the remote's branch (fast-forward unless `force`); throws when the push is rejected. */
export function pushAs(a: Actor, commit: string, opts: { force?: boolean; branch?: string } = {}): void {
  a.git(['push', '-q', ...(opts.force ? ['--force'] : []), 'origin', `${commit}:refs/heads/${opts.branch ?? BRANCH}`]);
}

/** The remote's branch head as the attacker's clone sees it after a fetch. */
export function fetchHead(a: Actor): string {
  a.git(['fetch', '-q', 'origin']);
  return a.git(['rev-parse', `origin/${BRANCH}`]).trim();
}

export function parentsOf(a: Actor, commit: string): string[] {
  return a.git(['rev-list', '--parents', '-n', '1', commit]).trim().split(' ').slice(1);
}

export function isAncestor(a: Actor, older: string, newer: string): boolean {
  return a.tryGit(['merge-base', '--is-ancestor', older, newer]).status === 0;
}

/** `git log --graph` in one-line form (for shape assertions and failure messages). */
export function graph(a: Actor, rev = 'HEAD'): string {
  return a.git(['log', '--graph', '--format=%h %s', rev]);
}

/** The commit (first-parent chain of `rev`) whose message starts with `subject`. */
export function commitWithSubject(a: Actor, subject: string, rev = 'HEAD'): string {
  const line = a.git(['log', '--format=%H %s', rev]).split('\n').find((l) => l.slice(41).startsWith(subject));
  if (!line) throw new Error(`no commit "${subject}..." in ${a.name}'s ${rev}`);
  return line.slice(0, 40);
}

/** The VersionId carrying `stage` in `secret`'s index at `rev`, read with git (plaintext). */
export function versionAt(a: Actor, rev: string, secret: string, stage = 'AWSCURRENT'): string | undefined {
  const text = a.git(['show', `${rev}:secrets/${secret}/secret.yaml`]);
  const m = new RegExp(`^ {2}${stage}: (\\S+)$`, 'm').exec(text);
  return m?.[1];
}

// ---------------------------------------------------------------------------------------------------
// What every attack test asserts

/** Hex words of 7+ characters in `text` that are a prefix of one of `commits`. */
export function namedCommits(text: string, commits: readonly string[]): string[] {
  return [...text.matchAll(/\b[0-9a-f]{7,40}\b/g)].map((m) => m[0]).filter((w) => commits.some((c) => c.startsWith(w)));
}

export interface ReadExpectation {
  /** The secret read (a refusal names it, or the store). */
  secret: string;
  /** The values an authorised state no older than the clone has seen gives. */
  authorised: readonly string[];
  /** The commits a refusal may name (the attacker's, and any made on top of them). */
  suspects: readonly string[];
}

/**
 * A read either returns an authorised value, or is refused: exit 254, one line on stderr that names the
 * secret (or the store), one of the suspect commits, and never prints a value.
 */
export function expectRefusedOrAuthorised(r: CliResult, e: ReadExpectation): void {
  const where = `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  if (r.status === 0) {
    expect(e.authorised, `a read returned a value: ${where}`).toContain(r.json<{ SecretString: string }>().SecretString);
    return;
  }
  expect(r.status, where).toBe(254);
  const lines = errorLines(r.stderr);
  expect(lines, where).toHaveLength(1);
  expect(lines[0]!.includes(e.secret) || /\bstore\b/i.test(lines[0]!), `the refusal names the secret or the store: ${where}`).toBe(true);
  expect(namedCommits(lines[0]!, e.suspects), `the refusal names the commit: ${where}`).not.toEqual([]);
  expect(r.stdout, where).toBe('');
}

/**
 * stderr without the notice a clone prints once when it trusts a root on first use (TRUST-DESIGN.md:
 * "printed once on stderr with the command to pin it"): what is left must be the one-line error.
 */
export function errorLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '' && !/trust --root|first use/i.test(l));
}

/** `secretstore verify` exits 1 with a finding that names one of `suspects`. */
export function expectVerifyFlags(a: Actor, suspects: readonly string[], args: readonly string[] = []): CliResult {
  const r = a.cli(['verify', ...args]);
  const where = `verify in ${a.name}'s clone: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  expect(r.status, where).toBe(1);
  expect(namedCommits(r.stdout + r.stderr, suspects), `a finding names the commit: ${where}`).not.toEqual([]);
  return r;
}

export function expectVerifyClean(a: Actor): void {
  const r = a.cli(['verify']);
  expect(r.status, `verify in ${a.name}'s clone: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
}

/**
 * `sync` in `a` (which holds a change of its own, so that a merge would be needed) meets unauthenticated
 * content on the remote: it refuses with a report naming a suspect commit, and leaves the clone and the
 * remote byte for byte as they were: nothing of the attacker's is merged, signed or pushed.
 */
export function expectSyncRefuses(t: TrustTeam, a: Actor, suspects: readonly string[]): void {
  const before = { clone: a.snapshot(), remote: t.remoteRefs() };
  const r = a.cli(['sync']);
  const where = `sync in ${a.name}'s clone: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  expect(r.status, where).not.toBe(0);
  expect(namedCommits(r.stdout + r.stderr, suspects), `the report names the commit: ${where}`).not.toEqual([]);
  expect(a.snapshot(), `${a.name}'s clone is unchanged`).toBe(before.clone);
  expect(t.remoteRefs(), 'the remote is unchanged').toBe(before.remote);
}

/** The value a clone reads, or the failure. */
export function get(a: Actor, secret: string, stage = 'AWSCURRENT'): CliResult {
  return a.cli(['get-secret-value', '--secret-id', secret, '--version-stage', stage]);
}

export function put(a: Actor, secret: string, value: string): string {
  const r = a.cli(['put-secret-value', '--secret-id', secret, '--secret-string', '-'], { input: value });
  ok(r, `put-secret-value ${secret} in ${a.name}'s clone`);
  return r.json<{ VersionId: string }>().VersionId;
}

export function value(a: Actor, secret: string, stage = 'AWSCURRENT'): string {
  const r = get(a, secret, stage);
  ok(r, `get-secret-value ${secret} in ${a.name}'s clone`);
  return r.json<{ SecretString: string }>().SecretString;
}

/** Commits in `rev` that are not in `base` (the suspects of an attack once it is pulled). */
export function newCommits(a: Actor, base: string, rev = 'HEAD'): string[] {
  return a.git(['rev-list', rev, `^${base}`]).split('\n').filter(Boolean);
}
