/**
 * The model-based adversarial test of issue 11 (test/trust/model.test.ts, `npm run fuzz:trust`).
 *
 * A bare remote on `trunk`, two honest writers (alice, bob) and an attacker (mallory: push access, no
 * writer key). Each step is one honest operation (put, label move, create, delete, restore, recipients or
 * writers change, sync with a --prefer, plain `git pull`, `git pull --rebase`, push, and the team's
 * recovery: reset to the last good state, force-push a good state over a bad remote) or one attack made
 * with git plumbing (an old file restored, a crafted merge restoring a path or a whole old tree, an
 * orphan history merged either way round, a force-push back, a history rewritten onto an old commit,
 * hand edits of an index, of the configuration and of a rotation script).
 *
 * The model, independent of the code under test (git plumbing and the plaintext indexes only):
 * - the store's state S(C) of a commit: the object ids of `.secretstore.yaml`, `secrets/`, `.secretstore/`
 *   (TRUST-DESIGN.md);
 * - a commit is *clean* when it is the trust root, an honest commit all of whose parents are clean, or an
 *   attacker commit that changes nothing of the store against a clean first parent (the design accepts
 *   those unsigned); the states of clean commits are the authorised states;
 * - each honest clone's `record`: the newest authorised state it has read or written;
 * - every VersionId an honest writer made, with its value; each clone's acknowledged versions.
 * After every step, in both honest clones:
 * - every read (the library, in-process) either returns exactly the AWSCURRENT version of HEAD's index with
 *   the value written for it, HEAD's state being authorised and no older than the record, or is refused
 *   with a one-line error; and when HEAD is clean and descends from the record, it must not be refused;
 * - a write succeeds only on such a state (never on an unauthenticated configuration), and a write on a
 *   clean HEAD that descends from the record succeeds;
 * - a sync either ends on a clean commit it pushed, or refuses and leaves the clone and the remote
 *   unchanged; with a clean HEAD and a clean remote it succeeds;
 * - no merge commit made by an honest clone and signed (`Secretstore-Signature:`) has a parent that is not
 *   clean (nothing signs the attacker's content);
 * - a clean HEAD holds every version the clone acknowledged;
 * - every few steps, `secretstore verify` exits 1 (naming a commit that is not clean) when anything
 *   reachable from HEAD is not clean, and 0 otherwise.
 * Seeded and reproducible: a failure prints the seed and the list of steps.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseDocument, YAMLSeq } from 'yaml';
import type { Store } from '../../src/index.js';
import {
  BRANCH,
  actorAt,
  buildTree,
  commitTree,
  copyTeam,
  fetchHead,
  gitIn,
  makeTrustTeam,
  namedCommits,
  ok,
  pushAs,
  type Actor,
  type TrustTeam,
} from './trust.js';

/** mulberry32: small, seedable, good enough to pick steps. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface HonestClone {
  readonly actor: Actor;
  /** The newest authorised state this clone has read or written. */
  record: string;
  /** Commits this clone made itself (what `git pull --rebase` may rewrite and re-sign). */
  readonly own: Set<string>;
  /** VersionId -> secret, for every version this clone wrote. */
  readonly acked: Map<string, string>;
  /** One-letter namespace for the secrets it creates and deletes (concurrent creates of one name are not modelled). */
  readonly prefix: string;
}

interface CommitInfo {
  parents: string[];
  state: string;
}

interface IndexView {
  labels: Record<string, string>;
  versions: string[];
  deleted: boolean;
}

class ModelFailure extends Error {}

/** The contents of `specs` (`<rev>:<path>`) with one `git cat-file --batch`; '' for a missing one. */
function catFiles(a: Actor, specs: readonly string[]): string[] {
  const r = a.tryGit(['cat-file', '--batch'], { input: specs.map((x) => `${x}\n`).join('') });
  const buf = Buffer.from(r.stdout, 'utf8');
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < specs.length; i++) {
    const nl = buf.indexOf(10, at);
    const header = buf.subarray(at, nl).toString('utf8');
    at = nl + 1;
    const m = /^\S+ \S+ (\d+)$/.exec(header);
    if (!m) {
      out.push('');
      continue;
    }
    const size = Number(m[1]);
    out.push(buf.subarray(at, at + size).toString('utf8'));
    at += size + 1;
  }
  return out;
}

export interface ModelOptions {
  /** The team every run starts from (a byte copy of it): makeModelTemplate(). */
  template: ModelTemplate;
  seed: number;
  steps: number;
  /** Run verify in both clones every this many steps (and after the last). */
  verifyEvery?: number;
  log?: (line: string) => void;
}

const SHARED = ['s0', 's1'];

export interface ModelTemplate {
  readonly team: TrustTeam;
  /** mallory's own store (init and the shared secret names, signed by her key), fetched into her clone. */
  readonly orphanTip: string;
}

/**
 * The starting point of every run, made once: the team of makeTrustTeam with s0 and s1, and mallory's
 * orphan store, made in a repository of her own and fetched into her clone.
 */
export function makeModelTemplate(): ModelTemplate {
  const t = makeTrustTeam({ secrets: { s0: 'init-s0', s1: 'init-s1' } });
  const dir = join(t.base, 'evil');
  execFileSync('git', ['init', '-q', '-b', BRANCH, dir], { env: t.env });
  const evil = actorAt(dir, t.mallory, t.env);
  ok(evil.cli(['init', '--name', 'mallory']), 'orphan init');
  for (const s of SHARED) ok(evil.cli(['create-secret', '--name', s, '--secret-string', '-'], { input: `evil-${s}` }), 'orphan create');
  t.mallory.git(['fetch', '-q', dir, BRANCH]);
  const orphanTip = t.mallory.git(['rev-parse', 'FETCH_HEAD']).trim();
  // Kept reachable in the copies (FETCH_HEAD is not a ref git keeps objects for).
  t.mallory.git(['update-ref', 'refs/attacker/orphan', orphanTip]);
  return { team: t, orphanTip };
}

export async function runModel(opts: ModelOptions): Promise<{ steps: string[] }> {
  const world = new World(opts);
  try {
    await world.run();
    return { steps: world.steps };
  } catch (err) {
    const why = err instanceof Error ? (err instanceof ModelFailure ? err.message : `${err.stack ?? err.message}`) : String(err);
    throw new Error(
      `trust model failed (reproduce with TRUST_MODEL_SEED=${opts.seed} TRUST_MODEL_SEEDS=1 TRUST_MODEL_STEPS=${opts.steps} npx vitest run test/trust/model.test.ts)\n` +
        `seed ${opts.seed}, after step ${world.steps.length}: ${why}\nsteps:\n${world.steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}`,
    );
  } finally {
    world.cleanup();
  }
}

class World {
  readonly steps: string[] = [];
  private readonly random: () => number;
  private t!: TrustTeam;
  private clones: HonestClone[] = [];
  private readonly values = new Map<string, string>();
  private readonly attacker = new Set<string>();
  private readonly info = new Map<string, CommitInfo>();
  private readonly cleanMemo = new Map<string, boolean>();
  /** state -> clean commits with that state. */
  private readonly authorised = new Map<string, Set<string>>();
  private orphan!: { tip: string };
  private seq = 0;

  constructor(private readonly opts: ModelOptions) {
    this.random = rng(opts.seed);
  }

  cleanup(): void {
    this.t?.cleanup();
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private fail(message: string): never {
    throw new ModelFailure(message);
  }

  /** A step's description; a line starting with a space adds what came of it to the step before. */
  private note(line: string): void {
    if (line.startsWith(' ') && this.steps.length > 0) this.steps[this.steps.length - 1] += `\n     ${line.trim()}`;
    else this.steps.push(line);
    this.opts.log?.(line);
  }

  // ------------------------------------------------------------------------------------------------
  // Setup

  private async setup(): Promise<void> {
    const t = copyTeam(this.opts.template.team);
    this.t = t;
    this.clones = [
      { actor: t.alice, record: t.alice.head(), own: new Set(), acked: new Map(), prefix: 'a' },
      { actor: t.bob, record: t.bob.head(), own: new Set(), acked: new Map(), prefix: 'b' },
    ];
    this.learn(t.alice.dir, 'HEAD');
    for (const c of this.clones) {
      // The setup's versions and their values, read once before any attack (this is also each clone's first read).
      const store = await c.actor.open();
      for (const s of SHARED) {
        const v = await store.getSecretValue({ SecretId: s });
        this.values.set(v.VersionId!, v.SecretString!);
        c.acked.set(v.VersionId!, s);
      }
    }
    const tip = this.opts.template.orphanTip;
    for (const c of t.mallory.git(['rev-list', tip]).split('\n').filter(Boolean)) this.attacker.add(c);
    this.orphan = { tip };
    this.learn(t.mallory.dir, tip);
  }

  // ------------------------------------------------------------------------------------------------
  // Facts about commits (git plumbing only)

  /** Loads parents and store state of every commit reachable from `rev` in the repository at `dir`. */
  private learn(dir: string, rev: string): void {
    const r = gitIn(dir, this.t.env, ['rev-list', '--parents', rev]);
    if (r.status !== 0) this.fail(`git rev-list ${rev} in ${dir}: ${r.stderr}`);
    const fresh: { oid: string; parents: string[] }[] = [];
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [oid, ...parents] = line.split(' ');
      if (!this.info.has(oid!)) fresh.push({ oid: oid!, parents });
    }
    if (fresh.length === 0) return;
    const paths = ['.secretstore.yaml', 'secrets', '.secretstore'];
    const input = fresh.flatMap((c) => paths.map((p) => `${c.oid}:${p}\n`)).join('');
    const out = gitIn(dir, this.t.env, ['cat-file', '--batch-check'], { input }).stdout.split('\n');
    fresh.forEach((c, i) => {
      const state = paths.map((_, j) => (out[i * 3 + j] ?? '').split(' ')[0] ?? '').map((w) => (/^[0-9a-f]{40,64}$/.test(w) ? w : '-')).join(' ');
      this.info.set(c.oid, { parents: c.parents, state });
    });
  }

  private fact(oid: string): CommitInfo {
    const f = this.info.get(oid);
    if (!f) this.fail(`commit ${oid} was never learned`);
    return f;
  }

  private clean(oid: string): boolean {
    const memo = this.cleanMemo.get(oid);
    if (memo !== undefined) return memo;
    const { parents, state } = this.fact(oid);
    let v: boolean;
    if (this.attacker.has(oid)) v = parents.length > 0 && this.fact(parents[0]!).state === state && this.clean(parents[0]!);
    else if (parents.length === 0) v = oid === this.t.root;
    else v = parents.every((p) => this.clean(p));
    this.cleanMemo.set(oid, v);
    if (v) {
      const set = this.authorised.get(state) ?? new Set<string>();
      set.add(oid);
      this.authorised.set(state, set);
    }
    return v;
  }

  private reachable(dir: string, rev: string): string[] {
    return gitIn(dir, this.t.env, ['rev-list', rev]).stdout.split('\n').filter(Boolean);
  }

  private readonly ancestry = new Map<string, boolean>();

  /** Ancestry never changes once both commits exist, so each pair costs one git process. */
  private isAncestor(a: Actor, older: string, newer: string): boolean {
    if (older === newer) return true;
    const key = `${older} ${newer}`;
    let v = this.ancestry.get(key);
    if (v === undefined) {
      const r = a.tryGit(['merge-base', '--is-ancestor', older, newer]);
      if (r.status !== 0 && r.status !== 1) return false; // a commit this clone does not have: not cached
      v = r.status === 0;
      this.ancestry.set(key, v);
    }
    return v;
  }

  /** HEAD is clean and descends from the record: everything must work there. */
  private live(c: HonestClone, head: string): boolean {
    return this.clean(head) && this.isAncestor(c.actor, c.record, head);
  }

  /** HEAD's state is an authorised state no older than the record (what a read or write may use). */
  private acceptable(c: HonestClone, head: string): boolean {
    if (this.live(c, head)) return true;
    for (const other of this.authorised.get(this.fact(head).state) ?? []) {
      if (c.actor.tryGit(['cat-file', '-e', `${other}^{commit}`]).status !== 0) continue;
      if (this.isAncestor(c.actor, c.record, other)) return true;
    }
    return false;
  }

  private headOf(c: HonestClone): string {
    const head = c.actor.head();
    this.learn(c.actor.dir, head);
    this.clean(head);
    return head;
  }

  private readonly indexMemo = new Map<string, Map<string, IndexView>>();
  /** The last (HEAD, acknowledged count, live) whose history checks passed, per clone. */
  private readonly checked = new Map<string, string>();

  /** The label indexes at `rev` (a commit), parsed as plaintext YAML; one git process per new commit. */
  private secretsAt(a: Actor, rev: string): Map<string, IndexView> {
    const memo = this.indexMemo.get(rev);
    if (memo) return memo;
    const out = new Map<string, IndexView>();
    const names = a.tryGit(['ls-tree', '--name-only', `${rev}:secrets`]).stdout.split('\n').filter(Boolean);
    const texts = names.length === 0 ? [] : catFiles(a, names.map((n) => `${rev}:secrets/${n}/secret.yaml`));
    names.forEach((name, i) => {
      try {
        const doc = parseDocument(texts[i] ?? '').toJS() as { labels?: Record<string, string>; versions?: Record<string, string>; deletedDate?: string };
        out.set(name, { labels: doc.labels ?? {}, versions: Object.keys(doc.versions ?? {}), deleted: doc.deletedDate !== undefined });
      } catch {
        out.set(name, { labels: {}, versions: [], deleted: false });
      }
    });
    if (/^[0-9a-f]{40,64}$/.test(rev)) this.indexMemo.set(rev, out);
    return out;
  }

  // ------------------------------------------------------------------------------------------------
  // The invariants

  private async checkClone(c: HonestClone): Promise<void> {
    const a = c.actor;
    const head = this.headOf(c);
    const live = this.live(c, head);
    const secrets = this.secretsAt(a, head);
    let store: Store;
    try {
      store = await a.open();
    } catch (err) {
      if (live) this.fail(`${a.name}: openStore refused a clean HEAD ${head}: ${(err as Error).message}`);
      return;
    }
    let readSomething = false;
    for (const [name, index] of secrets) {
      let got: { VersionId?: string; SecretString?: string };
      try {
        got = await store.getSecretValue({ SecretId: name });
      } catch (err) {
        const e = err as Error;
        if (/\n/.test(e.message.trim())) this.fail(`${a.name}: a refusal of ${name} is not one line: ${e.message}`);
        if (live && !index.deleted) this.fail(`${a.name}: read of ${name} refused on clean HEAD ${head} (record ${c.record}): ${e.name}: ${e.message}`);
        continue;
      }
      if (!this.acceptable(c, head)) {
        this.fail(`${a.name}: read of ${name} returned ${got.VersionId} on HEAD ${head}, whose state is not an authorised state no older than the record ${c.record}`);
      }
      if (index.deleted) this.fail(`${a.name}: read of ${name}, marked for deletion at ${head}, returned a value`);
      if (got.VersionId !== index.labels.AWSCURRENT) this.fail(`${a.name}: read of ${name} returned ${got.VersionId}, HEAD's index says ${index.labels.AWSCURRENT}`);
      const expected = this.values.get(got.VersionId!);
      if (expected === undefined || got.SecretString !== expected) this.fail(`${a.name}: read of ${name} version ${got.VersionId} returned a value no honest writer wrote`);
      readSomething = true;
    }
    if (readSomething && this.clean(head) && this.isAncestor(a, c.record, head)) c.record = head;
    const key = `${head} ${c.acked.size} ${live}`;
    if (this.checked.get(a.name) === key) return;
    this.checked.set(a.name, key);
    if (live) {
      const files = new Set(a.git(['ls-tree', '-r', '--name-only', head, 'secrets']).split('\n'));
      for (const [id, name] of c.acked) {
        if (!files.has(`secrets/${name}/versions/${id}.sealed`)) this.fail(`${a.name}: clean HEAD ${head} lost acknowledged version ${id} of ${name}`);
      }
    }
    // Nothing honest signs the attacker's content: a signed merge has only clean parents.
    for (const block of a.git(['log', '--merges', '--format=%H%x00%B%x01', head]).split('\x01')) {
      const [oid, message] = block.trim().split('\0');
      if (!oid || this.attacker.has(oid) || !message?.includes('Secretstore-Signature:')) continue;
      const dirty = this.fact(oid).parents.filter((p) => !this.clean(p));
      if (dirty.length > 0) this.fail(`${a.name}: merge ${oid} is signed and brings unauthenticated ${dirty.join(', ')}`);
    }
  }

  private checkVerify(c: HonestClone): void {
    const a = c.actor;
    const head = this.headOf(c);
    const bad = this.reachable(a.dir, head).filter((x) => {
      this.learn(a.dir, x);
      return !this.clean(x);
    });
    const r = a.cli(['verify']);
    const where = `verify in ${a.name}'s clone at ${head}: exit ${r.status}\n${r.stdout}${r.stderr}`;
    if (bad.length === 0 && r.status !== 0) this.fail(`${where}\nexpected 0: every commit is authorised`);
    if (bad.length > 0) {
      if (r.status !== 1) this.fail(`${where}\nexpected 1: unauthorised ${bad.join(', ')}`);
      if (namedCommits(r.stdout + r.stderr, bad).length === 0) this.fail(`${where}\nno finding names one of ${bad.join(', ')}`);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Honest operations

  private async write(c: HonestClone, what: string, run: (store: Store) => Promise<string | undefined>, secret?: string): Promise<void> {
    const before = this.headOf(c);
    const ok = this.acceptable(c, before);
    const live = this.live(c, before);
    let version: string | undefined;
    try {
      version = await run(await c.actor.open());
    } catch (err) {
      const e = err as Error;
      this.note(`  -> refused: ${e.name}: ${e.message.split('\n')[0]}`);
      if (live) this.fail(`${c.actor.name}: ${what} refused on clean HEAD ${before}: ${e.message}`);
      if (this.headOf(c) !== before) this.fail(`${c.actor.name}: a refused ${what} moved HEAD`);
      return;
    }
    if (!ok) this.fail(`${c.actor.name}: ${what} succeeded on HEAD ${before}, which is not an authorised state no older than the record ${c.record}`);
    const after = this.headOf(c);
    for (const x of this.reachable(c.actor.dir, `${before}..${after}`)) c.own.add(x);
    c.record = after;
    if (version !== undefined && secret !== undefined) c.acked.set(version, secret);
  }

  private async honest(): Promise<void> {
    const c = this.pick(this.clones);
    const a = c.actor;
    const head = this.headOf(c);
    const secrets = this.secretsAt(a, head);
    const live = [...secrets].filter(([, i]) => !i.deleted);
    const remoteHead = this.t.remoteHead();
    this.learn(this.t.remote, remoteHead);
    const remoteClean = this.clean(remoteHead);
    const ops: [number, () => Promise<void>][] = [];
    if (live.length > 0) {
      ops.push([4, async () => {
        const [name] = this.pick(live);
        const value = `${a.name}-${++this.seq}`;
        this.note(`${a.name}: put-secret-value ${name} = ${value}`);
        await this.write(c, `put ${name}`, async (s) => {
          const id = (await s.putSecretValue({ SecretId: name, SecretString: value })).VersionId!;
          this.values.set(id, value);
          return id;
        }, name);
      }]);
    }
    const movable = live.filter(([, i]) => i.labels.AWSPREVIOUS !== undefined && i.labels.AWSCURRENT !== undefined);
    if (movable.length > 0) {
      ops.push([2, async () => {
        const [name, i] = this.pick(movable);
        this.note(`${a.name}: update-secret-version-stage ${name} AWSCURRENT -> ${i.labels.AWSPREVIOUS} (an honest rollback)`);
        await this.write(c, `label move on ${name}`, async (s) => {
          await s.updateSecretVersionStage({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: i.labels.AWSPREVIOUS!, RemoveFromVersionId: i.labels.AWSCURRENT! });
          return undefined;
        });
      }]);
    }
    const mine = [0, 1, 2].map((k) => `${c.prefix}${k}`);
    const creatable = mine.filter((n) => !secrets.has(n));
    if (creatable.length > 0) {
      ops.push([1, async () => {
        const name = this.pick(creatable);
        const value = `${a.name}-${++this.seq}`;
        this.note(`${a.name}: create-secret ${name} = ${value}`);
        await this.write(c, `create ${name}`, async (s) => {
          const id = (await s.createSecret({ Name: name, SecretString: value })).VersionId!;
          this.values.set(id, value);
          return id;
        }, name);
      }]);
    }
    const deletable = mine.filter((n) => secrets.has(n) && !secrets.get(n)!.deleted);
    if (deletable.length > 0) {
      ops.push([1, async () => {
        const name = this.pick(deletable);
        this.note(`${a.name}: delete-secret ${name} (7-day recovery window)`);
        await this.write(c, `delete ${name}`, async (s) => (await s.deleteSecret({ SecretId: name, RecoveryWindowInDays: 7 }), undefined));
      }]);
    }
    const restorable = mine.filter((n) => secrets.get(n)?.deleted === true);
    if (restorable.length > 0) {
      ops.push([1, async () => {
        const name = this.pick(restorable);
        this.note(`${a.name}: restore-secret ${name}`);
        await this.write(c, `restore ${name}`, async (s) => (await s.restoreSecret({ SecretId: name }), undefined));
      }]);
    }
    if (c.prefix === 'a') ops.push([1, () => this.changeAccess(c, head)]);
    ops.push([3, () => this.sync(c, remoteClean)]);
    ops.push([2, () => this.pull(c)]);
    ops.push([1, () => this.pullRebase(c)]);
    ops.push([1, async () => {
      this.note(`${a.name}: git push`);
      const r = a.tryGit(['push', '-q', 'origin', BRANCH]);
      this.note(`  -> ${r.status === 0 ? 'pushed' : 'rejected (not a fast-forward)'}`);
    }]);
    if (!this.live(c, head)) {
      ops.push([4, async () => {
        // The newest good commit of HEAD's history that is not older than the record (else the record).
        const good = this.reachable(a.dir, head).find((x) => this.clean(x) && this.isAncestor(a, c.record, x)) ?? c.record;
        this.note(`${a.name}: git reset --hard ${good.slice(0, 10)} (back to the last good state)`);
        a.git(['reset', '-q', '--hard', good]);
      }]);
    }
    if (!remoteClean && this.live(c, head)) {
      ops.push([3, async () => {
        this.note(`${a.name}: git push --force (a good state over the attacked remote)`);
        a.git(['push', '-q', '--force', 'origin', `HEAD:refs/heads/${BRANCH}`]);
      }]);
    }
    let total = ops.reduce((n, [w]) => n + w, 0) * this.random();
    for (const [w, op] of ops) {
      total -= w;
      if (total <= 0) return op();
    }
    return ops[ops.length - 1]![1]();
  }

  /** alice adds or removes carol as recipient or as writer (CLI: the recipients and writers commands). */
  private async changeAccess(c: HonestClone, head: string): Promise<void> {
    const config = c.actor.git(['show', `${head}:.secretstore.yaml`]);
    const carol = this.t.carol;
    const asWriter = this.random() < 0.5;
    const present = config.includes(asWriter ? carol.writerKey : carol.publicKey);
    const args = asWriter
      ? present ? ['writers', 'remove', '--name', 'carol'] : ['writers', 'add', '--name', 'carol', '--writer-key', carol.writerKey]
      : present ? ['recipients', 'remove', '--name', 'carol'] : ['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey];
    this.note(`${c.actor.name}: secretstore ${args.slice(0, 4).join(' ')}`);
    await this.write(c, args.slice(0, 2).join(' '), async () => {
      const r = c.actor.cli(args);
      if (r.status !== 0) throw Object.assign(new Error(r.stderr.trim()), { name: `exit ${r.status}` });
      return undefined;
    });
  }

  private async sync(c: HonestClone, remoteClean: boolean): Promise<void> {
    const a = c.actor;
    const prefer = this.pick(['ours', 'theirs', 'newest']);
    this.note(`${a.name}: secretstore sync --prefer ${prefer}`);
    const head = this.headOf(c);
    const live = this.live(c, head);
    const before = { clone: a.snapshot(), remote: this.t.remoteRefs() };
    const r = a.cli(['sync', '--prefer', prefer]);
    if (r.status !== 0) {
      this.note(`  -> refused: ${r.stderr.trim().split('\n')[0]}`);
      if (live && remoteClean) this.fail(`${a.name}: sync refused with a clean HEAD and a clean remote: ${r.stderr}`);
      if (a.snapshot() !== before.clone) this.fail(`${a.name}: a refused sync changed the clone: ${r.stderr}`);
      if (this.t.remoteRefs() !== before.remote) this.fail(`${a.name}: a refused sync changed the remote: ${r.stderr}`);
      return;
    }
    const after = this.headOf(c);
    this.note(`  -> ${r.stdout.trim().split('\n').find((l) => l.includes('Status')) ?? 'ok'}`);
    if (!this.clean(after)) this.fail(`${a.name}: sync succeeded and left HEAD on ${after}, which is not authorised (it merged or kept unauthenticated content)`);
    if (!this.isAncestor(a, head, after)) this.fail(`${a.name}: sync moved HEAD off its own history`);
    c.record = after;
  }

  private async pull(c: HonestClone): Promise<void> {
    const a = c.actor;
    this.note(`${a.name}: git pull --no-rebase`);
    const before = a.head();
    const r = a.tryGit(['pull', '-q', '--no-rebase', '--no-edit']);
    if (r.status !== 0) {
      this.note(`  -> failed (${r.stderr.trim().split('\n').pop()}); git merge --abort`);
      a.tryGit(['merge', '--abort']);
      a.git(['reset', '-q', '--hard', before]);
    } else this.note(`  -> HEAD ${this.headOf(c).slice(0, 10)}`);
  }

  private async pullRebase(c: HonestClone): Promise<void> {
    const a = c.actor;
    a.git(['fetch', '-q', 'origin']);
    const local = a.git(['rev-list', `origin/${BRANCH}..HEAD`]).split('\n').filter(Boolean);
    const merges = a.git(['rev-list', '--merges', `origin/${BRANCH}..HEAD`]).trim();
    // Only a writer's own, unmerged commits are rebased (and re-signed by the post-rewrite hook).
    if (merges !== '' || local.some((x) => !c.own.has(x))) return this.pull(c);
    this.note(`${a.name}: git pull --rebase (${local.length} own commit(s))`);
    const before = a.head();
    const r = a.tryGit(['pull', '-q', '--rebase']);
    if (r.status !== 0) {
      this.note(`  -> failed (${r.stderr.trim().split('\n').pop()}); git rebase --abort`);
      a.tryGit(['rebase', '--abort']);
      a.git(['reset', '-q', '--hard', before]);
      return;
    }
    const after = this.headOf(c);
    this.note(`  -> HEAD ${after.slice(0, 10)}`);
    const rewritten = a.git(['rev-list', `origin/${BRANCH}..HEAD`]).split('\n').filter(Boolean);
    for (const x of rewritten) c.own.add(x);
    // Rebasing one's own commits onto an authorised remote keeps working: the record follows the rewrite.
    if (this.clean(after)) c.record = after;
  }

  // ------------------------------------------------------------------------------------------------
  // Attacks (mallory, with git plumbing)

  private craft(tree: string, parents: string[], message: string): string {
    const oid = commitTree(this.t.mallory, tree, parents, message);
    this.attacker.add(oid);
    this.learn(this.t.mallory.dir, oid);
    this.clean(oid);
    return oid;
  }

  private async attack(): Promise<void> {
    const m = this.t.mallory;
    const head = fetchHead(m);
    this.learn(m.dir, head);
    const history = this.reachable(m.dir, head).filter((x) => x !== head && this.clean(x));
    const old = history.length > 0 ? this.pick(history) : head;
    const storePaths = (rev: string) => [
      '.secretstore.yaml',
      ...m.tryGit(['ls-tree', '--name-only', `${rev}:secrets`]).stdout.split('\n').filter(Boolean).flatMap((s) => [`secrets/${s}/secret.yaml`, `secrets/${s}`]),
    ];
    const tree = (rev: string) => m.git(['rev-parse', `${rev}^{tree}`]).trim();
    const pushed = (oid: string, force = false) => {
      pushAs(m, oid, { force });
      const what = !this.attacker.has(oid) ? 'an older authorised state' : this.clean(oid) ? 'changes nothing of the store' : 'unauthorised';
      this.note(`  -> remote ${BRANCH} = ${oid.slice(0, 10)} (${what})`);
    };
    const secretsAtHead = m.tryGit(['ls-tree', '--name-only', `${head}:secrets`]).stdout.split('\n').filter(Boolean);
    const attacks: [number, () => void][] = [
      [2, () => {
        const path = this.pick(storePaths(old));
        this.note(`mallory: commit restoring ${path} from ${old.slice(0, 10)}`);
        pushed(this.craft(buildTree(m, head, [{ path, from: old }]), [head], `restore ${path}`));
      }],
      [2, () => {
        const path = this.pick(storePaths(old));
        this.note(`mallory: merge with second parent ${old.slice(0, 10)} restoring ${path}`);
        pushed(this.craft(buildTree(m, head, [{ path, from: old }]), [head, old], `Merge commit '${old.slice(0, 7)}'`));
      }],
      [1, () => {
        this.note(`mallory: merge with second parent ${old.slice(0, 10)} taking its whole tree`);
        pushed(this.craft(tree(old), [head, old], `Merge commit '${old.slice(0, 7)}'`));
      }],
      [2, () => {
        const first = this.random() < 0.5;
        const secret = this.pick(SHARED);
        this.note(`mallory: merge of her orphan store (${first ? 'orphan as first parent' : 'trunk as first parent'}), taking .secretstore.yaml and secrets/${secret}`);
        const t = buildTree(m, head, [{ path: '.secretstore.yaml', from: this.orphan.tip }, { path: `secrets/${secret}`, from: this.orphan.tip }]);
        pushed(this.craft(t, first ? [this.orphan.tip, head] : [head, this.orphan.tip], "Merge branch 'tooling'"));
      }],
      [2, () => {
        this.note(`mallory: git push --force of the older ${old.slice(0, 10)}`);
        pushed(old, true);
      }],
      [1, () => {
        this.note(`mallory: history rewritten: trunk's tree on top of ${old.slice(0, 10)}, force-pushed`);
        pushed(this.craft(tree(head), [old], 'squash'), true);
      }],
      [secretsAtHead.length > 0 ? 2 : 0, () => {
        const name = this.pick(secretsAtHead);
        const doc = parseDocument(m.git(['show', `${head}:secrets/${name}/secret.yaml`]));
        const versions = Object.keys((doc.toJS() as { versions?: Record<string, string> }).versions ?? {});
        const target = this.pick(versions);
        doc.setIn(['labels', 'AWSCURRENT'], target);
        if (this.random() < 0.5) doc.set('rotation', { enabled: true, lambdaArn: 'touch attacker-ran', rules: { automaticallyAfterDays: 1 } });
        this.note(`mallory: hand edit of secrets/${name}/secret.yaml: AWSCURRENT -> ${target}`);
        pushed(this.craft(buildTree(m, head, [{ path: `secrets/${name}/secret.yaml`, content: doc.toString() }]), [head], `${name}: fix labels`));
      }],
      [2, () => {
        const doc = parseDocument(m.git(['show', `${head}:.secretstore.yaml`]));
        const what = this.pick(['add mallory', 'drop bob as writer', 'policy']);
        if (what === 'add mallory') {
          (doc.get('recipients') as YAMLSeq).add(doc.createNode({ name: 'mallory', publicKey: m.publicKey }));
          (doc.get('writers') as YAMLSeq).add(doc.createNode({ name: 'mallory', writerKey: m.writerKey }));
        } else if (what === 'drop bob as writer') {
          const writers = doc.get('writers') as YAMLSeq;
          const i = (writers.toJSON() as { name: string }[]).findIndex((w) => w.name === 'bob');
          if (i >= 0) writers.delete(i);
          else doc.setIn(['policy', 'pruneAbove'], 1);
        } else doc.setIn(['policy', 'pruneAbove'], 1);
        this.note(`mallory: hand edit of .secretstore.yaml: ${what}`);
        pushed(this.craft(buildTree(m, head, [{ path: '.secretstore.yaml', content: doc.toString() }]), [head], 'config: tidy'));
      }],
      [1, () => {
        this.note('mallory: edit of tools/rotate.sh (outside the store)');
        const script = `#!/bin/sh\n# step ${++this.seq}\ntouch attacker-ran\n`;
        pushed(this.craft(buildTree(m, head, [{ path: 'tools/rotate.sh', content: script, mode: '100755' }]), [head], 'tools: faster rotation'));
      }],
    ];
    let total = attacks.reduce((n, [w]) => n + w, 0) * this.random();
    for (const [w, run] of attacks) {
      total -= w;
      if (total <= 0) return run();
    }
  }

  // ------------------------------------------------------------------------------------------------

  async run(): Promise<void> {
    await this.setup();
    const every = this.opts.verifyEvery ?? 8;
    for (let i = 1; i <= this.opts.steps; i++) {
      const t0 = Date.now();
      if (this.random() < 0.35) await this.attack();
      else await this.honest();
      const t1 = Date.now();
      for (const c of this.clones) await this.checkClone(c);
      const t2 = Date.now();
      if (i % every === 0 || i === this.opts.steps) for (const c of this.clones) this.checkVerify(c);
      this.opts.log?.(`  (step ${i}: ${t1 - t0} ms, reads ${t2 - t1} ms, verify ${Date.now() - t2} ms)`);
    }
  }
}
