/**
 * The store client: finds the store, builds the operation context, runs an operation from the table,
 * and applies a mutating operation's plan as one git transaction. The CLI and the library both go
 * through `SecretStore.run`.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { checkMembers } from '../ops/members.js';
import { operations, type InputOf, type OperationName, type OutputOf } from '../ops/table.js';
import type { OpContext } from '../ops/context.js';
import type { StoreConfig } from '../model/store.js';
import type { Identity } from '../crypto/types.js';
import type { UnwrapCache } from '../crypto/unwrap-cache.js';
import type { IdentityKeys } from '../crypto/identity-file.js';
import type { PassphraseProvider } from '../crypto/passphrase.js';
import { CONFIG_FILE, parseConfigAsync } from '../core/codec.js';
import { loadYaml } from '../core/yaml-value.js';
import { InternalServiceError, InvalidRequestException } from '../errors.js';
import { Authenticator } from '../trust/authenticate.js';
import { headFromFiles, headStamp } from '../trust/records.js';
import { inspectLock, lockPath } from './lock.js';
import { locateStore } from './location.js';
import { ObjectReader } from '../git/objects.js';
import type { ProgressFactory } from '../terminal/progress.js';
import type { Plan, StoreLocation } from '../model/repository.js';
import { CommitView, refuseLinkEntry } from './commit-view.js';
import { loadCrypto } from '../crypto/load.js';

export interface OpenStoreOptions {
  /** The store folder; default `$SECRETSTORE_DIR`, else the git top level of `cwd`. */
  store?: string;
  /** The identity file; default `$SECRETSTORE_IDENTITY`, else `$XDG_CONFIG_HOME/secretstore/identity`. */
  identity?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The clock, injectable for tests. */
  now?: () => Date;
  /** Generate a missing ClientRequestToken as the SDKs do (default true; a raw protocol server turns it off). */
  generateTokens?: boolean;
  /** Progress of long reads (a cold list-secrets); the CLI draws it on a terminal, others draw none. */
  progress?: ProgressFactory;
  /** The passphrase of a protected identity file; default: $SECRETSTORE_PASSPHRASE, $SECRETSTORE_ASKPASS, the terminal. */
  passphrase?: PassphraseProvider;
  /**
   * Read a store whose history does not authenticate (the CLI's `--allow-unsigned`), warning through
   * `warn` (default: stderr). Writes never do: they always start from an authenticated commit.
   */
  allowUnsigned?: boolean;
  warn?: (line: string) => void;
  /**
   * Where the keys of the identity file at `path` come from; `read` reads (and decrypts) the file. Default:
   * read once per client. The agent passes a cache that outlives clients (src/agent/keys.ts).
   */
  identityKeys?: (path: string, read: () => Promise<IdentityKeys>) => Promise<IdentityKeys>;
}

/** The commit reads are made at, and its configuration. */
interface Snapshot {
  readonly commit: string;
  readonly config: StoreConfig;
  /** Whether the commit authenticated (false only when --allow-unsigned let it through). */
  readonly authentic: boolean;
}

/** What every client of one store in a process shares (see `withOptions`): warm caches. */
interface Shared {
  /** File keys unwrapped before (src/crypto/unwrap-cache.ts), made when crypto is first loaded. */
  unwrapped?: UnwrapCache;
  /** Parsed configurations by blob id (a blob never changes), so a commit that keeps it parses nothing. */
  readonly configs: Map<string, StoreConfig>;
}

const MAX_CONFIGS = 64;

const ARN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class SecretStore {
  /** The identity file's keys, read (and decrypted) once per client (a long-running server keeps them in memory). */
  private keyCache?: Promise<IdentityKeys>;
  /** HEAD's file-system stamp when `snapshot` was last checked against it (see `refreshConfig`). */
  private headSeen?: string;
  /** The identities of `keyCache`, wrapped to remember what they unwrap (see `identities`). */
  private identityCache?: { keys: Promise<IdentityKeys>; identities: Promise<readonly Identity[]> };
  /** Commits this client made whose plan left `.secretstore.yaml` as its parent had it: that configuration. */
  private readonly madeConfigs = new Map<string, StoreConfig>();

  private constructor(
    readonly location: StoreLocation,
    /** One `git cat-file --batch` for every read of this client. */
    readonly objects: ObjectReader,
    readonly trust: Authenticator,
    private snapshot: Snapshot,
    /** As given to `open`, with `env` filled in (workflows pass it on to the commands they run). */
    readonly options: OpenStoreOptions,
    private readonly shared: Shared = { configs: new Map() },
  ) {}

  static async open(options: OpenStoreOptions = {}): Promise<SecretStore> {
    const env = options.env ?? process.env;
    const location = locateStore({ store: options.store, cwd: options.cwd ?? process.cwd(), env });
    const objects = new ObjectReader(location.repoRoot, env);
    const trust = new Authenticator(location, objects, env, warner(options));
    const shared: Shared = { configs: new Map() };
    try {
      const snapshot = await readSnapshot(location, trust, options, shared);
      return new SecretStore(location, objects, trust, snapshot, { ...options, env }, shared);
    } catch (err) {
      objects.close();
      trust.close();
      throw err;
    }
  }

  /** Ends the git processes this client keeps (a CLI command's end; a long-lived client keeps them). */
  close(): void {
    this.objects.close();
    this.trust.close();
    this.shared.unwrapped?.clear();
  }

  /**
   * The same store for another caller's options (the agent keeps one client per store and identity and
   * serves each request with its own environment, folder and output): the git processes and the
   * authenticated commit are kept, and HEAD is checked again.
   */
  async withOptions(options: OpenStoreOptions): Promise<SecretStore> {
    const next = new SecretStore(this.location, this.objects, this.trust, this.snapshot, { ...options, env: options.env ?? process.env }, this.shared);
    // The snapshot comes with the HEAD stamp it was checked at: an unchanged HEAD costs a stat, not a git round trip.
    next.headSeen = this.headSeen;
    await next.refreshConfig();
    return next;
  }

  /** `.secretstore.yaml` of the commit reads are made at. Writes re-read it inside the lock. */
  get config(): StoreConfig {
    return this.snapshot.config;
  }

  /** The authenticated commit reads are made at. */
  get commitId(): string {
    return this.snapshot.commit;
  }

  /**
   * Moves to HEAD if it moved (a long-running client, the HTTP server, picks up a `git pull` or another
   * writer's commit without a restart): a few stats when nothing changed, and when HEAD moved, its ref
   * file read (or one `cat-file` round trip).
   */
  async refreshConfig(): Promise<StoreConfig> {
    const stamp = headStamp(this.location.gitDir);
    if (stamp !== undefined && stamp === this.headSeen) return this.snapshot.config;
    const head = headFromFiles(this.location.gitDir) ?? (await this.objects.read('HEAD'))?.oid;
    if (head !== this.snapshot.commit) this.snapshot = await readSnapshot(this.location, this.trust, this.options, this.shared);
    this.headSeen = stamp;
    return this.snapshot.config;
  }

  /**
   * Run one operation of the table by its API name. `refreshed`: the caller has just called
   * `refreshConfig` (the server, for the region it authenticates with), so a read need not again.
   */
  async run<K extends OperationName>(name: K, input: InputOf<K>, { refreshed = false }: { readonly refreshed?: boolean } = {}): Promise<OutputOf<K>> {
    const op = operations[name];
    // Every client's requests meet the same member type check last (the library's only one).
    checkMembers(name, input as unknown as Record<string, unknown>);
    const request = this.withToken(op.params, input as unknown as Record<string, unknown>) as never;
    if (!op.mutates) {
      // A writer killed mid-way leaves its journal in the lock: repair before reading (a stat otherwise).
      if (statSync(lockPath(this.location.gitDir), { throwIfNoEntry: false }) && inspectLock(this.location.gitDir)?.stale) await (await import('./transaction.js')).recoverStale(this.location);
      // Another writer (a CLI, a pull) may have moved HEAD since: a few stats when it has not.
      if (!refreshed) await this.refreshConfig();
      return ((await op.run(this.context(), request)) as Plan<OutputOf<K>>).result;
    }
    if (op.workflow) return (await import('./workflows.js')).runWorkflow(this, name, request);
    // Secrets whose recovery window has passed are purged first, in a commit of their own.
    await (await import('./purge.js')).purgeExpired(this, this.now());
    return this.commit((ctx) => op.run(ctx, request) as Promise<Plan<OutputOf<K>>>);
  }

  /**
   * One transaction: inside the store lock, HEAD is authenticated (writes never start from anything
   * else, --allow-unsigned or not), `compute` reads that commit through the context and returns the
   * plan, and the plan is committed signed by the identity's writer key, which must be authorised by
   * HEAD's configuration for everything the plan touches. Operations, purging and workflow steps all
   * write through here.
   */
  async commit<T>(compute: (ctx: OpContext) => Promise<Plan<T>>, opts: { readonly adopt?: readonly string[] } = {}): Promise<T> {
    // Writes serialize store files (and may read hand-edited ones): they load the yaml package, reads do not.
    const [{ transact }, { commitSignerFor, planChanges }] = await Promise.all([import('./transaction.js'), import('../trust/sign-commit.js'), loadYaml()]);
    let base: Snapshot | undefined;
    let plan: Plan<T> | undefined;
    let made: string | undefined;
    const result = await transact(
      this.location,
      async (at) => {
        base = await this.snapshotAt(at.commit, at.unlanded);
        plan = await compute(this.context(base));
        return plan;
      },
      {
        // Plans read the commit they are computed at, so concurrent operations of this client may share
        // one hold of the lock as consecutive commits (transaction.ts); hand edits are taken alone.
        batch: opts.adopt === undefined,
        sign: async (draft) => {
          // The compare-and-swap moves HEAD from the commit the plan was computed at, or nothing happens.
          if (draft.parents[0] !== base!.commit) throw new InternalServiceError('HEAD moved while secretstore was committing; nothing was committed, try again');
          const signer = (await this.keys()).signers[0];
          const indexAtParent = async (path: string) => (await this.objects.read(`${base!.commit}:${this.location.prefix}${path}`))?.content.toString('utf8');
          return (await commitSignerFor(base!.config, signer, () => planChanges(plan!.changes, indexAtParent)))(draft);
        },
        made: (commit, objects, unwritten) => {
          // The next plan of a batch reads this commit (while git may still be writing it): its trees and
          // blobs, and (unless the plan changed it) the configuration of the commit it was computed at.
          this.objects.expect(commit, unwritten);
          for (const { spec, obj } of objects) this.objects.prime(spec, obj);
          if (!plan!.changes.some((c) => c.path === CONFIG_FILE)) this.madeConfigs.set(commit, base!.config);
          if (this.madeConfigs.size > MAX_CONFIGS) this.madeConfigs.delete(this.madeConfigs.keys().next().value!);
        },
        committed: (commit, head) => {
          // The branch's record moves once per batch, to its last commit (each record is a rename).
          this.trust.wrote(commit, commit === head ? undefined : null);
          made = head;
        },
        ...(opts.adopt ? { adopt: opts.adopt } : {}),
      },
    );
    // Reads that follow see this write: the new commit (authenticated by construction: this client signed
    // it, and `wrote` remembered it) and its configuration. The next read checks HEAD again.
    if (made !== undefined) this.snapshot = await this.madeSnapshot(made);
    else if (base) this.snapshot = base;
    return result;
  }

  /** A commit this client made (signed by it, so authentic) as the snapshot reads are made at. */
  private async madeSnapshot(commit: string): Promise<Snapshot> {
    const config = this.madeConfigs.get(commit) ?? (await configAt(this.location, this.trust, commit, this.shared));
    if (config === undefined) throw new InvalidRequestException(`${this.location.root} is not a secretstore (no ${CONFIG_FILE} committed); run secretstore init`);
    return { commit, config, authentic: true };
  }

  /**
   * The snapshot a plan is computed at: HEAD, authenticated and checked never to go backwards; or, for a
   * later transaction of a batch, the commit this client made just before under the same hold of the lock
   * (transaction.ts), signed by it and not yet HEAD.
   */
  private async snapshotAt(commit: string | undefined, unlanded = false): Promise<Snapshot> {
    // HEAD (read inside the lock) is still the commit reads are made at, which this client authenticated
    // or made itself: a long-lived client's write after its own write checks nothing again.
    if (commit !== undefined && commit === this.snapshot.commit && this.snapshot.authentic) return this.snapshot;
    // The previous commit of this batch (not HEAD yet): this client made and signed it, so it is authentic.
    // (HEAD itself is always judged: it may have been rewound to an older commit of ours.)
    if (commit !== undefined && unlanded && this.madeConfigs.has(commit)) return this.madeSnapshot(commit);
    if (commit === (await this.trust.headCommit())) return readSnapshot(this.location, this.trust, { ...this.options, allowUnsigned: false }, this.shared);
    if (commit === undefined) throw new InvalidRequestException(`${this.location.root} is not a secretstore (no ${CONFIG_FILE} committed); run secretstore init`);
    return this.madeSnapshot(commit);
  }

  private withToken(params: readonly { member: string; idempotencyToken?: boolean }[], input: Record<string, unknown>) {
    if (this.options.generateTokens === false) return input;
    const token = params.find((p) => p.idempotencyToken)?.member;
    return token && input[token] === undefined ? { ...input, [token]: randomUUID() } : input;
  }

  /** A read-only view of the commit reads are made at (rotate-due's scan). */
  view(progress = this.options.progress): CommitView {
    return new CommitView(this.location, this.snapshot.commit, this.snapshot.config, this.objects, () => this.identities(), progress);
  }

  private context(snapshot: Snapshot = this.snapshot): OpContext {
    const identities = () => this.identities();
    const keys = () => this.keys();
    const { config } = snapshot;
    const view = new CommitView(this.location, snapshot.commit, config, this.objects, identities, this.options.progress);
    return {
      store: view,
      now: this.now(),
      newArnSuffix: () => Array.from({ length: 6 }, () => ARN_ALPHABET[randomInt(ARN_ALPHABET.length)]).join(''),
      randomInt: async (upperBound) => (await import('../crypto/random.js')).randomInt(upperBound),
      pinCommand: async (command) => (await import('./rotation-pins.js')).pinCommand(this.location, command),
      checkPins: async (secret, command, pins) => (await import('./rotation-pins.js')).checkPins(this.location, secret, command, pins),
      seal: async (secretArn, versionId, value) => (await import('./sealing.js')).sealVersion(config, keys, secretArn, versionId, value),
      sameValue: async (index, versionId, value) => (await import('./sealing.js')).holdsValue(view, keys, index, versionId, value),
    };
  }

  now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The path of the identity file this client uses. */
  async identityPath(): Promise<string> {
    const crypto = await loadCrypto();
    return crypto.resolveIdentityPath({ flag: this.options.identity, env: this.options.env ?? process.env });
  }

  /** Decryption and signing keys of the identity file. */
  keys(): Promise<IdentityKeys> {
    const env = this.options.env ?? process.env;
    const passphrase = this.options.passphrase ?? (async (request) => (await import('../terminal/passphrase.js')).askPassphrase(request, env));
    this.keyCache ??= (async () => {
      const path = await this.identityPath();
      const read = async () => (await loadCrypto()).readIdentityFile(path, { passphrase });
      return this.options.identityKeys ? this.options.identityKeys(path, read) : read();
    })().catch((err: unknown) => {
      this.keyCache = undefined; // a missing or unreadable identity file is read again next time
      throw err;
    });
    return this.keyCache;
  }

  /**
   * The identity file's decryption keys, once per read of the file: wrapped so that a sealed file key
   * opened before is not opened again (one X25519 operation less per read of a long-lived client).
   */
  private identities(): Promise<readonly Identity[]> {
    const keys = this.keys();
    if (this.identityCache?.keys !== keys) {
      const identities = (async () => {
        const crypto = await loadCrypto();
        const unwrapped = (this.shared.unwrapped ??= new crypto.UnwrapCache());
        return crypto.requireIdentities(await keys, await this.identityPath()).map((identity) => unwrapped.wrap(identity));
      })();
      this.identityCache = { keys, identities };
    }
    return this.identityCache.identities;
  }
}

function warner(options: OpenStoreOptions): (line: string) => void {
  return options.warn ?? ((line) => process.stderr.write(`${line}\n`));
}

/**
 * HEAD, authenticated, and its configuration. With --allow-unsigned (reads only), a HEAD that does not
 * authenticate is read anyway, with a warning that says why.
 */
async function readSnapshot(loc: StoreLocation, trust: Authenticator, options: OpenStoreOptions, shared: Shared): Promise<Snapshot> {
  let commit: string | undefined;
  let authentic = true;
  try {
    commit = (await trust.head())?.commit;
  } catch (err) {
    if (!options.allowUnsigned || !(err instanceof InvalidRequestException)) throw err;
    warner(options)(`warning: ${err.message.replace(/; refusing to read or write it.*$/, '')}; read anyway because of --allow-unsigned`);
    commit = await trust.headCommit();
    authentic = false;
  }
  const notStore = `${loc.root} is not a secretstore (no ${CONFIG_FILE} committed); run secretstore init`;
  if (commit === undefined) throw new InvalidRequestException(notStore);
  const config = await configAt(loc, trust, commit, shared);
  if (config === undefined) throw new InvalidRequestException(notStore);
  return { commit, config, authentic };
}

/** `.secretstore.yaml` of `commit`, parsed once per blob; undefined when the commit has none. */
async function configAt(loc: StoreLocation, trust: Authenticator, commit: string, shared: Shared): Promise<StoreConfig | undefined> {
  const blob = await trust.objectsReader.read(`${commit}:${loc.prefix}${CONFIG_FILE}`);
  if (blob === undefined) return undefined;
  await refuseLinkEntry(trust.objectsReader, `${commit}:${loc.prefix}`, CONFIG_FILE, `${loc.prefix}${CONFIG_FILE}`, 'the configuration file');
  let config = shared.configs.get(blob.oid);
  if (config === undefined) {
    config = await parseConfigAsync(blob.content.toString('utf8'), `${loc.prefix}${CONFIG_FILE}`);
    if (shared.configs.size >= MAX_CONFIGS) shared.configs.clear();
    shared.configs.set(blob.oid, config);
  }
  return config;
}
