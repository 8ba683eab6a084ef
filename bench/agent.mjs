// The "agent" and "cold get" sections of `npm run bench` (issue 12 targets 1 and 2): get-secret-value and
// put-secret-value through the agent (from the second command on) and in the process (SECRETSTORE_AGENT=off),
// next to `node -e ''` and a bare `git commit`, all measured interleaved in one run so the ratios hold on a
// loaded machine. NODE_EXTRA_CA_CERTS is removed from the children's environment: when set, Node reads the
// certificates at every start (~40 ms here), which a user without it does not pay and which hides the ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, makeStore, median } from './store.mjs';

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs the section, prints it and returns its medians (ms: node, gitCommit, coldGet, warmGet, coldPut, warmPut);
 * `env` is the bench's environment (with the identity `init` uses).
 */
export async function agentBench(env, runs) {
  const base = mkdtempSync(join(tmpdir(), 'secretstore-bench-agent-'));
  const runtime = join(base, 'run');
  const clean = { ...env, XDG_RUNTIME_DIR: runtime };
  delete clean.NODE_EXTRA_CA_CERTS;
  const cold = { ...clean, SECRETSTORE_AGENT: 'off' };
  const warm = { ...clean, SECRETSTORE_AGENT: 'on' };
  try {
    const dir = await makeStore(base, clean, 10);
    const target = 'app-1/service-1/password';
    writeFileSync(join(base, 'value.txt'), 'bench-value');
    const get = (e) => run(process.execPath, [cli, 'get-secret-value', '--secret-id', target], { cwd: dir, env: e });
    const put = (e) => run(process.execPath, [cli, 'put-secret-value', '--secret-id', target, '--secret-string', `file://${join(base, 'value.txt')}`], { cwd: dir, env: e });
    const tasks = {
      node: () => run(process.execPath, ['-e', ''], { env: clean }),
      gitCommit: (i) => {
        writeFileSync(join(dir, 'baseline.txt'), `run ${i}\n`);
        run('git', ['add', 'baseline.txt'], { cwd: dir, env: clean });
        run('git', ['commit', '-q', '--no-verify', '-m', 'baseline'], { cwd: dir, env: clean });
      },
      coldGet: () => get(cold),
      // A first run (no code cache yet, src/cli/code-cache.ts): what every cold get cost before the cache.
      coldGetNoCache: () => get({ ...cold, SECRETSTORE_CODE_CACHE: 'off' }),
      warmGet: () => get(warm),
      coldPut: () => put(cold),
      warmPut: () => put(warm),
    };
    const samples = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
    for (const task of Object.values(tasks)) task(-1); // warm-up; starts the agent
    for (let i = 0; i < runs; i++) {
      for (const [name, task] of Object.entries(tasks)) {
        const t0 = performance.now();
        task(i);
        samples[name].push(performance.now() - t0);
        // The baseline commit moved HEAD: the next command would also authenticate that commit (once). An
        // untimed get does it, so the get timed first is not the only one to pay it.
        if (name === 'gitCommit') get(cold);
      }
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    const fmt = (ms) => `${ms.toFixed(1)} ms`.padStart(9);
    const x = (a, b) => `${(a / b).toFixed(2)}x`;
    console.log(`\nagent and cold get (10 secrets; median of ${runs} interleaved runs; NODE_EXTRA_CA_CERTS removed from the children's environment)`);
    console.log(`  node -e ''                     ${fmt(m.node)}`);
    console.log(`  bare git commit                ${fmt(m.gitCommit)}`);
    console.log(`  get, cold (agent off)           ${fmt(m.coldGet)}  ${x(m.coldGet, m.node)} node          (target <= 3x)`);
    console.log(`  get, cold, no code cache        ${fmt(m.coldGetNoCache)}  ${x(m.coldGetNoCache, m.node)} node          (a command's first run)`);
    console.log(`  get, through the agent          ${fmt(m.warmGet)}  ${x(m.warmGet, m.node)} node          (target <= 1.5x)`);
    console.log(`  put, cold                       ${fmt(m.coldPut)}  ${x(m.coldPut, m.node + m.gitCommit)} (node + git commit)`);
    console.log(`  put, through the agent          ${fmt(m.warmPut)}  ${x(m.warmPut, m.node + m.gitCommit)} (node + git commit) (target <= 1.5x)`);
    return m;
  } finally {
    spawnSync(process.execPath, [cli, 'agent', 'stop'], { env: clean });
    rmSync(base, { recursive: true, force: true });
  }
}

// `node bench/agent.mjs`: this section alone (after `npm run build`).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { benchEnv } = await import('./store.mjs');
  const home = mkdtempSync(join(tmpdir(), 'secretstore-bench-home-'));
  const env = benchEnv(home);
  run(process.execPath, [cli, 'keygen'], { env });
  try {
    await agentBench(env, Number(process.env.BENCH_RUNS ?? 15));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
