/**
 * Re-signing files a test edited by hand, with the store writer's key and the production signing code
 * (src/shell/signing.ts), in the work tree only: for tests that set up a state by hand (a secret
 * scheduled for deletion, an edited description) and mean to test something other than signatures.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIdentityFile } from '../../src/crypto/identity-file.js';
import { locateStore } from '../../src/shell/location.js';
import { signChanges } from '../../src/shell/signing.js';
import { sha256Hex, splitSigned, type Previous } from '../../src/core/signature.js';
import { readConfig } from '../../src/shell/view.js';
import type { TestStore } from './store.js';

/**
 * Re-signs the given store-relative files (indexes, or `.secretstore.yaml`) as the store's writer would.
 * `keepPrevious` keeps the `previous` of the block being replaced instead of HEAD's (so the file keeps its length).
 */
export async function resign(t: Pick<TestStore, 'dir' | 'identity'>, paths: readonly string[], opts: { identity?: string; keepPrevious?: boolean } = {}): Promise<void> {
  const identity = opts.identity ?? t.identity;
  const location = locateStore({ store: t.dir, cwd: t.dir, env: {} });
  const [signer] = (await readIdentityFile(identity)).signers;
  const changes = paths.map((path) => ({ path, content: readFileSync(join(t.dir, path), 'utf8') }));
  // The previous state is HEAD's, as `secretstore sign` has it; the work tree holds the edit already.
  const previous = new Map<string, Previous>();
  for (const path of paths) {
    let head: string | undefined;
    try {
      head = execFileSync('git', ['show', `HEAD:${location.prefix}${path}`], { cwd: t.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      head = undefined; // a new file
    }
    const kept = opts.keepPrevious ? splitSigned(readFileSync(join(t.dir, path), 'utf8')).block?.previous : undefined;
    previous.set(path, kept !== undefined ? kept : head === undefined ? null : sha256Hex(splitSigned(head).unsigned));
  }
  const signed = await signChanges({ location, config: await readConfig(t.dir), signer, previous }, changes);
  for (const c of signed) if ('content' in c) writeFileSync(join(t.dir, c.path), c.content);
}
