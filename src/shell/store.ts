/**
 * The store client: finds the store, builds the operation context, runs an operation from the table,
 * and applies a mutating operation's plan as one git transaction. The CLI and the library both go
 * through `SecretStore.run`.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { operations, type InputOf, type OperationName, type OutputOf } from '../ops/table.js';
import type { OpContext } from '../ops/context.js';
import type { StoreConfig } from '../model/store.js';
import type { Identity } from '../crypto/types.js';
import type { IdentityKeys } from '../crypto/identity-file.js';
import type { PassphraseProvider } from '../crypto/passphrase.js';
import { CONFIG_FILE } from '../core/codec.js';
import { inspectLock } from './lock.js';
import { locateStore } from './location.js';
import type { ProgressFactory } from './progress.js';
import type { TrustOptions } from './trust.js';
import type { Plan, StoreLocation } from './types.js';
import { INDEX_FILE } from '../core/layout.js';
import { readTrustedConfig } from './config-trust.js';
import { loadCrypto, WorkTreeView } from './view.js';

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
   * Read secrets whose latest change is not signed by a trusted writer (the CLI's `--allow-unsigned`),
   * warning through `warn` (default: stderr) about each one let through. Writes still sign.
   */
  allowUnsigned?: boolean;
  warn?: (line: string) => void;
}

const ARN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class SecretStore {
  /** The identity file's keys, read (and decrypted) once per client (a long-running server keeps them in memory). */
  private keyCache?: Promise<IdentityKeys>;
  /** The stamp of `.secretstore.yaml` when `config` was read (see `refreshConfig`). */
  private configStamp: string;

  private constructor(
    readonly location: StoreLocation,
    private currentConfig: StoreConfig,
    configStamp: string,
    /** As given to `open`, with `env` filled in (workflows pass it on to the commands they run). */
    readonly options: OpenStoreOptions,
  ) {
    this.configStamp = configStamp;
  }

  static async open(options: OpenStoreOptions = {}): Promise<SecretStore> {
    const env = options.env ?? process.env;
    const location = locateStore({ store: options.store, cwd: options.cwd ?? process.cwd(), env });
    // Stamp first, then read: a change in between only costs one more read at the next refresh.
    const stamp = await configStamp(location.root);
    const trust = { allowUnsigned: options.allowUnsigned === true, ...(options.warn ? { warn: options.warn } : {}) };
    return new SecretStore(location, await readTrustedConfig(location, trust), stamp, { ...options, env });
  }

  /** `.secretstore.yaml` as read by `open` or the last `refreshConfig`. Writes re-read it inside the lock. */
  get config(): StoreConfig {
    return this.currentConfig;
  }

  /**
   * Re-reads `.secretstore.yaml` if it changed since it was read (mtime, size, inode): a long-running
   * client (the HTTP server) picks up a `git pull` without a restart. One stat when nothing changed.
   */
  async refreshConfig(): Promise<StoreConfig> {
    const stamp = await configStamp(this.location.root);
    if (stamp !== this.configStamp) {
      this.currentConfig = await readTrustedConfig(this.location, this.trust);
      this.configStamp = stamp;
    }
    return this.currentConfig;
  }

  /** Run one operation of the table by its API name. */
  async run<K extends OperationName>(name: K, input: InputOf<K>): Promise<OutputOf<K>> {
    const op = operations[name];
    const request = this.withToken(op.params, input as unknown as Record<string, unknown>) as never;
    if (!op.mutates) {
      // A writer killed mid-way leaves its journal in the lock: repair before reading (a stat otherwise).
      if (inspectLock(this.location.gitDir)?.stale) await (await import('./transaction.js')).recoverStale(this.location);
      return ((await op.run(this.context(), request)) as Plan<OutputOf<K>>).result;
    }
    if (op.workflow) return (await import('./workflows.js')).runWorkflow(this, name, request);
    // Secrets whose recovery window has passed are purged first, in a commit of their own.
    await (await import('./purge.js')).purgeExpired(this, this.now());
    return this.commit((ctx) => op.run(ctx, request) as Promise<Plan<OutputOf<K>>>);
  }

  /**
   * One transaction: `compute` reads through the context (inside the store lock) and returns the plan
   * that is then committed. Operations, purging and workflow steps all write through here.
   */
  async commit<T>(compute: (ctx: OpContext) => Promise<Plan<T>>): Promise<T> {
    const { transact } = await import('./transaction.js');
    // Re-read the configuration inside the lock: another writer may have changed it.
    return transact(this.location, async () => {
      const config = await readTrustedConfig(this.location, this.trust);
      const plan = await compute(this.context(config));
      if (plan.changes.length === 0) return plan;
      const { signChanges } = await import('./signing.js');
      const signer = (await this.keys()).signers[0];
      const signed = await signChanges({ location: this.location, config, signer, now: this.now() }, plan.changes);
      // The states this client writes need no replay check when it reads them (src/shell/replay.ts),
      // remembered now, as the next plan of a batch reads them before HEAD moves.
      const [{ remember }, { sha256Hex, splitSigned }] = await Promise.all([import('./replay.js'), import('../core/signature.js')]);
      for (const c of signed) if ('content' in c && c.path.endsWith(`/${INDEX_FILE}`)) remember(this.location, c.path, sha256Hex(splitSigned(String(c.content)).unsigned));
      return { ...plan, changes: signed };
      // Plans are computed from the work tree, so concurrent operations of this client may share one
      // hold of the lock, as consecutive commits (transaction.ts).
    }, { batch: true });
  }

  private withToken(params: readonly { member: string; idempotencyToken?: boolean }[], input: Record<string, unknown>) {
    if (this.options.generateTokens === false) return input;
    const token = params.find((p) => p.idempotencyToken)?.member;
    return token && input[token] === undefined ? { ...input, [token]: randomUUID() } : input;
  }

  private context(config = this.config): OpContext {
    const identities = () => this.identities();
    const keys = () => this.keys();
    const root = this.location.root;
    const view = new WorkTreeView(root, config, identities, this.options.progress, this.trust);
    return {
      store: view,
      now: this.now(),
      newArnSuffix: () => Array.from({ length: 6 }, () => ARN_ALPHABET[randomInt(ARN_ALPHABET.length)]).join(''),
      randomInt: async (upperBound) => (await import('../crypto/random.js')).randomInt(upperBound),
      seal: async (secretArn, versionId, value) => (await import('./sealing.js')).sealVersion(config, keys, secretArn, versionId, value),
      sameValue: async (index, versionId, value) => (await import('./sealing.js')).holdsValue(root, view, keys, index, versionId, value),
    };
  }

  /** Whether reads refuse files without a trusted signature (see OpenStoreOptions.allowUnsigned). */
  get trust(): TrustOptions {
    return { allowUnsigned: this.options.allowUnsigned === true, ...(this.options.warn ? { warn: this.options.warn } : {}) };
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
    const passphrase = this.options.passphrase ?? (async (request) => (await import('./passphrase.js')).askPassphrase(request, env));
    this.keyCache ??= (async () => (await loadCrypto()).readIdentityFile(await this.identityPath(), { passphrase }))().catch((err: unknown) => {
      this.keyCache = undefined; // a missing or unreadable identity file is read again next time
      throw err;
    });
    return this.keyCache;
  }

  private async identities(): Promise<readonly Identity[]> {
    return (await loadCrypto()).requireIdentities(await this.keys(), await this.identityPath());
  }
}

async function configStamp(root: string): Promise<string> {
  try {
    const st = await stat(join(root, CONFIG_FILE));
    return `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing'; // readConfig says what is wrong
  }
}
