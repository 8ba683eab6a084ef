/**
 * Authenticated history (docs/trust.md): whether a commit's store was made by trusted writers, all the
 * way back to this clone's trust root, and whether a branch only ever moves forward.
 *
 * The rules are pure (src/core/authorise.ts, src/core/commit-signature.ts); this file gathers the facts
 * from git: each new commit's parents, signature and store state, the parent's policy, and, only when a
 * rule needs them, the secrets a commit changed or secretstore's own merge of a merge's parents.
 * Authenticated commits are marked per clone (src/trust/records.ts), so a read of a store whose HEAD was
 * seen before costs one stat, and a pull costs a walk over the new commits only.
 *
 * May import: core/, model/, crypto/ (lazily), git/client.ts, git/objects.ts, trust/. The store's reads
 * and writes call it; it never calls them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import { authorise, emptyState, secretFolderOf, refusalText, sameState, shortCommit, shortKey, type StoreChanges, type StoreState } from '../core/authorise.js';
import { CONFIG_FILE, parseConfigAsync, parseSecretIndexAsync } from '../core/codec.js';
import { loadYaml } from '../core/yaml-value.js';
import { findSignature, mergePreference, parseCommitObject, payload, type CommitObject } from '../core/commit-signature.js';
import { INDEX_FILE, SECRETS_DIR } from '../core/layout.js';
import type { StoreConfig } from '../model/store.js';
import { GitCommandError } from '../git/env.js';
import type { Git } from '../git/client.js';
import { ObjectReader } from '../git/objects.js';
import type { StoreLocation } from '../model/repository.js';
import { currentBranch, TrustRecords, type TrustRoot } from './records.js';
import { storeMergeMatches } from './store-merge.js';

export const META_DIR = '.secretstore';

export type Verdict =
  | { readonly ok: true; readonly writer?: string }
  | {
      readonly ok: false;
      /** The first commit on the way that was refused. */
      readonly commit: string;
      /** Completes "commit <id> ...": one line. */
      readonly why: string;
    };

const OK: Verdict = { ok: true };

/** Where the store's history starts being trusted, and how the head was reached. */
export interface HeadState {
  readonly commit: string;
  readonly branch?: string;
}

export class Authenticator {
  readonly records: TrustRecords;
  private readonly env: NodeJS.ProcessEnv;
  private client?: Git;
  private readonly check: ObjectReader;
  private readonly verdicts = new Map<string, Verdict>();
  private readonly configs = new Map<string, StoreConfig | undefined>();
  private rootCache?: TrustRoot;

  constructor(
    readonly loc: StoreLocation,
    private readonly objects: ObjectReader,
    env: NodeJS.ProcessEnv = process.env,
    /** Where the first-use notice goes (stderr by default). */
    private readonly warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    /** A root for this client only (`verify --root`), instead of the clone's record. */
    rootOverride?: TrustRoot,
  ) {
    this.rootCache = rootOverride;
    this.records = new TrustRecords(loc);
    this.env = env;
    this.check = new ObjectReader(loc.repoRoot, env, 'check');
  }

  close(): void {
    this.check.close();
  }

  /** simple-git, loaded only when a history walk needs it (a read of a remembered commit never does). */
  private async git(): Promise<Git> {
    this.client ??= (await import('../git/client.js')).openGit(this.loc.repoRoot, this.env);
    return this.client;
  }

  private async runGit(args: readonly string[]): Promise<string> {
    return (await this.git()).run(args);
  }

  /** The object reader this authenticator reads commits and blobs with (shared with the store's reads). */
  get objectsReader(): ObjectReader {
    return this.objects;
  }

  /**
   * HEAD's commit, authenticated and no older on its branch than this clone has seen; refuses otherwise
   * (InvalidRequestException, one line). undefined on an unborn branch (nothing committed yet).
   */
  async head(): Promise<HeadState | undefined> {
    for (;;) {
      const obj = await this.objects.read('HEAD');
      if (obj === undefined) return undefined;
      if (obj.type !== 'commit') throw new InvalidRequestException('HEAD does not name a commit');
      const commit = obj.oid;
      const branch = currentBranch(this.loc.gitDir);
      await this.require(commit, branch ? `HEAD of ${branch}` : 'HEAD');
      if (branch !== undefined) {
        // Never backwards: a branch's head must descend from the newest commit this clone read or wrote on it.
        const rewound = await this.rewound(branch, commit);
        if (rewound !== undefined) {
          // A writer may have moved HEAD, and recorded its new head, since HEAD was read here: then the
          // HEAD of now is judged. A rewind leaves HEAD where it put it, and is refused.
          if ((await this.headCommit()) !== commit) continue;
          throw new InvalidRequestException(rewound);
        }
        // Recorded already: a read of an unchanged store writes nothing.
        if (this.records.head(branch) !== commit) this.records.replaceHead(branch, commit);
      }
      return { commit, ...(branch ? { branch } : {}) };
    }
  }

  /** HEAD's commit id, unchecked (undefined on an unborn branch). */
  async headCommit(): Promise<string | undefined> {
    const obj = await this.objects.read('HEAD');
    return obj?.type === 'commit' ? obj.oid : undefined;
  }

  /** `.secretstore.yaml` of a commit, as text; undefined when it has none. */
  async configText(commit: string): Promise<string | undefined> {
    return (await this.objects.read(`${commit}:${this.loc.prefix}${CONFIG_FILE}`))?.content.toString('utf8');
  }

  /** Refuses `commit` unless it is authentic. */
  async require(commit: string, what: string): Promise<void> {
    const verdict = await this.authenticate(commit);
    if (verdict.ok) return;
    const at = verdict.commit === commit ? `commit ${shortCommit(commit)}` : `commit ${shortCommit(verdict.commit)} (in the history of ${shortCommit(commit)})`;
    throw new InvalidRequestException(`${what}: ${at} ${verdict.why}; refusing to read or write it (secretstore verify lists every finding)`);
  }

  /**
   * Records a commit this clone made (already signed by a trusted writer) and moves its branch record
   * (`branch` null: only the mark, for a commit a later one of the same batch moves the record past).
   */
  wrote(commit: string, branch: string | null | undefined = currentBranch(this.loc.gitDir)): void {
    this.records.mark([commit]);
    this.verdicts.set(commit, OK);
    // A commit made just now cannot be the record yet: no read to compare.
    if (branch !== undefined && branch !== null) this.records.replaceHead(branch, commit);
  }

  /** Why `commit` would take `branch` backwards from what this clone has seen on it; undefined when it does not. */
  async rewound(branch: string, commit: string): Promise<string | undefined> {
    const seen = this.records.head(branch);
    if (seen === undefined || seen === commit || (await this.isAncestor(seen, commit))) return undefined;
    return (
      `HEAD of ${branch} (${shortCommit(commit)}) does not descend from ${shortCommit(seen)}, the newest state this clone has read on that branch: ` +
      `a force-push or reset rolled the store back; if that was intended, run secretstore trust --accept-rewind (it lists what is lost)`
    );
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    try {
      await this.runGit(['merge-base', '--is-ancestor', a, b]);
      return true;
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode === 1) return false;
      if (err instanceof GitCommandError && /Not a valid|bad object|not a valid/i.test(err.stderr)) return false;
      throw err;
    }
  }

  /** The trust root: pinned, or found on first use (and then remembered and announced). */
  async root(from = 'HEAD'): Promise<TrustRoot> {
    if (this.rootCache) return this.rootCache;
    const pinned = this.records.root();
    if (pinned) return (this.rootCache = pinned);
    if (existsSync(join(this.loc.gitDir, 'shallow'))) {
      throw new InvalidRequestException(
        'this is a shallow clone, so its history does not reach the store\'s first commit: fetch deeper (git fetch --unshallow) or pin a trust root inside it with secretstore trust --root COMMIT --key KEY',
      );
    }
    // Two unrelated introductions of the configuration (a foreign history merged in): first use cannot tell which is the team's.
    const introductions = (await this.runGit(['rev-list', '--no-merges', '--diff-filter=A', from, '--', `${this.loc.prefix}${CONFIG_FILE}`]).catch(() => ''))
      .split('\n')
      .filter(Boolean);
    if (introductions.length > 1) {
      throw new InvalidRequestException(
        `this history introduces ${this.loc.prefix}${CONFIG_FILE} ${introductions.length} times (${introductions.map(shortCommit).join(', ')}: a foreign history merged in?), so trusting on first use is unsafe: pin the root your team gave you with secretstore trust --root COMMIT --key KEY`,
      );
    }
    const found = await this.firstSignedConfig(from);
    if (found === undefined) {
      throw new InvalidRequestException(
        `no commit of this history signs ${this.loc.prefix}${CONFIG_FILE} by a writer it names, so there is no trust root: a store made by an older secretstore needs secretstore trust migrate (run by a writer), a store of your team needs secretstore trust --root COMMIT --key KEY with values you got from them`,
      );
    }
    const root: TrustRoot = { commit: found.commit, key: found.key, how: 'tofu' };
    this.records.setRoot(root);
    this.warn(
      `secretstore: trusting commit ${shortCommit(root.commit)} (signed by ${found.writer}) as this store's root on first use; ` +
        `check it with your team and pin it: secretstore trust --root ${root.commit} --key ${root.key}`,
    );
    return (this.rootCache = root);
  }

  /** The oldest commit on the first-parent chain that changes the configuration and is signed by an unscoped writer it names. */
  private async firstSignedConfig(from: string): Promise<{ commit: string; key: string; writer: string } | undefined> {
    const out = await this.runGit(['rev-list', '--first-parent', '--reverse', from, '--', `${this.loc.prefix}${CONFIG_FILE}`]).catch(() => '');
    for (const commit of out.split('\n').filter(Boolean)) {
      const signed = await this.selfSigned(commit);
      if (signed) return { commit, ...signed };
    }
    return undefined;
  }

  /** The signer of `commit` when its signature holds and its own configuration lists the key as an unscoped writer. */
  private async selfSigned(commit: string, key?: string): Promise<{ key: string; writer: string } | undefined> {
    const obj = await this.commitObject(commit);
    const sig = findSignature(obj.message);
    if (!sig || (key !== undefined && sig.key.toLowerCase() !== key.toLowerCase())) return undefined;
    const config = await this.configAt(commit);
    const writer = config?.writers.find((w) => w.scope === undefined && w.writerKey.toLowerCase() === sig.key.toLowerCase());
    if (writer === undefined && key === undefined) return undefined;
    if (!(await this.verify(sig.key, obj, sig.sig))) return undefined;
    return { key: sig.key, writer: writer?.name ?? shortKey(sig.key) };
  }

  /** Whether `commit` is authentic; walks only commits not marked yet. */
  async authenticate(target: string): Promise<Verdict> {
    if (this.records.isMarked(target)) return OK;
    const known = this.verdicts.get(target);
    if (known) return known;
    const root = await this.root(target);
    if (target === root.commit) return this.checkRoot(root);
    const tips = [root.commit, ...this.records.heads().map((h) => h.commit).filter((c) => this.records.isMarked(c))];
    await this.walk(target, tips, root);
    return this.verdicts.get(target) ?? (await this.outside(target, root));
  }

  /**
   * Judges every commit of `target` not reachable from `exclude`, parents first, and returns them with
   * their verdicts (verify reports each refused one; reads only need the target's).
   */
  async walk(target: string, exclude: readonly string[], root?: TrustRoot): Promise<[string, Verdict][]> {
    root ??= await this.root(target);
    const out = await this.runGit(['rev-list', '--topo-order', '--reverse', '--parents', '--ignore-missing', target, '--not', ...exclude]);
    const judged: [string, Verdict][] = [];
    for (const line of out.split('\n').filter(Boolean)) {
      const [commit, ...parents] = line.split(' ') as [string, ...string[]];
      const verdict = commit === root.commit ? await this.checkRoot(root) : this.verdicts.get(commit) ?? (await this.judge(commit, parents, root));
      this.verdicts.set(commit, verdict);
      if (verdict.ok) this.records.mark([commit]);
      judged.push([commit, verdict]);
    }
    return judged;
  }

  /** The writer whose signature makes `commit` authentic, if it is authentic and signed. */
  async signerName(commit: string): Promise<string | undefined> {
    const obj = await this.commitObject(commit).catch(() => undefined);
    const sig = obj && findSignature(obj.message);
    if (!obj || !sig || !(await this.authenticate(commit)).ok) return undefined;
    const policy = obj.parents[0] === undefined ? await this.configAt(commit) : await this.configAt(obj.parents[0]);
    return policy?.writers.find((w) => w.writerKey.toLowerCase() === sig.key.toLowerCase())?.name;
  }

  private async checkRoot(root: TrustRoot): Promise<Verdict> {
    const signed = await this.selfSigned(root.commit, root.key);
    const verdict: Verdict = signed
      ? { ok: true, writer: signed.writer }
      : { ok: false, commit: root.commit, why: `is this clone's trust root but is not signed by ${root.key ? shortKey(root.key) : 'a writer its configuration names'}` };
    this.verdicts.set(root.commit, verdict);
    if (verdict.ok) this.records.mark([root.commit]);
    return verdict;
  }

  /** A parent the walk did not list: marked, the root, before the root, or a commit never checked. */
  private async parentVerdict(parent: string, root: TrustRoot): Promise<Verdict> {
    const known = this.verdicts.get(parent);
    if (known) return known;
    if (this.records.isMarked(parent)) return OK;
    if (parent === root.commit) return this.checkRoot(root);
    return this.outside(parent, root);
  }

  /** A commit outside the walk: before the root (fine only with no store in it), or judged on its own. */
  private async outside(commit: string, root: TrustRoot): Promise<Verdict> {
    let verdict: Verdict;
    if (await this.isAncestor(commit, root.commit)) {
      verdict = emptyState(await this.state(commit))
        ? OK
        : { ok: false, commit, why: `is older than this clone's trust root ${shortCommit(root.commit)}, so its store is not authenticated` };
      this.verdicts.set(commit, verdict);
      return verdict;
    }
    // Hidden under a marked tip without being checked itself (a parent a signed merge vouched for).
    const out = await this.runGit(['rev-list', '--topo-order', '--reverse', '--parents', commit, '--not', root.commit]);
    for (const line of out.split('\n').filter(Boolean)) {
      const [c, ...parents] = line.split(' ') as [string, ...string[]];
      if (this.verdicts.has(c)) continue;
      const v = await this.judge(c, parents, root);
      this.verdicts.set(c, v);
      if (v.ok) this.records.mark([c]);
    }
    verdict = this.verdicts.get(commit) ?? { ok: false, commit, why: 'does not descend from this clone\'s trust root' };
    this.verdicts.set(commit, verdict);
    return verdict;
  }

  /** The rules of docs/trust.md for one commit whose parents were judged already. */
  private async judge(commit: string, parents: readonly string[], root: TrustRoot): Promise<Verdict> {
    const state = await this.state(commit);
    if (parents.length === 0) {
      if (emptyState(state)) return OK;
      const shallow = existsSync(join(this.loc.gitDir, 'shallow'));
      return {
        ok: false,
        commit,
        why: shallow
          ? 'is where this shallow clone\'s history is cut off, above the trust root: fetch deeper (git fetch --unshallow) or pin a root inside the history with secretstore trust --root'
          : `is a root commit of another history that brings store content (this clone's trust root is ${shortCommit(root.commit)})`,
      };
    }
    const p1 = parents[0]!;
    const first = await this.parentVerdict(p1, root);
    const firstState = await this.state(p1);
    if (parents.length === 1 && sameState(state, firstState)) return first;
    const obj = await this.commitObject(commit);
    const sig = findSignature(obj.message);
    if (!first.ok) return first;
    if (sig !== undefined) {
      const policy = await this.configAt(p1);
      if (policy === undefined) return { ok: false, commit, why: `changes the store, but its parent ${shortCommit(p1)} has no ${CONFIG_FILE} whose writers could authorise it` };
      if (!(await this.verify(sig.key, obj, sig.sig))) {
        return { ok: false, commit, why: `carries a signature by ${shortKey(sig.key)} that does not match the commit (changed, rebased or amended after it was signed)` };
      }
      const auth = await authorise(policy.writers, sig.key, () => this.changes(p1, commit));
      return auth.ok ? { ok: true, writer: auth.writer.name } : { ok: false, commit, why: refusalText(auth, sig.key) };
    }
    if (sameState(state, firstState)) return OK; // an unsigned merge that brings nothing into the store
    if (parents.length === 2) {
      const p2 = parents[1]!;
      const second = await this.parentVerdict(p2, root);
      if (!second.ok) {
        return { ok: false, commit, why: `is an unsigned merge that brings in store content from ${shortCommit(p2)}, which is not authenticated (${shortCommit(second.commit)} ${second.why})` };
      }
      const policy = await this.configAt(p1);
      // The preference a merge was made with is named by its trailer; a plain `git pull` writes none, so
      // each one is tried: whichever it was, the result only chooses between authenticated changes.
      const named = mergePreference(obj.message);
      // a merge is re-done from its parents' (possibly hand-edited) files, which needs the yaml package
      if (policy !== undefined) await loadYaml();
      for (const prefer of policy === undefined ? [] : named ? [named] : [undefined, 'newest', 'ours', 'theirs']) {
        const check = { commit, ours: p1, theirs: p2, policy: policy!.policy, ...(prefer ? { prefer } : {}) };
        if (await storeMergeMatches(await this.git(), this.objects, this.loc.prefix, check)) return OK;
      }
      return { ok: false, commit, why: 'is an unsigned merge whose store is not what secretstore\'s merge of its parents gives (hand-made, or changed in the merge)' };
    }
    return {
      ok: false,
      commit,
      why:
        parents.length > 1
          ? 'is an unsigned merge of more than two parents that changes the store'
          : 'changes the store without a writer\'s signature (a plain commit by someone without a writer key, or a hand edit; a writer can sign it with secretstore sign)',
    };
  }

  /** What `commit` changes against `parent`: store-wide files, and the names of the secrets touched. */
  private async changes(parent: string, commit: string): Promise<StoreChanges> {
    const p = this.loc.prefix;
    const out = await this.runGit(['diff-tree', '-r', '-z', '--name-only', '--no-renames', parent, commit, '--', `${p}${CONFIG_FILE}`, `${p}${META_DIR}`, `${p}${SECRETS_DIR}`]);
    let storeWide = false;
    const folders = new Set<string>();
    for (const full of out.split('\0').filter(Boolean)) {
      const folder = secretFolderOf(full.slice(p.length));
      if (folder === undefined) storeWide = true;
      else folders.add(folder);
    }
    const names: string[] = [];
    for (const folder of folders) {
      const spec = (c: string) => `${c}:${p}${folder}/${INDEX_FILE}`;
      const blob = (await this.objects.read(spec(commit))) ?? (await this.objects.read(spec(parent)));
      if (blob === undefined) {
        storeWide = true; // files of no secret: only an unscoped writer may touch them
        continue;
      }
      try {
        names.push((await parseSecretIndexAsync(blob.content.toString('utf8'), `${folder}/${INDEX_FILE}`)).name);
      } catch {
        storeWide = true;
      }
    }
    return { storeWide, secrets: names };
  }

  async state(commit: string): Promise<StoreState> {
    const p = this.loc.prefix;
    const [config, secrets, meta] = await this.check.readMany([`${commit}:${p}${CONFIG_FILE}`, `${commit}:${p}${SECRETS_DIR}`, `${commit}:${p}${META_DIR}`]);
    return { ...(config ? { config: config.oid } : {}), ...(secrets ? { secrets: secrets.oid } : {}), ...(meta ? { meta: meta.oid } : {}) };
  }

  async commitObject(commit: string): Promise<CommitObject> {
    const obj = await this.objects.read(commit);
    if (obj === undefined || obj.type !== 'commit') throw new InvalidRequestException(`${shortCommit(commit)} is not a commit of this repository`);
    return parseCommitObject(obj.content.toString('utf8'));
  }

  /** `.secretstore.yaml` at a commit, parsed (cached by blob id); undefined when there is none or it is damaged. */
  async configAt(commit: string): Promise<StoreConfig | undefined> {
    const blob = await this.objects.read(`${commit}:${this.loc.prefix}${CONFIG_FILE}`);
    if (blob === undefined) return undefined;
    if (!this.configs.has(blob.oid)) {
      let config: StoreConfig | undefined;
      try {
        config = await parseConfigAsync(blob.content.toString('utf8'), CONFIG_FILE);
      } catch {
        config = undefined;
      }
      this.configs.set(blob.oid, config);
    }
    return this.configs.get(blob.oid);
  }

  private async verify(key: string, obj: CommitObject, sig: Uint8Array): Promise<boolean> {
    const { loadCrypto } = await import('../crypto/load.js');
    const crypto = await loadCrypto();
    try {
      return crypto.parseWriterKey(key).verify(payload(obj.tree, obj.parents, obj.message), sig);
    } catch {
      return false;
    }
  }
}

