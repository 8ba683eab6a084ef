/**
 * Signed changes (issue #4): every change secretstore commits carries its writer's Ed25519 signature
 * over what it changed. This is the one place that signs, called for every plan before it is committed.
 *
 * CONTRACT: `signChanges` returns the plan's changes with the signature block of every touched secret's
 * `secret.yaml` (and of `.secretstore.yaml` when the plan changes it) added or replaced. A secret is
 * touched when the plan writes or deletes its index or any of its version files (a re-key rewrites
 * version files only, and their hashes are signed). It refuses (AccessDeniedException) before anything
 * is written when the identity has no signing key, or its key is not a writer trusted for a touched
 * secret (by name scope) or, for a configuration change, an unscoped writer of the configuration the
 * change replaces. The block format and the signed statement are in src/core/signature.ts.
 *
 * Hashes of sealed files the plan does not touch are carried forward from the index's previous
 * signature when that one is valid and trusted, so a sealed file swapped in behind the writer's back is
 * not laundered by the writer's next change; only files without such a hash are hashed from disk.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AccessDeniedException } from '../errors.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex } from '../core/codec.js';
import { INDEX_FILE, SECRETS_DIR, VERSIONS_DIR, versionPath } from '../core/layout.js';
import { appendSignature, checkSigned, sha256Hex, splitSigned, trustedWriter, type Previous } from '../core/signature.js';
import type { Signer } from '../crypto/types.js';
import type { StoreConfig, WriterEntry } from '../model/store.js';
import { verifyWriter } from './trust.js';
import type { FileChange, StoreLocation } from './types.js';

export interface SigningContext {
  readonly location: StoreLocation;
  /** The configuration the plan was computed under (read inside the lock); for `init`, the new one. */
  readonly config: StoreConfig;
  /** The writer's key; undefined when the identity file has none. */
  readonly signer: Signer | undefined;
  /** The signature date (default: now). */
  readonly now?: Date;
  /**
   * The unsigned-text hash each signed file replaces, by store-relative path; default: the file as it is
   * in the work tree (which the transaction checks is HEAD's). `secretstore sign` passes HEAD's, since
   * it signs hand edits that are not committed yet.
   */
  readonly previous?: ReadonlyMap<string, Previous>;
  /**
   * Hash every sealed file of a touched secret as it is in the work tree, instead of carrying hashes
   * forward: `secretstore sign`, where the writer vouches for hand edits, sealed files included.
   */
  readonly rehash?: boolean;
}

async function readText(root: string, path: string): Promise<string | undefined> {
  try {
    return await readFile(join(root, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The secret folder (`secrets/.../`) a store path belongs to, or undefined for paths outside `secrets/`. */
export function secretFolderOf(path: string): string | undefined {
  if (!path.startsWith(`${SECRETS_DIR}/`)) return undefined;
  if (path.endsWith(`/${INDEX_FILE}`)) return path.slice(0, -INDEX_FILE.length - 1);
  const marker = path.lastIndexOf(`/${VERSIONS_DIR}/`);
  return marker > 0 ? path.slice(0, marker) : undefined;
}

const denied = (why: string) => new AccessDeniedException(why);

export async function signChanges(ctx: SigningContext, changes: readonly FileChange[]): Promise<FileChange[]> {
  const { signer, config } = ctx;
  const root = ctx.location.root;
  const byPath = new Map(changes.map((c) => [c.path, c]));
  const folders = new Set<string>();
  for (const c of changes) {
    const folder = secretFolderOf(c.path);
    if (folder !== undefined) folders.add(folder);
  }
  const configChange = byPath.get(CONFIG_FILE);
  if (folders.size === 0 && configChange === undefined) return [...changes];
  if (signer === undefined) {
    throw denied('the identity holds no signing key, and every change must be signed by a trusted writer; make one with secretstore keygen');
  }
  const date = (ctx.now ?? new Date()).toISOString();
  const previousOf = async (path: string, current: string | undefined): Promise<Previous> =>
    ctx.previous?.has(path) ? ctx.previous.get(path)! : current === undefined ? null : sha256Hex(splitSigned(current).unsigned);
  const out = new Map<string, FileChange>(byPath);

  if (configChange !== undefined && !('delete' in configChange)) {
    const unsigned = splitSigned(String(configChange.content)).unsigned;
    const next = parseConfig(unsigned, CONFIG_FILE);
    const current = await readText(root, CONFIG_FILE);
    // The root of trust: the first configuration is signed by a writer it names itself; every later one
    // by an unscoped writer of the configuration it replaces, so no one can sign their own key in.
    const trusting = current === undefined ? next : config;
    const writer = trustedWriter(trusting.writers, signer.publicKey, undefined);
    if (writer === undefined) {
      throw denied(`${shortSigner(signer)} is not an unscoped writer of ${CONFIG_FILE}, so it cannot change the store configuration`);
    }
    const content = appendSignature(
      unsigned,
      { storeId: next.storeId, path: CONFIG_FILE, previous: await previousOf(CONFIG_FILE, current), key: signer.publicKey, writer: writer.name, date },
      (m) => signer.sign(m),
    );
    out.set(CONFIG_FILE, { path: CONFIG_FILE, content });
  }

  for (const folder of [...folders].sort()) {
    const indexFile = `${folder}/${INDEX_FILE}`;
    const change = byPath.get(indexFile);
    const current = await readText(root, indexFile);
    const text = change === undefined ? current : 'delete' in change ? undefined : String(change.content);
    if (text === undefined) {
      // The whole secret goes (a purge): nothing is left to sign, but the writer must be trusted for it.
      if (current !== undefined) writerFor(config, signer, parseSecretIndex(current, indexFile).name);
      continue;
    }
    const unsigned = splitSigned(text).unsigned;
    const index = parseSecretIndex(unsigned, indexFile);
    const writer = writerFor(config, signer, index.name);
    // Hashes the previous signature vouches for, if it is valid and trusted (see the header).
    let carried: Readonly<Record<string, string>> = {};
    if (current !== undefined && !ctx.rehash) {
      const verdict = checkSigned(splitSigned(current), { storeId: config.storeId, path: indexFile, name: index.name }, config.writers, verifyWriter);
      if (verdict.ok) carried = verdict.block.files ?? {};
    }
    const files: Record<string, string> = {};
    for (const id of Object.keys(index.versions)) {
      const path = versionPath(index.name, id);
      const written = byPath.get(path);
      if (written !== undefined && !('delete' in written)) files[id] = sha256Hex(written.content);
      else if (carried[id] !== undefined) files[id] = carried[id];
      else {
        const sealed = await readFile(join(root, path)).catch(() => undefined);
        // A listed version without a file is damage the next read reports; sign nothing for it.
        if (sealed !== undefined) files[id] = sha256Hex(sealed);
      }
    }
    const content = appendSignature(
      unsigned,
      { storeId: config.storeId, path: indexFile, previous: await previousOf(indexFile, current), files, key: signer.publicKey, writer: writer.name, date },
      (m) => signer.sign(m),
    );
    out.set(indexFile, { path: indexFile, content });
  }
  // Changes keep their order; an index re-signed for a re-key (no index change in the plan) comes last.
  return [...changes.map((c) => out.get(c.path)!), ...[...out.values()].filter((c) => !byPath.has(c.path))];
}

/**
 * For git's own merges and hooks (the merge driver, pre-commit, post-merge), which must not fail for want
 * of a key: without a signing key the changes stay unsigned (the caller says so; reads then refuse them
 * until a writer runs `secretstore sign`). With one, exactly `signChanges`.
 */
export async function signWhenKeyed(ctx: SigningContext, changes: readonly FileChange[]): Promise<FileChange[]> {
  return ctx.signer === undefined ? [...changes] : signChanges(ctx, changes);
}

function shortSigner(signer: Signer): string {
  return `the identity's writer key ${signer.publicKey.slice(0, 24)}...`;
}

function writerFor(config: StoreConfig, signer: Signer, name: string): WriterEntry {
  const writer = trustedWriter(config.writers, signer.publicKey, name);
  if (writer === undefined) {
    throw denied(`${shortSigner(signer)} is not a writer trusted for secret '${name}' in ${CONFIG_FILE}; ask a writer to add it under writers:`);
  }
  return writer;
}
