/** `secretstore init`: the store's configuration as its first commit, and the pre-commit hook. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InvalidRequestException, ResourceExistsException } from '../errors.js';
import { CONFIG_FILE, serializeConfig } from '../core/codec.js';
import { SECRETS_DIR } from '../core/layout.js';
import { DEFAULT_POLICY, type StoreConfig } from '../model/store.js';
import { locateStore } from './location.js';
import { transact } from './transaction.js';
import type { StoreLocation } from './types.js';
import { loadCrypto } from './view.js';

export interface InitOptions {
  store?: string;
  identity?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The recipient's name in `.secretstore.yaml` (default: the login name). */
  name?: string;
  region?: string;
  account?: string;
}

export interface InitResult {
  StoreRoot: string;
  StoreId: string;
  Recipient: { Name: string; PublicKey: string };
  Writer: { Name: string; WriterKey: string };
  Hook: string;
}

export const HOOK_MARK = '# installed by secretstore init';

export async function initStore(opts: InitOptions): Promise<InitResult> {
  const loc = locateStore({ store: opts.store, cwd: opts.cwd, env: opts.env });
  const crypto = await loadCrypto();
  const keys = await crypto.readIdentityFile(crypto.resolveIdentityPath({ flag: opts.identity, env: opts.env }));
  const [identity] = keys.identities;
  const [signer] = keys.signers;
  if (!identity) throw new InvalidRequestException('the identity file holds no decryption key; run secretstore keygen');
  if (!signer) {
    throw new InvalidRequestException(
      'the identity file holds no signing key (it predates signed changes); run secretstore keygen --force -o NEW-FILE and use that',
    );
  }
  const account = opts.account ?? '000000000000';
  if (!/^[0-9]{12}$/.test(account)) throw new InvalidRequestException('--account must be 12 digits');
  const name = opts.name ?? userInfo().username;
  const recipient = { name, publicKey: identity.publicKey };
  const writer = { name, writerKey: signer.publicKey };
  const config: StoreConfig = {
    format: 1,
    storeId: randomBytes(16).toString('hex'),
    region: opts.region ?? 'us-east-1',
    account,
    recipients: [recipient],
    writers: [writer],
    policy: DEFAULT_POLICY,
  };
  await transact(loc, async () => {
    if (await readFile(join(loc.root, CONFIG_FILE)).then(() => true, () => false)) {
      throw new ResourceExistsException(`${loc.root} is already a secretstore (${CONFIG_FILE} exists)`);
    }
    // The first configuration is signed by the writer it names: the store's root of trust.
    const { signChanges } = await import('./signing.js');
    return {
      result: undefined,
      changes: await signChanges({ location: loc, config, signer }, [{ path: CONFIG_FILE, content: serializeConfig(config) }]),
      message: `init: secretstore ${config.storeId}\n\nrecipient: ${name} ${recipient.publicKey}\nwriter: ${name} ${writer.writerKey}\n`,
    };
  });
  return {
    StoreRoot: loc.root,
    StoreId: config.storeId,
    Recipient: { Name: name, PublicKey: recipient.publicKey },
    Writer: { Name: name, WriterKey: writer.writerKey },
    Hook: await installHook(loc),
  };
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The hook filters in shell first: a commit that touches nothing under the store starts no Node
 * process (~100 ms). It prefers the secretstore that installed it, then one on PATH.
 */
export function hookScript(loc: StoreLocation, cliPath: string): string {
  const store = `./${loc.prefix}`;
  return `#!/bin/sh
${HOOK_MARK}: validates and prunes commits that touch the store.
git diff --cached --quiet -- ${shellQuote(loc.prefix + SECRETS_DIR)} ${shellQuote(loc.prefix + CONFIG_FILE)} && exit 0
cli=${shellQuote(cliPath)}
if [ -f "$cli" ]; then exec ${shellQuote(process.execPath)} "$cli" --store ${shellQuote(store)} hook pre-commit; fi
exec secretstore --store ${shellQuote(store)} hook pre-commit
`;
}

/** `dist/secretstore.js` of the package this module belongs to (bundled, compiled or run from source). */
function cliPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'secretstore.js');
}

export async function installHook(loc: StoreLocation): Promise<string> {
  const hooks = join(loc.gitDir, 'hooks');
  const path = join(hooks, 'pre-commit');
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(HOOK_MARK)) {
    throw new InvalidRequestException(
      `${path} exists and is not secretstore's; add "secretstore --store ./${loc.prefix} hook pre-commit" to it by hand`,
    );
  }
  await mkdir(hooks, { recursive: true });
  await writeFile(path, hookScript(loc, cliPath()));
  await chmod(path, 0o755);
  return relative(loc.repoRoot, path) || path;
}

