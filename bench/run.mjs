// `npm run bench`: wall time of put-secret-value and get-secret-value through the CLI, each next to
// baselines measured in the same run (Node's own start-up, a bare `git commit` of one file), printed as
// ratios, in a store of 10 secrets and one of 10,000 to show that the cost does not grow with the store.
// list-secrets (one page of 100) necessarily reads every index file: it is timed with the summary cache
// warm (the common case) and without it (SECRETSTORE_NO_CACHE=1: a walk and a YAML parse of every index).
// Times vary a lot on a shared 2-core machine; the ratios are what to compare.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, cli, makeStore as makeBenchStore, median } from './store.mjs';
import { agentBench } from './agent.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const CONCURRENCY = 50;
const SERVER_SECONDS = Number(process.env.BENCH_SERVER_SECONDS ?? 3);
// Without the cache a 10,000-secret listing takes seconds: fewer runs.
const NOCACHE_RUNS = Math.min(RUNS, Number(process.env.BENCH_NOCACHE_RUNS ?? 5));
const SIZES = (process.env.BENCH_SIZES ?? '10,10000').split(',').map(Number);
const base = mkdtempSync(join(tmpdir(), 'secretstore-bench-'));
const env = benchEnv(base);

/** Median wall time of `fn` over `runs` runs (default RUNS), after one warm-up. */
function time(fn, runs = RUNS) {
  fn(-1);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn(i);
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A signed store of `count` secrets (bench/store.mjs). */
function makeStore(count) {
  return makeBenchStore(base, env, count);
}

/**
 * `secretstore serve` in its own process, driven by CONCURRENCY clients of the real AWS SDK for
 * SERVER_SECONDS each for reads and for puts: requests per second, next to the CLI's cost per call.
 */
async function serverThroughput(dir, target, cliGetMs, cliPutMs) {
  const { SecretsManagerClient, GetSecretValueCommand, PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const { initCredentials } = await import('../dist/lib/server/auth.js');
  const credentialsFile = join(base, 'server-credentials.json');
  const credential = await initCredentials(credentialsFile);
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--credentials-file', credentialsFile], { cwd: dir, env });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (d) => {
      text += d;
      const m = /on (https?:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited: ${text}`)));
  });
  const client = new SecretsManagerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
  });
  async function drive(makeCommand) {
    const deadline = performance.now() + SERVER_SECONDS * 1000;
    let done = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          await client.send(makeCommand());
          done++;
        }
      }),
    );
    return done / SERVER_SECONDS;
  }
  const reads = await drive(() => new GetSecretValueCommand({ SecretId: target }));
  const puts = await drive(() => new PutSecretValueCommand({ SecretId: target, SecretString: 'bench-value', ClientRequestToken: randomUUID() }));
  client.destroy();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  return { reads, puts, cliGetMs, cliPutMs };
}

run(process.execPath, [cli, 'keygen']);
const rows = [];
let serverFigures;
const nodeStartup = time(() => run(process.execPath, ['-e', '']));
for (const size of SIZES) {
  const dir = await makeStore(size);
  const target = `app-1/service-1/password`;
  // The git baseline: a bare commit of one changed file, in this same repository.
  const gitCommit = time((i) => {
    writeFileSync(join(dir, 'baseline.txt'), `run ${i}\n`);
    run('git', ['add', 'baseline.txt'], { cwd: dir });
    run('git', ['commit', '-q', '--no-verify', '-m', 'baseline'], { cwd: dir });
  });
  const get = time(() => run(process.execPath, [cli, 'get-secret-value', '--secret-id', target], { cwd: dir }));
  const put = time(() =>
    run(process.execPath, [cli, 'put-secret-value', '--secret-id', target, '--secret-string', `file://${join(base, 'value.txt')}`], { cwd: dir }),
  );
  // The warm-up run fills the summary cache (index files older than its 3 s racy window are remembered).
  const list = time(() => run(process.execPath, [cli, 'list-secrets', '--max-results', '100'], { cwd: dir }));
  const listNoCache = time(
    () => run(process.execPath, [cli, 'list-secrets', '--max-results', '100'], { cwd: dir, env: { ...env, SECRETSTORE_NO_CACHE: '1' } }),
    NOCACHE_RUNS,
  );
  rows.push({ size, nodeStartup, gitCommit, get, put, list, listNoCache });
  if (size === SIZES[0]) serverFigures = await serverThroughput(dir, target, get, put);
}

const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.log(`\nsecretstore benchmark (median of ${RUNS} runs each; node -e '' = ${fmt(nodeStartup)})\n`);
console.log('secrets | git commit | get        | get / node | put        | put / (node + git commit) | list       | list / node | list, no cache');
console.log('--------|------------|------------|------------|------------|---------------------------|------------|-------------|---------------');
for (const r of rows) {
  console.log(
    [String(r.size).padStart(7), fmt(r.gitCommit).padStart(10), fmt(r.get).padStart(10), `${(r.get / r.nodeStartup).toFixed(2)}x`.padStart(10),
      fmt(r.put).padStart(10), `${(r.put / (r.nodeStartup + r.gitCommit)).toFixed(2)}x`.padStart(25),
      fmt(r.list).padStart(10), `${(r.list / r.nodeStartup).toFixed(2)}x`.padStart(11), fmt(r.listNoCache).padStart(13)].join(' | '),
  );
}
console.log('\ntargets: get <= 1.5x node start-up; put <= 1.6x (node start-up + bare git commit), at every store size;');
console.log(`         list-secrets --max-results 100 (median of ${RUNS}; without the cache: ${NOCACHE_RUNS}) well under 1 s at 10,000 secrets`);
if (serverFigures) {
  const f = serverFigures;
  console.log(`\nsecretstore serve, ${CONCURRENCY} concurrent SDK clients, ${SERVER_SECONDS} s each, ${SIZES[0]} secrets:`);
  console.log(`  get-secret-value: ${f.reads.toFixed(0)} requests/s (the CLI: ${(1000 / f.cliGetMs).toFixed(1)} calls/s, ${fmt(f.cliGetMs)} each)`);
  console.log(`  put-secret-value: ${f.puts.toFixed(0)} requests/s, one commit each (the CLI: ${(1000 / f.cliPutMs).toFixed(1)} calls/s, ${fmt(f.cliPutMs)} each)`);
}
// The agent and the cold get: a section of its own (bench/agent.mjs).
await agentBench(env, RUNS);
if (process.env.BENCH_KEEP) console.log(`kept ${base}`);
else rmSync(base, { recursive: true, force: true });
