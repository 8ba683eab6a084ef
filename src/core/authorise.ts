/**
 * The pure rules of authenticated history (docs/trust.md): what a commit changes in the store, and
 * whether a writer of the parent's policy may sign that change. The shell (src/trust/authenticate.ts)
 * gathers the facts from git and applies these rules commit by commit.
 */
import { INDEX_FILE, SECRETS_DIR, VERSIONS_DIR } from './layout.js';
import { inScope, type WriterEntry } from '../model/store.js';

const SCHEDULED_PREFIX = '.secretstore/scheduled-deletions/';

/**
 * The secret folder a store path belongs to: `secrets/<folder>/secret.yaml`, `secrets/<folder>/versions/<file>`
 * and the folder's deletion record under `.secretstore/scheduled-deletions/` all give `secrets/<folder>`;
 * anything else (the configuration, other store files) gives undefined: a store-wide change.
 */
export function secretFolderOf(path: string): string | undefined {
  if (path.startsWith(SCHEDULED_PREFIX)) path = path.slice(SCHEDULED_PREFIX.length);
  if (!path.startsWith(`${SECRETS_DIR}/`)) return undefined;
  if (path.endsWith(`/${INDEX_FILE}`)) return path.slice(0, -INDEX_FILE.length - 1);
  const marker = path.lastIndexOf(`/${VERSIONS_DIR}/`);
  return marker > 0 ? path.slice(0, marker) : undefined;
}

/** The object ids of the store's three top-level entries in one commit (undefined: absent). */
export interface StoreState {
  readonly config?: string;
  readonly secrets?: string;
  readonly meta?: string;
}

export function sameState(a: StoreState, b: StoreState): boolean {
  return a.config === b.config && a.secrets === b.secrets && a.meta === b.meta;
}

export function emptyState(s: StoreState): boolean {
  return s.config === undefined && s.secrets === undefined && s.meta === undefined;
}

/** What a commit changes, as far as authorisation cares. */
export interface StoreChanges {
  /** `.secretstore.yaml`, or anything under `.secretstore/` that belongs to no one secret. */
  readonly storeWide: boolean;
  /** The names of the secrets whose files changed (their index, versions or deletion record). */
  readonly secrets: readonly string[];
}

export type Refusal =
  | { readonly reason: 'not-a-writer' }
  | { readonly reason: 'scoped'; readonly writer: string }
  | { readonly reason: 'out-of-scope'; readonly writer: string; readonly secret: string };

export type Authorisation = { readonly ok: true; readonly writer: WriterEntry } | ({ readonly ok: false } & Refusal);

/** A refusal as the rest of a line about the commit ("commit abc ..."). */
export function refusalText(r: Refusal, key: string): string {
  switch (r.reason) {
    case 'not-a-writer':
      return `is signed by ${shortKey(key)}, which is not a writer in its parent's .secretstore.yaml`;
    case 'scoped':
      return `changes the store configuration, but its signer ${r.writer} is a scoped writer`;
    case 'out-of-scope':
      return `changes secret '${r.secret}', outside the scope of its signer ${r.writer}`;
  }
}

/**
 * The writer entry of `writers` that authorises `key` to make `changes`: an unscoped entry may change
 * anything, a scoped one only secrets in its scope. `changes` is asked for only when every entry of the
 * key is scoped (finding secret names costs a diff).
 */
export async function authorise(writers: readonly WriterEntry[], key: string, changes: () => Promise<StoreChanges>): Promise<Authorisation> {
  const k = key.trim().toLowerCase();
  const entries = writers.filter((w) => w.writerKey.trim().toLowerCase() === k);
  if (entries.length === 0) return { ok: false, reason: 'not-a-writer' };
  const unscoped = entries.find((w) => w.scope === undefined);
  if (unscoped) return { ok: true, writer: unscoped };
  const c = await changes();
  if (c.storeWide) return { ok: false, reason: 'scoped', writer: entries[0]!.name };
  for (const name of c.secrets) {
    if (!entries.some((w) => inScope(w.scope, name))) return { ok: false, reason: 'out-of-scope', writer: entries[0]!.name, secret: name };
  }
  return { ok: true, writer: entries[0]! };
}

/** A key shown in messages: enough to recognise, never more than a line's worth of untrusted text. */
export function shortKey(key: string): string {
  return /^secretstoresig1[02-9ac-hj-np-z]{6,}$/.test(key) ? `writer key ${key.slice(0, 24)}...` : 'an unknown key';
}

export function shortCommit(commit: string): string {
  return commit.slice(0, 12);
}
