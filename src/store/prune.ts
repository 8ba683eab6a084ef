/**
 * `secretstore prune`: first purges scheduled secrets whose recovery window has passed (in a commit of
 * their own, as a write would), then applies the pruning rule over every secret of the store (or one),
 * in one commit. The only command that walks the whole store, on purpose: it is maintenance, not a read path.
 */
import { resolveSecretId } from '../core/arn.js';
import { versionPath } from '../core/layout.js';
import { applyPrune } from '../core/prune.js';
import { checkSecretId } from '../core/validate.js';
import { indexChange } from '../ops/common.js';
import type { StoreView } from '../ops/context.js';
import type { FileChange, Plan } from '../model/repository.js';
import { noProgress, type ProgressFactory } from '../terminal/progress.js';
import { purgeWith } from './purge.js';
import type { SecretStore } from './secret-store.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

export interface PruneResult {
  Pruned: { Name: string; VersionIds: string[] }[];
  /** Secrets purged because their recovery window had passed; present only when there were any. */
  Purged?: string[];
}

/**
 * `progress` (the CLI draws it on stderr) follows the walk over every secret; none by default. Both
 * commits go through `SecretStore.commit`, so they are signed like every other write.
 */
export async function pruneStore(store: SecretStore, now: Date, secretId?: string, progress: ProgressFactory = noProgress): Promise<PruneResult> {
  const purged = await purgeWith(store.location.root, now, (compute) => store.commit((ctx) => compute(ctx.store)), secretId === undefined);
  const result = await store.commit((ctx) => planPrune(ctx.store, now, secretId, progress));
  return purged.length > 0 ? { ...result, Purged: purged } : result;
}

async function planPrune(view: StoreView, now: Date, secretId: string | undefined, progress: ProgressFactory): Promise<Plan<PruneResult>> {
  const config = view.config;
  const names =
    secretId === undefined
      ? await view.listSecretNames()
      : [(await resolveSecretId(checkSecretId(secretId), config, (n) => view.readSecret(n))).name];
  const changes: FileChange[] = [];
  const pruned: PruneResult['Pruned'] = [];
  const bar = progress('prune', names.length);
  try {
    for (const name of names) {
      const before = (await view.readSecret(name))!;
      bar.tick();
      const after = applyPrune(before, now, config.policy);
      if (after.pruned.length === 0) continue;
      pruned.push({ Name: name, VersionIds: after.pruned });
      changes.push(
        indexChange(after.index),
        ...after.pruned.map((id): FileChange => ({ path: versionPath(name, id), delete: true })),
      );
    }
  } finally {
    bar.done();
  }
  const lines = pruned.flatMap((p) => p.VersionIds.map((id) => `pruned: ${p.Name} ${id}`));
  return {
    result: { Pruned: pruned },
    changes,
    message: `prune: ${lines.length} version(s) of ${pruned.length} secret(s)\n\n${lines.join('\n')}\n`,
  };
}
