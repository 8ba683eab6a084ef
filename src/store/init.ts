/**
 * `secretstore init`: the store's configuration (and its .gitattributes) as its first commit, and the
 * git integration of this clone (`installHooks`): the pre-commit, commit-msg, pre-merge-commit, post-merge
 * and post-rewrite hooks, and the
 * config entries of the merge driver and the sealed-file diff, which git does not clone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InvalidRequestException, ResourceExistsException } from '../errors.js';
import { defaultRecipientName } from '../core/recipients.js';
import { CONFIG_FILE, serializeConfig } from '../core/codec.js';
import { SECRETS_DIR } from '../core/layout.js';
import { DEFAULT_POLICY, type StoreConfig } from '../model/store.js';
import { openGit } from '../git/client.js';
import { locateStore } from './location.js';
import { transact } from './transaction.js';
import type { StoreLocation } from '../model/repository.js';
import { loadCrypto } from '../crypto/load.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

export interface InitOptions {
  store?: string;
  identity?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The recipient's name in `.secretstore.yaml` (default: git's user.name, else user.email's local part, else the login name). */
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
  /** The commit that starts the store's authenticated history, and the key that signed it: share them with the team. */
  TrustRoot: { Commit: string; WriterKey: string };
  /** What `installHooks` set up in this clone. */
  GitIntegration: InstallHooksResult;
}

export interface InstallHooksResult {
  /** The hook files, repository-relative. */
  Hooks: string[];
  /** The git config entries set in this clone (`merge.secretstore.driver`, ...). */
  Config: string[];
  /** Whether the store's .gitattributes registers the merge driver and the diff converter. */
  Attributes: boolean;
}

/** Committed by init at the store root: the merge driver for label indexes, the text converter for sealed files. */
export const GITATTRIBUTES_FILE = '.gitattributes';
export const GITATTRIBUTES_LINES = [`${SECRETS_DIR}/**/secret.yaml merge=secretstore`, `${SECRETS_DIR}/**/*.sealed diff=secretstore`] as const;

export function gitattributesText(existing = ''): string {
  const missing = GITATTRIBUTES_LINES.filter((l) => !existing.split('\n').includes(l));
  if (missing.length === 0) return existing;
  const head = existing === '' ? '# secretstore: semantic merges of label indexes, readable diffs of sealed files\n' : existing.endsWith('\n') ? existing : `${existing}\n`;
  return `${head}${missing.join('\n')}\n`;
}

export const HOOK_MARK = '# installed by secretstore init';

/** The default recipient name, from git's user.name or user.email as this repository sees them, else the login name. */
async function gitUserName(repoRoot: string, env: NodeJS.ProcessEnv | undefined): Promise<string> {
  // One git call for both keys; exit 1 (none set) is an empty answer.
  const text = await openGit(repoRoot, env).run(['config', '--get-regexp', '^user\\.(name|email)$']).catch(() => '');
  const value = (key: string) => new RegExp(`^user\\.${key} (.*)$`, 'm').exec(text)?.[1];
  return defaultRecipientName({ gitName: value('name'), gitEmail: value('email'), loginName: userInfo().username });
}

export async function initStore(opts: InitOptions): Promise<InitResult> {
  const loc = locateStore({ store: opts.store, cwd: opts.cwd, env: opts.env });
  const crypto = await loadCrypto();
  const { askPassphrase } = await import('../terminal/passphrase.js');
  const keys = await crypto.readIdentityFile(crypto.resolveIdentityPath({ flag: opts.identity, env: opts.env }), {
    passphrase: (request) => askPassphrase(request, opts.env),
  });
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
  const name = opts.name ?? (await gitUserName(loc.repoRoot, opts.env));
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
  const [{ signedMessage }, { TrustRecords }] = await Promise.all([import('../core/commit-signature.js'), import('../trust/records.js')]);
  let root: string | undefined;
  await transact(
    loc,
    async () => {
      if (await readFile(join(loc.root, CONFIG_FILE)).then(() => true, () => false)) {
        throw new ResourceExistsException(`${loc.root} is already a secretstore (${CONFIG_FILE} exists)`);
      }
      return {
        result: undefined,
        changes: [
          { path: CONFIG_FILE, content: serializeConfig(config) },
          { path: GITATTRIBUTES_FILE, content: gitattributesText(await readFile(join(loc.root, GITATTRIBUTES_FILE), 'utf8').catch(() => '')) },
        ],
        message: `init: secretstore ${config.storeId}\n\nrecipient: ${name} ${recipient.publicKey}\nwriter: ${name} ${writer.writerKey}\n`,
      };
    },
    {
      // The first configuration is signed by the writer it names: the commit is the store's trust root.
      sign: async (draft) => signedMessage(draft, signer.publicKey, (bytes) => signer.sign(bytes)),
      committed: (commit) => {
        root = commit;
      },
    },
  );
  if (root !== undefined) {
    const records = new TrustRecords(loc);
    records.setRoot({ commit: root, key: signer.publicKey, how: 'pinned' });
    records.mark([root]);
    const { currentBranch } = await import('../trust/records.js');
    const branch = currentBranch(loc.gitDir);
    if (branch !== undefined) records.setHead(branch, root);
  }
  const hooks = await installHooks(loc, opts.env);
  return {
    StoreRoot: loc.root,
    StoreId: config.storeId,
    Recipient: { Name: name, PublicKey: recipient.publicKey },
    Writer: { Name: name, WriterKey: writer.writerKey },
    Hook: hooks.Hooks[0]!,
    TrustRoot: { Commit: root ?? '', WriterKey: signer.publicKey },
    GitIntegration: hooks,
  };
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The hook filters in shell first: a commit that touches nothing under the store starts no Node
 * process (~100 ms). It prefers the secretstore that installed it, then one on PATH.
 */
export function hookScript(loc: StoreLocation, cliPath: string, hook: HookName = 'pre-commit'): string {
  const store = `./${loc.prefix}`;
  const paths = `-- ${shellQuote(loc.prefix + SECRETS_DIR)} ${shellQuote(loc.prefix + CONFIG_FILE)} ${shellQuote(`${loc.prefix}.secretstore`)}`;
  const filter = {
    'pre-commit': `${HOOK_MARK}: validates and prunes commits that touch the store, and refuses one you may not sign.\ngit diff --cached --quiet ${paths} && exit 0`,
    'commit-msg': `${HOOK_MARK}: signs commits that change the store with your writer key.\ngit diff --cached --quiet ${paths} && exit 0`,
    'post-rewrite': `${HOOK_MARK}: signs again your own commits that a rebase or an amend rewrote.`,
    'pre-merge-commit': `${HOOK_MARK}: validates merges (git pull, git merge) that touch the store.\ngit diff --cached --quiet ${paths} && exit 0`,
    'post-merge': `${HOOK_MARK}: prunes what a merge commit left over the policy.\ngit rev-parse -q --verify HEAD^2 >/dev/null || exit 0\ngit diff --quiet HEAD^1 HEAD ${paths} && exit 0`,
  }[hook];
  // commit-msg gets the message file, post-rewrite what rewrote (its pairs come on stdin).
  const args = hook === 'commit-msg' || hook === 'post-rewrite' ? ' "$1"' : '';
  return `#!/bin/sh
${filter}
cli=${shellQuote(cliPath)}
if [ -f "$cli" ]; then exec ${shellQuote(process.execPath)} "$cli" --store ${shellQuote(store)} hook ${hook}${args}; fi
exec secretstore --store ${shellQuote(store)} hook ${hook}${args}
`;
}

export type HookName = 'pre-commit' | 'commit-msg' | 'pre-merge-commit' | 'post-merge' | 'post-rewrite';
const HOOKS: readonly HookName[] = ['pre-commit', 'commit-msg', 'pre-merge-commit', 'post-merge', 'post-rewrite'];

/** The command git runs for the driver or converter: the secretstore that installed it, else one on PATH. */
function commandLine(loc: StoreLocation, args: string): string {
  const cli = cliPath();
  const store = `--store ${shellQuote(`./${loc.prefix}`)}`;
  return existsSync(cli) ? `${shellQuote(process.execPath)} ${shellQuote(cli)} ${store} ${args}` : `secretstore ${store} ${args}`;
}

/** `dist/secretstore.js` of the package this module belongs to (bundled, compiled or run from source). */
function cliPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  // dist/ and dist/lib/ hold package.json files of their own (only a "type"): the package's names the bin.
  while (!isPackageRoot(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'secretstore.js');
}

function isPackageRoot(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin?: Record<string, string> }).bin?.secretstore !== undefined;
  } catch {
    return false;
  }
}

export async function installHook(loc: StoreLocation, hook: HookName = 'pre-commit'): Promise<string> {
  const hooks = join(loc.gitDir, 'hooks');
  const path = join(hooks, hook);
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(HOOK_MARK)) {
    throw new InvalidRequestException(
      `${path} exists and is not secretstore's; add "secretstore --store ./${loc.prefix} hook ${hook}" to it by hand`,
    );
  }
  await mkdir(hooks, { recursive: true });
  await writeFile(path, hookScript(loc, cliPath(), hook));
  await chmod(path, 0o755);
  return relative(loc.repoRoot, path) || path;
}

/**
 * `secretstore install-hooks` (and the end of init): this clone's git integration, which git does not
 * clone: the hooks (pre-commit, commit-msg, pre-merge-commit, post-merge, post-rewrite), and the config entries naming the merge driver and the diff converter that the
 * committed .gitattributes refers to. Idempotent; a hook file that is not secretstore's is refused, as
 * init does, and nothing is changed then.
 */
export async function installHooks(loc: StoreLocation, env: NodeJS.ProcessEnv): Promise<InstallHooksResult> {
  const hooks = join(loc.gitDir, 'hooks');
  for (const hook of HOOKS) {
    const existing = await readFile(join(hooks, hook), 'utf8').catch(() => undefined);
    if (existing !== undefined && !existing.includes(HOOK_MARK)) {
      throw new InvalidRequestException(
        `${join(hooks, hook)} exists and is not secretstore's; add "secretstore --store ./${loc.prefix} hook ${hook}" to it by hand`,
      );
    }
  }
  const installed: string[] = [];
  for (const hook of HOOKS) installed.push(await installHook(loc, hook));
  const entries: [string, string][] = [
    ['merge.secretstore.name', 'secretstore semantic merge of label indexes'],
    ['merge.secretstore.driver', commandLine(loc, 'merge-driver %O %A %B %P')],
    ['diff.secretstore.textconv', commandLine(loc, 'textconv')],
  ];
  const git = openGit(loc.repoRoot, env);
  for (const [key, value] of entries) await git.run(['config', '--local', key, value], { setsCommands: true });
  const attributes = await readFile(join(loc.root, GITATTRIBUTES_FILE), 'utf8').catch(() => '');
  return { Hooks: installed, Config: entries.map(([k]) => k), Attributes: gitattributesText(attributes) === attributes };
}

