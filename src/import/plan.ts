/**
 * Many secrets in one commit: one plan built from the table's own operations (create-secret for a new
 * name, get-secret-value to compare, put-secret-value for a changed value), applied as one transaction.
 * A value already current is skipped: compared by decrypting it, never through a stored hash of it.
 */
import { randomUUID } from 'node:crypto';
import { InvalidParameterException, SecretsManagerError } from '../errors.js';
import { createSecret } from '../ops/create-secret.js';
import { getSecretValue } from '../ops/get-secret-value.js';
import { putSecretValue } from '../ops/put-secret-value.js';
import type { FileChange, OpContext } from '../ops/context.js';
import type { SecretStore } from '../store/secret-store.js';
import type { ImportEntry } from './sources.js';

export interface ImportResult {
  /** Names of the secrets created (or that would be, with a dry run). */
  Created: string[];
  /** Names that got (or would get) a new AWSCURRENT version. */
  Updated: string[];
  /** Names whose current value already equals the source. */
  Skipped: string[];
  DryRun: boolean;
}

function sameValue(a: ImportEntry['value'], b: { SecretString?: string; SecretBinary?: Uint8Array }): boolean {
  if ('SecretString' in a) return b.SecretString === a.SecretString;
  return b.SecretBinary !== undefined && Buffer.from(a.SecretBinary).equals(Buffer.from(b.SecretBinary));
}

/** An operation's error with the secret it was about in front (the AWS message alone would not say which). */
function naming<T>(name: string, work: () => Promise<T>): Promise<T> {
  return work().catch((err: unknown) => {
    if (err instanceof SecretsManagerError) {
      const named = new (err.constructor as new (message: string) => SecretsManagerError)(`${name}: ${err.message}`);
      throw named;
    }
    throw err;
  });
}

async function planImport(ctx: OpContext, entries: readonly ImportEntry[], dryRun: boolean) {
  const result: ImportResult = { Created: [], Updated: [], Skipped: [], DryRun: dryRun };
  const changes: FileChange[] = [];
  for (const { name, value } of entries) {
    await naming(name, async () => {
      const existing = await ctx.store.readSecret(name);
      if (existing === undefined) {
        result.Created.push(name);
        if (!dryRun) changes.push(...(await createSecret.run(ctx, { Name: name, ...value, ClientRequestToken: randomUUID() })).changes);
        return;
      }
      // A secret created without a value has no AWSCURRENT to compare: it gets its first version.
      const current = existing.labels.AWSCURRENT === undefined ? {} : (await getSecretValue.run(ctx, { SecretId: name })).result;
      if (sameValue(value, current)) {
        result.Skipped.push(name);
        return;
      }
      result.Updated.push(name);
      if (!dryRun) changes.push(...(await putSecretValue.run(ctx, { SecretId: name, ...value, ClientRequestToken: randomUUID() })).changes);
    });
  }
  const lines = [...result.Created.map((n) => `created: ${n}`), ...result.Updated.map((n) => `updated: ${n}`)];
  const message = `import: ${result.Created.length} created, ${result.Updated.length} updated, ${result.Skipped.length} unchanged\n\n${lines.join('\n')}\n`;
  return { result, changes, message };
}

/** Imports the entries in one commit (none when nothing changes, or with `dryRun`). */
export async function importSecrets(store: SecretStore, entries: readonly ImportEntry[], opts: { dryRun?: boolean } = {}): Promise<ImportResult> {
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (seen.has(name)) throw new InvalidParameterException(`the source names ${name} twice`);
    seen.add(name);
  }
  const dryRun = opts.dryRun === true;
  if (!dryRun) await (await import('../store/purge.js')).purgeExpired(store, store.now());
  return store.commit((ctx) => planImport(ctx, entries, dryRun));
}
