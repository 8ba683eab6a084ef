/**
 * Signed changes (issue #4): every change secretstore commits carries its writer's Ed25519 signature
 * over what it changed. This is the one place that signs, called for every plan before it is committed.
 *
 * CONTRACT (a stub until signing lands): `signChanges` returns the plan's changes with the signature
 * block of every touched secret's `secret.yaml` (and of `.secretstore.yaml` when the plan changes it)
 * added or replaced. A secret is touched when the plan writes or deletes its index or any of its
 * version files (a re-key rewrites version files only, and their hashes are signed).
 */
import type { Signer } from '../crypto/types.js';
import type { StoreConfig } from '../model/store.js';
import type { FileChange, StoreLocation } from './types.js';

export interface SigningContext {
  readonly location: StoreLocation;
  /** The configuration the plan was computed under (read inside the lock). */
  readonly config: StoreConfig;
  /** The writer's key; undefined when the identity file has none. */
  readonly signer: Signer | undefined;
}

export async function signChanges(_ctx: SigningContext, changes: readonly FileChange[]): Promise<FileChange[]> {
  return [...changes];
}
