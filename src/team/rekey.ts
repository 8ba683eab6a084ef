/**
 * `secretstore recipients` and `writers`: changes to who can read and who may write, each one commit.
 * A recipient change re-wraps the file key of every version whose recipient set it changes, in the same
 * commit as `.secretstore.yaml`: every file is re-wrapped in memory first (one that cannot be opened
 * stops everything, naming it), and only then is anything written. Values are never decrypted; each
 * file key lives only inside `rewrapEnvelope` and is zeroed there.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE, serializeConfig } from '../core/codec.js';
import { versionPath } from '../core/layout.js';
import * as edit from '../core/recipients.js';
import { InvalidRequestException, ResourceNotFoundException } from '../errors.js';
import type { Identity } from '../crypto/types.js';
import type { RecipientEntry, Scope, StoreConfig } from '../model/store.js';
import type { OpContext } from '../ops/context.js';
import type { DescribeSecretResponse } from '../model/api.js';
import type { RotationDescription } from '../model/rotation.js';
import { noProgress, type ProgressFactory } from '../terminal/progress.js';
import type { SecretStore } from '../store/secret-store.js';
import type { FileChange } from '../model/repository.js';
import { loadCrypto } from '../crypto/load.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

export interface RecipientChangeResult {
  Name: string;
  /** Version files whose file key was sealed to a new recipient set. */
  RewrappedVersions: number;
  /** How many secrets those versions belong to. */
  RewrappedSecrets: number;
}

export interface RecipientRemoval extends RecipientChangeResult {
  /** Secrets with a version the removed recipient could open (from the files' headers, nothing decrypted). */
  CouldRead: string[];
}

interface Walk {
  changes: FileChange[];
  versions: number;
  secrets: number;
  /** Secrets with a version sealed to `watch`. */
  sealedTo: string[];
}

/**
 * Re-wraps, in memory, every version whose recipients differ from what `next` says they should be. The
 * current recipient stanzas are read from each file, so a store whose config was edited by hand is
 * brought in line too. Throws (naming the file) before anything is written.
 */
async function rewrapAll(
  ctx: OpContext,
  root: string,
  next: StoreConfig,
  identities: readonly Identity[],
  progress: ProgressFactory,
  watch?: string,
): Promise<Walk> {
  const crypto = await loadCrypto();
  const names = await ctx.store.listSecretNames();
  const parsed = new Map(next.recipients.map((r) => [r.publicKey, crypto.parseRecipient(r.publicKey)]));
  const walk: Walk = { changes: [], versions: 0, secrets: 0, sealedTo: [] };
  const bar = progress('re-key', names.length);
  try {
    for (const name of names) {
      bar.tick();
      const index = await ctx.store.readSecret(name);
      if (!index) continue;
      // Also for a secret without versions yet: its next put would have nobody to seal to
      const wanted = edit.requireRecipientsFor(next, name).map((r) => r.publicKey);
      const versionIds = Object.keys(index.versions);
      let touched = false;
      let exposed = false;
      for (const versionId of versionIds) {
        const path = versionPath(name, versionId);
        const text = await readFile(join(root, path), 'utf8');
        const header = crypto.readEnvelopeHeader(text, path);
        if (watch !== undefined && header.recipients.includes(watch)) exposed = true;
        if (edit.sameKeySet(header.recipients, wanted)) continue;
        const binding = { storeId: next.storeId, secretArn: index.arn, versionId };
        const content = crypto.rewrapEnvelope(text, binding, identities, wanted.map((k) => parsed.get(k)!), path);
        walk.changes.push({ path, content });
        walk.versions++;
        touched = true;
      }
      if (touched) walk.secrets++;
      if (exposed) walk.sealedTo.push(name);
    }
  } finally {
    bar.done();
  }
  return walk;
}

/** The decryption keys a re-key needs; a clear error for a write-only writer's identity. */
async function decryptionKeys(store: SecretStore): Promise<readonly Identity[]> {
  const { identities } = await store.keys();
  if (identities.length === 0) {
    throw new InvalidRequestException(
      `identity file ${await store.identityPath()} holds no decryption key (a write-only writer's); only a recipient can re-wrap the store's file keys`,
    );
  }
  return identities;
}

function describe(entry: RecipientEntry): string {
  return `${entry.name} ${entry.publicKey}${entry.scope ? ` (scope: ${entry.scope.join(', ')})` : ''}`;
}

/** One commit: the new config and every re-wrapped version file. */
async function changeRecipients(
  store: SecretStore,
  change: (config: StoreConfig) => { next: StoreConfig; subject: string; detail: string; watch?: string },
  progress: ProgressFactory,
): Promise<{ walk: Walk; subject: string }> {
  const identities = await decryptionKeys(store);
  return store.commit(async (ctx) => {
    const { next, subject, detail, watch } = change(ctx.store.config);
    const walk = await rewrapAll(ctx, store.location.root, next, identities, progress, watch);
    const message =
      `recipients ${subject}: re-wrapped ${walk.versions} version(s) of ${walk.secrets} secret(s)\n\n${detail}\n` +
      'values unchanged: each version file keeps its nonce and payload; only its file key was sealed again\n';
    // `rekey` keeps the file as it is (a hand-edited one keeps its comments); nothing to do is no commit
    const config: FileChange[] = next === ctx.store.config ? [] : [{ path: CONFIG_FILE, content: serializeConfig(next) }];
    return { result: { walk, subject }, changes: [...config, ...walk.changes], message };
  });
}

export async function addRecipient(
  store: SecretStore,
  opts: { name: string; publicKey: string; scope?: Scope },
  progress: ProgressFactory = noProgress,
): Promise<RecipientChangeResult> {
  // Checksum first: nothing is read or written for a mistyped key
  const publicKey = (await loadCrypto()).parseRecipient(opts.publicKey).publicKey;
  const { walk } = await changeRecipients(
    store,
    (config) => {
      const next = edit.addRecipient(config, opts.name, publicKey, opts.scope);
      return { next, subject: `add ${opts.name}`, detail: `added recipient: ${describe(next.recipients.at(-1)!)}` };
    },
    progress,
  );
  return { Name: opts.name, RewrappedVersions: walk.versions, RewrappedSecrets: walk.secrets };
}

export async function removeRecipient(store: SecretStore, name: string, progress: ProgressFactory = noProgress): Promise<RecipientRemoval> {
  const { walk } = await changeRecipients(
    store,
    (config) => {
      const { config: next, removed } = edit.removeRecipient(config, name);
      return { next, subject: `remove ${name}`, detail: `removed recipient: ${describe(removed)}`, watch: removed.publicKey };
    },
    progress,
  );
  return { Name: name, RewrappedVersions: walk.versions, RewrappedSecrets: walk.secrets, CouldRead: walk.sealedTo };
}

export interface Offboarding extends RecipientRemoval {
  /** Whether the person was a recipient, a writer, or both (one commit removes both). */
  WasRecipient: boolean;
  WasWriter: boolean;
}

/**
 * Off-boarding in one commit: the person's recipient and writer entries go, every version sealed to them
 * is re-wrapped without them, and the secrets they could read are listed (values they already read stay
 * known to them: rotate those). What they signed while trusted stays valid: it was authorised then.
 */
export async function offboard(store: SecretStore, name: string, progress: ProgressFactory = noProgress): Promise<Offboarding> {
  let wasRecipient = false;
  let wasWriter = false;
  const { walk } = await changeRecipients(
    store,
    (config) => {
      const recipient = config.recipients.find((r) => r.name === name);
      const writer = config.writers.find((w) => w.name === name);
      if (recipient === undefined && writer === undefined) throw new ResourceNotFoundException(`${name} is neither a recipient nor a writer of this store`);
      wasRecipient = recipient !== undefined;
      wasWriter = writer !== undefined;
      let next = recipient ? edit.removeRecipient(config, name).config : config;
      if (writer) next = edit.removeWriter(next, name);
      const lines = [...(recipient ? [`removed recipient: ${describe(recipient)}`] : []), ...(writer ? [`removed writer: ${writer.name} ${writer.writerKey}`] : [])];
      return { next, subject: `offboard ${name}`, detail: lines.join('\n'), ...(recipient ? { watch: recipient.publicKey } : {}) };
    },
    progress,
  );
  return { Name: name, WasRecipient: wasRecipient, WasWriter: wasWriter, RewrappedVersions: walk.versions, RewrappedSecrets: walk.secrets, CouldRead: walk.sealedTo };
}

export async function setRecipientScope(
  store: SecretStore,
  name: string,
  scope: Scope | undefined,
  progress: ProgressFactory = noProgress,
): Promise<RecipientChangeResult> {
  const { walk } = await changeRecipients(
    store,
    (config) => {
      const next = edit.setRecipientScope(config, name, scope);
      const entry = next.recipients.find((r) => r.name === name)!;
      return { next, subject: `set-scope ${name}`, detail: `recipient: ${describe(entry)}` };
    },
    progress,
  );
  return { Name: name, RewrappedVersions: walk.versions, RewrappedSecrets: walk.secrets };
}

/** Re-wraps to the configuration as it stands (after a hand edit or a merge of `.secretstore.yaml`). */
export async function rekeyStore(store: SecretStore, progress: ProgressFactory = noProgress): Promise<Omit<RecipientChangeResult, 'Name'>> {
  const { walk } = await changeRecipients(store, (config) => ({ next: config, subject: 'rekey', detail: 'to the recipients of .secretstore.yaml' }), progress);
  return { RewrappedVersions: walk.versions, RewrappedSecrets: walk.secrets };
}

/** Writers change only the configuration: signing keys seal nothing, so there is nothing to re-wrap. */
export async function changeWriters(
  store: SecretStore,
  op: { add: { name: string; writerKey: string; scope?: Scope } } | { remove: string },
): Promise<{ Name: string; WriterKey: string }> {
  const key = 'add' in op ? (await loadCrypto()).parseWriterKey(op.add.writerKey).publicKey : undefined;
  return store.commit(async (ctx) => {
    const config = ctx.store.config;
    let next: StoreConfig;
    let entry;
    if ('add' in op) {
      next = edit.addWriter(config, op.add.name, key!, op.add.scope);
      entry = next.writers.at(-1)!;
    } else {
      entry = config.writers.find((w) => w.name === op.remove);
      next = edit.removeWriter(config, op.remove);
    }
    const verb = 'add' in op ? 'add' : 'remove';
    const scope = entry!.scope ? ` (scope: ${entry!.scope.join(', ')})` : '';
    return {
      result: { Name: entry!.name, WriterKey: entry!.writerKey },
      changes: [{ path: CONFIG_FILE, content: serializeConfig(next) }],
      message: `writers ${verb} ${entry!.name}\n\n${verb === 'add' ? 'added' : 'removed'} writer: ${entry!.name} ${entry!.writerKey}${scope}\n`,
    };
  });
}

export interface RotationOutcome {
  Rotated: string[];
  /** No rotation configured, or scheduled for deletion: a person must put a new value. */
  RotateByHand: { Name: string; Command: string }[];
  Failed: { Name: string; Error: string }[];
}

const quote = (s: string) => (/^[\w./@+=-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/**
 * After a removal: rotate each secret the removed recipient could read that has rotation configured;
 * the others are listed with the command to put a new value by hand (inventing a value nobody asked
 * for would break the applications that use it).
 */
export async function rotateExposed(store: SecretStore, names: readonly string[]): Promise<RotationOutcome> {
  const out: RotationOutcome = { Rotated: [], RotateByHand: [], Failed: [] };
  for (const name of names) {
    // describeFields adds the rotation fields when rotation is configured (spec 3.5)
    const d: DescribeSecretResponse & RotationDescription = await store.run('DescribeSecret', { SecretId: name });
    if (d.DeletedDate !== undefined) {
      out.RotateByHand.push({ Name: name, Command: `secretstore restore-secret --secret-id ${quote(name)}, then rotate it` });
    } else if (d.RotationLambdaARN === undefined) {
      out.RotateByHand.push({ Name: name, Command: `secretstore put-secret-value --secret-id ${quote(name)} --secret-string -` });
    } else {
      try {
        await store.run('RotateSecret', { SecretId: name });
        out.Rotated.push(name);
      } catch (err) {
        out.Failed.push({ Name: name, Error: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
      }
    }
  }
  return out;
}
