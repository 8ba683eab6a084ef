/**
 * Runs one transaction in its own process, for crash and concurrency tests:
 *   node driver.mjs '{"cwd": "...", "store": "vault", "changes": [...], "message": "..."}'
 * With `warmup`, that many transactions (each writing warm-<i>.txt) come first, as in a long-lived client.
 */
import { locateStore } from '../../src/store/location.js';
import { transact } from '../../src/store/transaction.js';
import type { FileChange } from '../../src/model/repository.js';

export interface DriverSpec {
  cwd: string;
  store?: string;
  changes: FileChange[];
  message: string;
  warmup?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as DriverSpec;
const loc = locateStore({ store: spec.store, cwd: spec.cwd, env: process.env });
try {
  for (let i = 1; i <= (spec.warmup ?? 0); i++) {
    await transact(loc, async () => ({ result: undefined, changes: [{ path: `warm-${i}.txt`, content: `warm ${i}\n` }], message: `warm-up ${i}` }));
  }
  await transact(loc, async () => ({ result: 'committed', changes: spec.changes, message: spec.message }));
  process.stdout.write('committed\n');
} catch (err) {
  process.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
