// A benchmark store of `count` secrets written straight with the project's own codec and sealing (a CLI
// call per secret would take an hour), then committed at once, signed. Shared by run.mjs and verify.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseConfig, serializeSecretIndex } from '../dist/lib/core/codec.js';
import { indexPath, versionPath } from '../dist/lib/core/layout.js';
import { secretArn } from '../dist/lib/core/arn.js';
import { signedMessage } from '../dist/lib/core/commit-signature.js';
import { cryptoReady, parseRecipient, readIdentityFile, resolveIdentityPath, sealValue } from '../dist/lib/crypto/index.js';

export const cli = resolve('dist/secretstore.js');

/**
 * The user's environment as it is (NODE_OPTIONS, NODE_EXTRA_CA_CERTS... change Node's start-up, for the
 * baseline and the CLI alike), with a private home in `base` and a fixed git identity.
 */
export function benchEnv(base) {
  return {
    ...process.env,
    HOME: base,
    XDG_CONFIG_HOME: join(base, 'config'),
    GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
  };
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

/** `env` must hold the identity `secretstore init` uses (it becomes the store's writer and signs the commit). */
export async function makeStore(base, env, count) {
  const dir = join(base, `store-${count}`);
  run('git', ['init', '-q', '-b', 'main', dir], { env });
  run(process.execPath, [cli, 'init', '--name', 'bench'], { cwd: dir, env });
  const config = parseConfig(readFileSync(join(dir, '.secretstore.yaml'), 'utf8'), '.secretstore.yaml');
  await cryptoReady();
  const [signer] = (await readIdentityFile(resolveIdentityPath({ env }))).signers;
  const recipients = config.recipients.map((r) => parseRecipient(r.publicKey));
  const now = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const name = `app-${i % 100}/service-${i}/password`;
    const arn = secretArn(config, name, 'AbC123');
    const versionId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const index = { name, arn, createdDate: now, lastChangedDate: now, labels: { AWSCURRENT: versionId }, versions: { [versionId]: now } };
    const sealed = sealValue({ type: 'string', text: `value-${i}` }, { storeId: config.storeId, secretArn: arn, versionId }, recipients);
    for (const [path, content] of [[indexPath(name), serializeSecretIndex(index)], [versionPath(name, versionId), sealed]]) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  }
  // One commit, signed by the writer as secretstore signs its own (a Secretstore-Signature trailer over the
  // tree, the parent and the message), made with plumbing: the hooks would check and sign every index again.
  run('git', ['add', '-A'], { cwd: dir, env });
  const tree = run('git', ['write-tree'], { cwd: dir, env }).trim();
  const parent = run('git', ['rev-parse', 'HEAD'], { cwd: dir, env }).trim();
  const message = signedMessage({ tree, parents: [parent], message: `bench: ${count} secrets` }, signer.publicKey, (m) => signer.sign(m));
  const commit = run('git', ['commit-tree', tree, '-p', parent, '-F', '-'], { cwd: dir, env, input: message }).trim();
  run('git', ['update-ref', 'HEAD', commit], { cwd: dir, env });
  writeFileSync(join(base, 'value.txt'), 'bench-value');
  return dir;
}
