/** ARNs and SecretId resolution (spec 2.4 and 2.5). */
import { Messages, ResourceNotFoundException } from '../errors.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';

const SUFFIX = /-[A-Za-z0-9]{6}$/;

export function secretArn(config: Pick<StoreConfig, 'region' | 'account'>, name: string, suffix: string): string {
  return `arn:aws:secretsmanager:${config.region}:${config.account}:secret:${name}-${suffix}`;
}

export function notFound(): never {
  throw new ResourceNotFoundException(Messages.secretNotFound);
}

/**
 * Resolve a name, full ARN or partial ARN to a secret. Faithful to AWS: a partial ARN whose name part
 * ends in `-` plus six characters is taken as a full ARN only, with no fall-back to the name.
 * Reads at most two index files, whatever the size of the store.
 */
export async function resolveSecretId(
  secretId: string,
  config: Pick<StoreConfig, 'region' | 'account'>,
  readSecret: (name: string) => Promise<SecretIndex | undefined>,
): Promise<SecretIndex> {
  if (!secretId.startsWith('arn:')) return (await readSecret(secretId)) ?? notFound();
  const prefix = `arn:aws:secretsmanager:${config.region}:${config.account}:secret:`;
  if (!secretId.startsWith(prefix)) notFound();
  const rest = secretId.slice(prefix.length);
  if (SUFFIX.test(rest)) {
    const full = await readSecret(rest.slice(0, -7));
    if (full?.arn === secretId) return full;
    notFound();
  }
  return (await readSecret(rest)) ?? notFound();
}

/** The secret name inside a full ARN (`...:secret:<name>-<6 characters>`); names hold no `:`. */
export function nameOfArn(arn: string): string {
  const at = arn.lastIndexOf(':secret:');
  return arn.slice(at + ':secret:'.length, -7);
}

/** The Region of a secret ARN (`arn:aws:secretsmanager:<region>:...`). */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}
