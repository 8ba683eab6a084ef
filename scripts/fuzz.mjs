// `npm run fuzz`: the property tests of test/properties/ with many cases each and a fresh seed.
// FUZZ_RUNS (cases per property, default 10000) and FUZZ_SEED (default random) can be set; extra
// arguments go to vitest (a file, `-t name`). A failure prints the seed and the path that replay it.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const runs = process.env.FUZZ_RUNS ?? '10000';
const seed = process.env.FUZZ_SEED ?? String(randomInt(2 ** 31 - 1));
const args = process.argv.slice(2);
console.log(`fuzz: FUZZ_RUNS=${runs} FUZZ_SEED=${seed} (set both to replay this run)`);
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const files = args.filter((a) => a.startsWith('test/'));
const options = args.filter((a) => !a.startsWith('test/'));
const result = spawnSync(process.execPath, [vitest, 'run', ...(files.length > 0 ? files : ['test/properties']), ...options], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed },
});
if (result.status !== 0) console.log(`fuzz: failed with FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
process.exit(result.status ?? 1);
