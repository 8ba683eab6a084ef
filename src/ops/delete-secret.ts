import { InternalServiceError, InvalidParameterException, InvalidRequestException, ResourceNotFoundException } from '../errors.js';
import { secretArn } from '../core/arn.js';
import { indexPath, versionPath } from '../core/layout.js';
import { checkSecretId } from '../core/validate.js';
import { yamlLibrary, yamlValue } from '../core/yaml-value.js';
import type { DeleteSecretRequest, DeleteSecretResponse } from '../model/lifecycle.js';
import type { SecretIndex } from '../model/store.js';
import { findSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type FileChange, type Operation } from './context.js';
import { commitMessage } from './versions.js';

const DAY_MS = 86_400_000;

export const DeleteMessages = {
  windowRange: 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
  forceWithWindow: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
  alreadyScheduled: "You tried to perform the operation on a secret that's currently marked deleted.",
} as const;

/*
 * The purge registry: one small tracked file per scheduled secret, so a write finds the secrets due for
 * purging by listing one folder (cost grows with the number of scheduled secrets, not of secrets), and
 * delete-secret / restore-secret add or remove their entry without reading anyone else's: no
 * read-modify-write of a shared file, and no merge conflicts between clones scheduling different
 * secrets. The entry mirrors the secret's index path, so the layout's guarantees (injective, no case
 * collisions, `secret.yaml` never a folder name) carry over: `.secretstore/scheduled-deletions/
 * secrets/prod/db/secret.yaml` says "secret prod/db is scheduled". The secret's own `deletedDate` stays
 * the truth; the entry is an index of it.
 */
export const SCHEDULED_DIR = '.secretstore/scheduled-deletions';

export interface ScheduledEntry {
  readonly name: string;
  /** The planned purge time (ISO-8601), as in the secret's index. */
  readonly deletedDate: string;
}

export function scheduledPath(name: string): string {
  return `${SCHEDULED_DIR}/${indexPath(name)}`;
}

const SCHEDULED_HEADER = '# secretstore: scheduled for deletion; the first write or `secretstore prune` after deletedDate purges it\n';

export function scheduledChange(secret: Pick<SecretIndex, 'name' | 'deletedDate'>): FileChange {
  const entry = { name: secret.name, deletedDate: secret.deletedDate! };
  return { path: scheduledPath(secret.name), content: SCHEDULED_HEADER + yamlLibrary().stringify(entry, { lineWidth: 0, schema: 'core' }) };
}

/** Validated like every store file: damage is an InternalServiceError naming the file (store-relative path). */
export function parseScheduled(text: string, file: string): ScheduledEntry {
  const fail = (why: string): never => {
    throw new InternalServiceError(`${file} is damaged: ${why}`);
  };
  const read = yamlValue(text, { schema: 'core' });
  if ('problem' in read) return fail(read.problem);
  const { value } = read;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a YAML map');
  const { name, deletedDate, ...extra } = value as Record<string, unknown>;
  if (Object.keys(extra).length > 0) fail(`unknown field '${Object.keys(extra)[0]}'`);
  if (typeof name !== 'string' || name === '') fail("'name' must be a non-empty string");
  if (typeof deletedDate !== 'string' || Number.isNaN(Date.parse(deletedDate))) fail("'deletedDate' is not a timestamp");
  if (scheduledPath(name as string) !== file) fail(`it names secret '${String(name)}', whose entry belongs in ${scheduledPath(name as string)}`);
  return { name: name as string, deletedDate: new Date(deletedDate as string).toISOString() };
}

/** Every tracked file of a secret: its index and one sealed file per version (placeholders have none). */
export function secretFiles(secret: SecretIndex): FileChange[] {
  return [indexPath(secret.name), ...Object.keys(secret.versions).map((id) => versionPath(secret.name, id))].map(
    (path): FileChange => ({ path, delete: true }),
  );
}

/**
 * Spec 3.10. A scheduled delete sets `deletedDate` to the planned purge time (Decisions) and registers
 * the secret for purging; a forced delete removes the secret's files from the tree at once (history keeps
 * only ciphertext).
 */
export const deleteSecret: Operation<DeleteSecretRequest, DeleteSecretResponse> = {
  name: 'DeleteSecret',
  command: 'delete-secret',
  group: 'Deletion',
  summary: 'Schedule a secret for deletion after a recovery window, or delete it now.',
  mutates: true,
  example: 'secretstore delete-secret --secret-id MyTestDatabaseSecret --recovery-window-in-days 7',
  params: [
    SECRET_ID,
    { member: 'RecoveryWindowInDays', type: 'integer', help: 'Days (7-30) before the secret is purged; default from the store policy (30).' },
    { member: 'ForceDeleteWithoutRecovery', type: 'boolean', help: 'Delete now, with no recovery window.' },
  ],
  async run(ctx, input) {
    const secretId = checkSecretId(input.SecretId);
    const window = input.RecoveryWindowInDays;
    const force = input.ForceDeleteWithoutRecovery === true;
    // As moto: the range is checked even with ForceDeleteWithoutRecovery.
    if (window !== undefined && !(Number.isInteger(window) && window >= 7 && window <= 30)) {
      throw new InvalidParameterException(DeleteMessages.windowRange);
    }
    if (window !== undefined && force) throw new InvalidParameterException(DeleteMessages.forceWithWindow);

    let secret: SecretIndex;
    try {
      secret = await findSecret(ctx, secretId);
    } catch (err) {
      // AWS: a forced delete of a secret that does not exist succeeds (spec 8.6 #59).
      if (!(force && err instanceof ResourceNotFoundException)) throw err;
      const arn = secretId.startsWith('arn:') ? secretId : secretArn(ctx.store.config, secretId, ctx.newArnSuffix());
      return readOnly({ ARN: arn, Name: secretId, DeletionDate: ctx.now });
    }

    if (force) {
      const changes = secretFiles(secret);
      if (secret.deletedDate !== undefined) changes.push({ path: scheduledPath(secret.name), delete: true });
      const versions = Object.keys(secret.versions).length;
      return {
        result: { ARN: secret.arn, Name: secret.name, DeletionDate: ctx.now },
        changes,
        message: commitMessage('delete-secret', secret.name, 'deleted without recovery', [
          `arn: ${secret.arn}`,
          `removed: ${secret.name} and ${versions} version file(s)`,
        ]),
      };
    }

    if (secret.deletedDate !== undefined) throw new InvalidRequestException(DeleteMessages.alreadyScheduled);
    const days = window ?? ctx.store.config.policy.defaultRecoveryWindowInDays;
    const deletedDate = new Date(ctx.now.getTime() + days * DAY_MS).toISOString();
    const after: SecretIndex = { ...secret, deletedDate, lastChangedDate: ctx.now.toISOString() };
    return {
      result: { ARN: secret.arn, Name: secret.name, DeletionDate: new Date(deletedDate) },
      changes: [indexChange(after), scheduledChange(after)],
      message: commitMessage('delete-secret', secret.name, `scheduled for deletion on ${deletedDate}`, [
        `recovery window: ${days} day(s)`,
        `deletedDate: ${deletedDate}`,
      ]),
    };
  },
};
