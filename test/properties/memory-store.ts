/**
 * The real operations of the table over a store held in memory: the same plans, the same codec for
 * `secret.yaml` and `.secretstore.yaml`, real libsodium sealing and opening; only git and the work tree
 * are left out, so a property can run hundreds of operation sequences in a second. A plan's changes are
 * applied only when the operation succeeds, as the transaction does.
 */
import { randomUUID } from 'node:crypto';
import { parseConfig, parseSecretIndex, serializeConfig } from '../../src/core/codec.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, versionPath } from '../../src/core/layout.js';
import { cryptoReady } from '../../src/crypto/sodium.js';
import { generateIdentity, identityFromText, parseRecipient, signerFromText } from '../../src/crypto/keys.js';
import { openValue, sealValue } from '../../src/crypto/envelope.js';
import type { Identity, Recipient, Signer } from '../../src/crypto/types.js';
import { DEFAULT_POLICY, type Policy, type SecretIndex, type StoreConfig } from '../../src/model/store.js';
import { sameValue } from '../../src/model/value.js';
import type { OpContext, StoreView } from '../../src/ops/context.js';
import { operations, type InputOf, type OperationName, type OutputOf } from '../../src/ops/table.js';

export interface Keys {
  readonly identity: Identity;
  readonly signer: Signer;
  readonly recipient: Recipient;
}

/** A fresh identity (X25519 + Ed25519), as `secretstore keygen` makes one. */
export async function makeKeys(): Promise<Keys> {
  await cryptoReady();
  const generated = generateIdentity();
  const [secretLine, signingLine] = generated.identityText.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  return {
    identity: identityFromText(secretLine!, 'memory identity'),
    signer: signerFromText(signingLine!, 'memory identity'),
    recipient: parseRecipient(generated.publicKey!),
  };
}

export function configFor(keys: Keys, policy: Partial<Policy> = {}): StoreConfig {
  const config: StoreConfig = {
    format: 1,
    storeId: 'memory-store-0001',
    region: 'us-east-1',
    account: '000000000000',
    recipients: [{ name: 'tester', publicKey: keys.recipient.publicKey }],
    writers: [{ name: 'tester', writerKey: keys.signer.publicKey }],
    policy: { ...DEFAULT_POLICY, ...policy },
  };
  // Through the codec, as a store reads it.
  return parseConfig(serializeConfig(config), '.secretstore.yaml');
}

export class MemoryStore {
  readonly files = new Map<string, string>();
  private clock = Date.parse('2026-12-06T12:00:00.000Z');

  readonly view: StoreView;

  constructor(
    readonly config: StoreConfig,
    private readonly keys: Keys,
  ) {
    this.view = this.makeView();
  }

  /** Each operation happens one second after the last, so version ages are distinct. */
  private tick(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }

  private makeView(): StoreView {
    return {
      config: this.config,
      readSecret: async (name) => {
        const text = this.files.get(indexPath(name));
        return text === undefined ? undefined : parseSecretIndex(text, indexPath(name));
      },
      openVersion: async (index, versionId) => {
        const path = versionPath(index.name, versionId);
        const binding = { storeId: this.config.storeId, secretArn: index.arn, versionId };
        return openValue(this.files.get(path) ?? '', binding, [this.keys.identity], path);
      },
      listSecretNames: async () => (await this.view.listSecretSummaries()).map((s) => s.name).sort(),
      listSecretSummaries: async () =>
        [...this.files.entries()]
          .filter(([path]) => path.startsWith(`${SECRETS_DIR}/`) && path.endsWith(`/${INDEX_FILE}`))
          .map(([path, text]) => {
            const { versions: _v, placeholders: _p, ...summary } = parseSecretIndex(text, path);
            return summary;
          }),
    };
  }

  context(): OpContext {
    return {
      store: this.view,
      now: this.tick(),
      seal: async (secretArn, versionId, value) =>
        sealValue(value, { storeId: this.config.storeId, secretArn, versionId }, [this.keys.recipient], this.keys.signer),
      sameValue: async (index: SecretIndex, versionId, value) => sameValue(await this.view.openVersion(index, versionId), value),
      newArnSuffix: () => randomUUID().replace(/-/g, '').slice(0, 6),
      randomInt: async (upperBound) => Math.floor(Math.random() * upperBound),
      // No repository files here: a rotation command pins nothing and nothing it names is checked.
      pinCommand: async () => ({}),
      checkPins: async () => undefined,
    };
  }

  /** One operation; its plan's changes are applied only if it succeeds (a failure changes nothing). */
  async run<K extends OperationName>(name: K, input: InputOf<K>): Promise<OutputOf<K>> {
    const plan = await (operations[name].run as (ctx: OpContext, input: InputOf<K>) => Promise<{ result: OutputOf<K>; changes: readonly { path: string; content?: unknown; delete?: true }[] }>)(
      this.context(),
      input,
    );
    for (const change of plan.changes) {
      if ('delete' in change && change.delete) this.files.delete(change.path);
      else this.files.set(change.path, String(change.content));
    }
    return plan.result;
  }

  /** A store with the same files and clock, to run a case on without changing this one. */
  copy(): MemoryStore {
    const twin = new MemoryStore(this.config, this.keys);
    for (const [path, text] of this.files) twin.files.set(path, text);
    twin.clock = this.clock;
    return twin;
  }

  async index(name: string): Promise<SecretIndex | undefined> {
    return this.view.readSecret(name);
  }
}

/**
 * A store holding SEEDED_NAMES: `fuzz/a` with three versions (AWSCURRENT, AWSPREVIOUS and one
 * deprecated), `fuzz/empty` without a value, `fuzz/deleted` scheduled for deletion.
 */
export async function seededStore(keys: Keys): Promise<MemoryStore> {
  const store = new MemoryStore(configFor(keys), keys);
  const token = (n: number) => `seeded-version-${n}`.padEnd(36, '0');
  await store.run('CreateSecret', { Name: 'fuzz/a', SecretString: 'one', ClientRequestToken: token(1) });
  await store.run('PutSecretValue', { SecretId: 'fuzz/a', SecretString: 'two', ClientRequestToken: token(2) });
  await store.run('PutSecretValue', { SecretId: 'fuzz/a', SecretBinary: new Uint8Array([3]), ClientRequestToken: token(3) });
  await store.run('CreateSecret', { Name: 'fuzz/empty' });
  await store.run('CreateSecret', { Name: 'fuzz/deleted', SecretString: 'gone', ClientRequestToken: token(4) });
  await store.run('DeleteSecret', { SecretId: 'fuzz/deleted', RecoveryWindowInDays: 7 });
  return store;
}
