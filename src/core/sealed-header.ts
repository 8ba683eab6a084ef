/**
 * A sealed version file as a reviewer wants to see it in `git diff`: who it belongs to and who can open
 * it, not base64. Recipients are shown by their name in the store's config when it knows the key.
 */
import type { EnvelopeHeader } from '../crypto/envelope.js';
import type { StoreConfig } from '../model/store.js';

/**
 * Key -> name, from a config: recipients' public keys and writers' keys (the first name wins if a key is
 * listed twice; the two kinds of key never collide, their prefixes differ).
 */
export function recipientNames(config: Pick<StoreConfig, 'recipients' | 'writers'> | undefined): Map<string, string> {
  const names = new Map<string, string>();
  for (const r of config?.recipients ?? []) if (!names.has(r.publicKey)) names.set(r.publicKey, r.name);
  for (const w of config?.writers ?? []) if (!names.has(w.writerKey)) names.set(w.writerKey, w.name);
  return names;
}

export function renderSealedHeader(header: EnvelopeHeader, names: ReadonlyMap<string, string>): string {
  return [
    `# ${header.format} (sealed; the value is not shown)`,
    `secret: ${header.secret}`,
    `version: ${header.version}`,
    `type: ${header.type}`,
    `store: ${header.store}`,
    'recipients:',
    ...header.recipients.map((key) => `  - ${names.get(key) ?? key}`),
    // the writer whose keyed commitment the file carries (it can recognise its own retried put)
    ...(header.committedBy ? [`committed by: ${names.get(header.committedBy) ?? header.committedBy}`] : []),
    '',
  ].join('\n');
}
