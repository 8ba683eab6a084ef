// `node bench/verify.mjs`: wall time of `secretstore verify` on a signed store of BENCH_VERIFY_SIZE secrets
// (default 10,000; one version each), as a pre-push hook would run it: median of BENCH_VERIFY_RUNS (3), with
// the current identity a recipient (every sealed file decrypted) and with an identity that is not one
// (header checks only). Also a cold and a warm get-secret-value in a fresh clone (the replay check's first
// git lookup, then the per-clone record).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, cli, makeStore, median, run } from './store.mjs';

const SIZE = Number(process.env.BENCH_VERIFY_SIZE ?? 10000);
const RUNS = Number(process.env.BENCH_VERIFY_RUNS ?? 3);
const base = mkdtempSync(join(tmpdir(), 'secretstore-bench-verify-'));
const env = benchEnv(base);
const timed = (fn) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};

run(process.execPath, [cli, 'keygen'], { env });
run(process.execPath, [cli, 'keygen', '-o', join(base, 'outsider')], { env });
const t0 = performance.now();
const dir = await makeStore(base, env, SIZE);
console.log(`made a signed store of ${SIZE} secrets in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const verify = (extra = [], cache = true) => () =>
  run(process.execPath, [cli, ...extra, 'verify'], { cwd: dir, env: cache ? env : { ...env, SECRETSTORE_NO_CACHE: '1' } });
// Cold: nothing remembered (SECRETSTORE_NO_CACHE=1), every sealed file opened or parsed; warm: a second run,
// as a pre-push hook runs it, where only changed files are checked again.
const asRecipient = median(Array.from({ length: RUNS }, () => timed(verify([], false))));
const headerOnly = median(Array.from({ length: RUNS }, () => timed(verify(['--identity', join(base, 'outsider')], false))));
verify()();
const warm = median(Array.from({ length: RUNS }, () => timed(verify())));
const clone = join(base, 'clone');
run('git', ['clone', '-q', dir, clone], { env });
const get = () => run(process.execPath, [cli, 'get-secret-value', '--secret-id', 'app-1/service-1/password'], { cwd: clone, env });
const cold = timed(get);
const warmGet = median(Array.from({ length: 5 }, () => timed(get)));
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log(`secretstore verify, ${SIZE} secrets (median of ${RUNS}): cold ${fmt(asRecipient)} decrypting every sealed file, ${fmt(headerOnly)} checking headers only; warm (nothing changed) ${fmt(warm)}`);
console.log(`get-secret-value in a fresh clone: ${cold.toFixed(0)} ms first (replay check asks git), ${warmGet.toFixed(0)} ms after (median of 5)`);
if (process.env.BENCH_KEEP) console.log(`kept ${base}`);
else rmSync(base, { recursive: true, force: true });
