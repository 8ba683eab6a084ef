// A benchmark store of `count` secrets written straight with the project's own codec and sealing (a CLI
// call per secret would take an hour), committed at once with `git fast-import` (plumbing: no `git add`
// of every file), that commit signed by the store's writer as secretstore signs its own, and checked
// out. Shared by run.mjs, agent.mjs and verify.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig, serializeSecretIndex } from '../dist/lib/core/codec.js';
import { indexPath, versionPath } from '../dist/lib/core/layout.js';
import { secretArn } from '../dist/lib/core/arn.js';
import { signedMessage } from '../dist/lib/core/commit-signature.js';
import { loadYaml } from '../dist/lib/core/yaml-value.js';
import { cryptoReady, parseRecipient, readIdentityFile, resolveIdentityPath, sealValue } from '../dist/lib/crypto/index.js';

export const cli = resolve('dist/secretstore.js');

/**
 * The user's environment with a private home in `base` and a fixed git identity, less
 * NODE_EXTRA_CA_CERTS: loading it adds ~40 ms to every Node start on the development machine, which a
 * user does not have and which hides the ratios (NODE_OPTIONS and the rest are kept).
 */
export function benchEnv(base) {
  const env = {
    ...process.env,
    HOME: base,
    XDG_CONFIG_HOME: join(base, 'config'),
    GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
  };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** The name of the i-th benchmark secret. */
export const secretName = (i) => `app-${i % 100}/service-${i}/password`;

/** A secret of `versions` versions (makeStore's `versions` option), next to the 1-version ones. */
export const MANY_VERSIONS = 'bench/many-versions';

/**
 * `env` must hold the identity `secretstore init` uses (it becomes the store's writer and signs the
 * commit). The first `real` secrets (default: all) are sealed for real; the others, in a store too large
 * to seal in a benchmark's time, have index files of the same size and shape and a copied sealed file,
 * never read (a put or get reads only its own secret's folder). With `versions`, the store also holds
 * MANY_VERSIONS, a secret of that many versions.
 */
export async function makeStore(base, env, count, { real = count, versions = 0 } = {}) {
  const dir = join(base, `store-${count}`);
  run('git', ['init', '-q', '-b', 'main', dir], { env });
  run(process.execPath, [cli, 'init', '--name', 'bench'], { cwd: dir, env });
  const config = parseConfig(readFileSync(join(dir, '.secretstore.yaml'), 'utf8'), '.secretstore.yaml');
  await Promise.all([cryptoReady(), loadYaml()]);
  const [signer] = (await readIdentityFile(resolveIdentityPath({ env }))).signers;
  const recipients = config.recipients.map((r) => parseRecipient(r.publicKey));
  const now = new Date().toISOString();
  const importer = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, env, stdio: ['pipe', 'inherit', 'inherit'] });
  const finished = new Promise((ok, fail) => importer.on('close', (code) => (code === 0 ? ok() : fail(new Error(`git fast-import exited with ${code}`)))));
  const out = importer.stdin;
  let pending = [];
  let size = 0;
  const write = async (chunk) => {
    pending.push(chunk);
    size += chunk.length;
    if (size < 1 << 20) return;
    const ok = out.write(Buffer.concat(pending));
    pending = [];
    size = 0;
    if (!ok) await new Promise((r) => out.once('drain', r));
  };
  const message = `bench: ${count} secrets`;
  await write(Buffer.from(`commit refs/heads/main\ncommitter Bench <bench@example.invalid> ${Math.floor(Date.now() / 1000)} +0000\ndata ${message.length}\n${message}\nfrom refs/heads/main^0\n`));
  const file = async (path, content) => {
    const bytes = Buffer.from(content);
    await write(Buffer.concat([Buffer.from(`M 100644 inline ${path}\ndata ${bytes.length}\n`), bytes, Buffer.from('\n')]));
  };
  let template;
  for (let i = 0; i < count; i++) {
    const name = secretName(i);
    const arn = secretArn(config, name, 'AbC123');
    const versionId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const index = { name, arn, createdDate: now, lastChangedDate: now, labels: { AWSCURRENT: versionId }, versions: { [versionId]: now } };
    if (i < real || template === undefined) {
      template = sealValue({ type: 'string', text: `value-${i}` }, { storeId: config.storeId, secretArn: arn, versionId }, recipients);
    }
    await file(indexPath(name), serializeSecretIndex(index));
    await file(versionPath(name, versionId), template);
  }
  if (versions > 0) {
    // As a secret put `versions` times: AWSCURRENT on the last version, AWSPREVIOUS on the one before.
    const arn = secretArn(config, MANY_VERSIONS, 'MnY300');
    const ids = Array.from({ length: versions }, (_, v) => `00000000-0000-4000-9000-${String(v).padStart(12, '0')}`);
    const dates = ids.map((_, v) => new Date(Date.parse(now) - (versions - v) * 1000).toISOString());
    const labels = { AWSCURRENT: ids[versions - 1], ...(versions > 1 ? { AWSPREVIOUS: ids[versions - 2] } : {}) };
    const index = { name: MANY_VERSIONS, arn, createdDate: dates[0], lastChangedDate: dates[versions - 1], labels, versions: Object.fromEntries(ids.map((id, v) => [id, dates[v]])) };
    await file(indexPath(MANY_VERSIONS), serializeSecretIndex(index));
    for (const [v, id] of ids.entries()) {
      await file(versionPath(MANY_VERSIONS, id), sealValue({ type: 'string', text: `value-${v}` }, { storeId: config.storeId, secretArn: arn, versionId: id }, recipients));
    }
  }
  await write(Buffer.from('\ndone\n'));
  out.end(Buffer.concat(pending));
  await finished;
  // fast-import cannot sign: the same tree and parent again, as one commit signed by the store's writer.
  const [tree, parent] = run('git', ['rev-parse', 'main^{tree}', 'main^'], { cwd: dir, env }).trim().split('\n');
  const signed = signedMessage({ tree, parents: [parent], message: `${message}\n` }, signer.publicKey, (bytes) => signer.sign(bytes));
  const commit = run('git', ['commit-tree', tree, '-p', parent, '-F', '-'], { cwd: dir, env, input: signed }).trim();
  run('git', ['update-ref', 'refs/heads/main', commit], { cwd: dir, env });
  run('git', ['reset', '-q', '--hard'], { cwd: dir, env });
  writeFileSync(join(base, 'value.txt'), 'bench-value');
  return dir;
}
