/**
 * `secretstore prune`: the pruning rule over every secret of the store (or one), in one commit.
 * The only command that walks the whole store, on purpose: it is maintenance, not a read path.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveSecretId } from '../core/arn.js';
import { parseSecretIndex, serializeSecretIndex } from '../core/codec.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, versionPath } from '../core/layout.js';
import { applyPrune } from '../core/prune.js';
import { checkSecretId } from '../core/validate.js';
import type { FileChange, StoreLocation } from './types.js';
import { transact } from './transaction.js';
import { readConfig, WorkTreeView } from './view.js';

export interface PruneResult {
  Pruned: { Name: string; VersionIds: string[] }[];
}

async function allSecretNames(root: string): Promise<string[]> {
  const dir = join(root, SECRETS_DIR);
  const files = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const names: string[] = [];
  for (const file of files) {
    if (file === INDEX_FILE || file.endsWith(`/${INDEX_FILE}`)) {
      names.push(parseSecretIndex(await readFile(join(dir, file), 'utf8'), `${SECRETS_DIR}/${file}`).name);
    }
  }
  return names.sort();
}

export async function pruneStore(loc: StoreLocation, now: Date, secretId?: string): Promise<PruneResult> {
  return transact(loc, async () => {
    const config = await readConfig(loc.root);
    const view = new WorkTreeView(loc.root, config, async () => []);
    const names =
      secretId === undefined
        ? await allSecretNames(loc.root)
        : [(await resolveSecretId(checkSecretId(secretId), config, (n) => view.readSecret(n))).name];
    const changes: FileChange[] = [];
    const pruned: PruneResult['Pruned'] = [];
    for (const name of names) {
      const before = (await view.readSecret(name))!;
      const after = applyPrune(before, now, config.policy);
      if (after.pruned.length === 0) continue;
      pruned.push({ Name: name, VersionIds: after.pruned });
      changes.push(
        { path: indexPath(name), content: serializeSecretIndex(after.index) },
        ...after.pruned.map((id): FileChange => ({ path: versionPath(name, id), delete: true })),
      );
    }
    const lines = pruned.flatMap((p) => p.VersionIds.map((id) => `pruned: ${p.Name} ${id}`));
    return {
      result: { Pruned: pruned },
      changes,
      message: `prune: ${lines.length} version(s) of ${pruned.length} secret(s)\n\n${lines.join('\n')}\n`,
    };
  });
}
