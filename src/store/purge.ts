/**
 * Purging secrets whose recovery window has passed (spec Decisions, DeletedDate): the first write or
 * `secretstore prune` after a secret's purge time removes its files, in a commit of its own named
 * `purge: ...`, before doing its own work. Until then reads treat the secret as not found (findSecret).
 *
 * It must stay cheap, since it runs before every write: it lists the purge registry that delete-secret
 * and restore-secret keep (`.secretstore/scheduled-deletions/`, one small file per scheduled secret, see
 * src/ops/delete-secret.ts), so its cost grows with the number of scheduled secrets, never with the store.
 * In the common case the folder does not exist and the check is one failed readdir.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { INDEX_FILE } from '../core/layout.js';
import type { StoreView } from '../ops/context.js';
import { parseScheduled, scheduledChange, scheduledPath, SCHEDULED_DIR, secretFiles, type ScheduledEntry } from '../ops/delete-secret.js';
import type { SecretStore } from './secret-store.js';
import type { FileChange, Plan } from '../model/repository.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

type Reader = Pick<StoreView, 'readSecret' | 'listSecretNames'>;
/** Runs `compute` as one transaction (inside the store lock) and returns its result. */
export type Committer = (compute: (view: Reader) => Promise<Plan<string[]>>) => Promise<string[]>;

function missing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The registry's entries. `racy`: read outside the lock, where an entry may vanish under us. */
async function readEntries(root: string, racy: boolean): Promise<ScheduledEntry[]> {
  let files: string[];
  // A stat first: a recursive readdir costs a good part of a millisecond even when the folder is missing.
  if (!existsSync(join(root, SCHEDULED_DIR))) return [];
  try {
    files = await readdir(join(root, SCHEDULED_DIR), { recursive: true });
  } catch (err) {
    if (missing(err)) return [];
    throw err;
  }
  const entries: ScheduledEntry[] = [];
  for (const file of files.map((f) => f.split(sep).join('/')).sort()) {
    // Only entries: a writer's temp files (`.secret.yaml.secretstore-tmp`) and folders are not.
    if (file !== INDEX_FILE && !file.endsWith(`/${INDEX_FILE}`)) continue;
    const path = `${SCHEDULED_DIR}/${file}`;
    let text: string;
    try {
      text = await readFile(join(root, path), 'utf8');
    } catch (err) {
      if (racy && missing(err)) continue;
      throw err;
    }
    entries.push(parseScheduled(text, path));
  }
  return entries;
}

const isDue = (deletedDate: string | undefined, now: Date) => deletedDate !== undefined && Date.parse(deletedDate) <= now.getTime();

/**
 * `everything`: also look at every secret, not only the registry's entries (prune walks the store anyway,
 * so it also purges a secret whose deletedDate was set by hand without an entry).
 */
async function planPurge(root: string, view: Reader, now: Date, everything: boolean): Promise<Plan<string[]>> {
  const changes: FileChange[] = [];
  const lines: string[] = [];
  const purged: string[] = [];
  const registered = new Set<string>();
  const looked = new Set<string>();
  for (const entry of await readEntries(root, false)) {
    registered.add(entry.name);
    if (!isDue(entry.deletedDate, now)) continue;
    looked.add(entry.name);
    const secret = await view.readSecret(entry.name);
    if (!secret || !isDue(secret.deletedDate, now)) {
      // The secret's own deletedDate is the truth: an entry it does not back (a hand edit, a merge) is corrected, never obeyed.
      changes.push(secret?.deletedDate !== undefined ? scheduledChange(secret) : { path: scheduledPath(entry.name), delete: true });
      lines.push(`registry entry corrected: ${entry.name}`);
      continue;
    }
    purged.push(secret.name);
  }
  for (const name of everything ? await view.listSecretNames() : []) {
    if (!looked.has(name) && isDue((await view.readSecret(name))?.deletedDate, now)) purged.push(name);
  }
  for (const name of purged.sort()) {
    const secret = (await view.readSecret(name))!;
    changes.push(...secretFiles(secret));
    if (registered.has(name)) changes.push({ path: scheduledPath(name), delete: true });
    const versions = Object.keys(secret.versions).length;
    lines.push(`purged: ${secret.name} (${secret.arn}), recovery window ended ${secret.deletedDate}, ${versions} version file(s)`);
  }
  const title = purged.length === 0 ? 'registry corrected' : purged.length === 1 ? `${purged[0]} past its recovery window` : `${purged.length} secrets past their recovery window`;
  return { result: purged, changes, message: `purge: ${title}\n\n${lines.join('\n')}\n` };
}

/** Purge every scheduled secret due at `now` through `commit`; the names purged. */
export async function purgeWith(root: string, now: Date, commit: Committer, everything = false): Promise<string[]> {
  // Outside the lock, a look at the registry decides whether a transaction is needed at all;
  // inside it, the registry and each secret are read again before anything is removed.
  if (!everything && !(await readEntries(root, true)).some((e) => isDue(e.deletedDate, now))) return [];
  return commit((view) => planPurge(root, view, now, everything));
}

/** Called by SecretStore.run before every write. */
export async function purgeExpired(store: SecretStore, now: Date): Promise<void> {
  await purgeWith(store.location.root, now, (compute) => store.commit((ctx) => compute(ctx.store)));
}
