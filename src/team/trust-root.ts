/**
 * The commands that change what a clone trusts (docs/trust.md): show the trust state, pin a root got out
 * of band (or move it forward), accept a rewound branch, and migrate a store made by a release with
 * per-file signatures. They sit above the store: reads only ask `Authenticator` whether a state is
 * authentic; these decide where authentication starts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { shortCommit } from '../core/authorise.js';
import { CONFIG_FILE, unsignedText } from '../core/codec.js';
import { findSignature, signedMessage } from '../core/commit-signature.js';
import { INDEX_FILE, SECRETS_DIR } from '../core/layout.js';
import { InvalidParameterException, InvalidRequestException } from '../errors.js';
import type { SecretStore } from '../store/secret-store.js';
import { openGit } from '../git/client.js';
import { loadCrypto } from '../crypto/load.js';
import type { FileChange, StoreLocation } from '../model/repository.js';
import { Authenticator } from '../trust/authenticate.js';
import { currentBranch, TrustRecords } from '../trust/records.js';

export interface TrustStatus {
  readonly Root?: { Commit: string; WriterKey?: string; How: 'pinned' | 'tofu' };
  readonly Head?: { Commit: string; Branch?: string; Authentic: boolean; Why?: string };
  readonly Branches: { Branch: string; Newest: string }[];
}

/** What this clone trusts, and whether HEAD authenticates. */
export async function trustStatus(auth: Authenticator): Promise<TrustStatus> {
  const head = await auth.headCommit();
  let verdict: { ok: boolean; why?: string } | undefined;
  if (head !== undefined) {
    try {
      const v = await auth.authenticate(head);
      verdict = v.ok ? { ok: true } : { ok: false, why: `commit ${shortCommit(v.commit)} ${v.why}` };
    } catch (err) {
      verdict = { ok: false, why: (err as Error).message };
    }
  }
  const root = auth.records.root();
  const branch = currentBranch(auth.loc.gitDir);
  return {
    ...(root ? { Root: { Commit: root.commit, ...(root.key ? { WriterKey: root.key } : {}), How: root.how } } : {}),
    ...(head && verdict
      ? { Head: { Commit: head, ...(branch ? { Branch: branch } : {}), Authentic: verdict.ok, ...(verdict.why ? { Why: verdict.why } : {}) } }
      : {}),
    Branches: auth.records.heads().map((h) => ({ Branch: h.branch, Newest: h.commit })),
  };
}

/**
 * Pins `commit`, signed by `key`, as this clone's trust root (replacing any other: moving the root
 * forward is how a team shuts out history a removed writer could still fork from). Marks made under the
 * old root are dropped, so everything is judged again from the new one.
 */
export async function pinRoot(auth: Authenticator, rev: string, key: string | undefined): Promise<{ Commit: string; WriterKey: string; Signer: string }> {
  const git = openGit(auth.loc.repoRoot);
  const commit = (await git.run(['rev-parse', '--verify', '-q', `${rev}^{commit}`]).catch(() => '')).trim();
  if (!commit) throw new InvalidParameterException(`--root ${rev} is not a commit of this repository (fetch it first)`);
  const obj = await auth.commitObject(commit);
  const sig = findSignature(obj.message);
  if (!sig) throw new InvalidRequestException(`commit ${shortCommit(commit)} carries no secretstore signature, so it cannot be a trust root`);
  if (key !== undefined) {
    const wanted = (await loadCrypto()).parseWriterKey(key).publicKey; // checksum first: a mistyped key fails here
    if (wanted.toLowerCase() !== sig.key.toLowerCase()) throw new InvalidRequestException(`commit ${shortCommit(commit)} is signed by another key than --key`);
  }
  const records = auth.records;
  const previous = records.root();
  records.setRoot({ commit, key: sig.key, how: 'pinned' });
  if (previous?.commit !== commit) rmSync(join(records.dir, 'ok'), { recursive: true, force: true });
  const check = new Authenticator(auth.loc, auth.objectsReader, undefined, undefined, { commit, key: sig.key, how: 'pinned' });
  try {
    const verdict = await check.authenticate(commit);
    if (!verdict.ok) {
      if (previous) records.setRoot(previous);
      else rmSync(join(records.dir, 'root'), { force: true });
      throw new InvalidRequestException(`commit ${shortCommit(commit)} ${verdict.why}`);
    }
    return { Commit: commit, WriterKey: sig.key, Signer: (await check.signerName(commit)) ?? verdict.writer ?? 'the pinned key' };
  } finally {
    check.close();
  }
}

/**
 * Accepts a branch head that does not descend from the newest commit this clone saw on it (a deliberate
 * force-push or reset), after saying what is lost. The new head must authenticate like any other.
 */
export async function acceptRewind(auth: Authenticator, branch = currentBranch(auth.loc.gitDir)): Promise<{ Branch: string; From?: string; To: string; Lost: string[] }> {
  if (branch === undefined) throw new InvalidRequestException('HEAD is detached: name the branch with --branch');
  const git = openGit(auth.loc.repoRoot);
  const to = (await git.run(['rev-parse', '--verify', '-q', `refs/heads/${branch}^{commit}`]).catch(() => '')).trim();
  if (!to) throw new InvalidParameterException(`no branch ${branch}`);
  const from = auth.records.head(branch);
  const lost = from ? (await git.run(['log', '--format=%h %s', `${to}..${from}`]).catch(() => '')).split('\n').filter(Boolean) : [];
  const verdict = await auth.authenticate(to);
  if (!verdict.ok) throw new InvalidRequestException(`${branch} (${shortCommit(to)}) does not authenticate: commit ${shortCommit(verdict.commit)} ${verdict.why}`);
  auth.records.setHead(branch, to);
  return { Branch: branch, ...(from ? { From: from } : {}), To: to, Lost: lost };
}

/**
 * For a store made by a release with per-file signatures: one commit, signed by an unscoped writer of
 * the current configuration, that drops every `signature:` block; it becomes this clone's pinned trust
 * root, to be shared with the team. History before it is not authenticated.
 */
export async function migrateStore(store: SecretStore, opts: { reroot?: boolean } = {}): Promise<{ Commit: string; WriterKey: string; Files: number }> {
  const loc: StoreLocation = store.location;
  const commit = store.commitId;
  const git = openGit(loc.repoRoot);
  const paths = (await git.run(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit, '--', `${loc.prefix}${CONFIG_FILE}`, `${loc.prefix}${SECRETS_DIR}`]))
    .split('\0')
    .filter((p) => p === `${loc.prefix}${CONFIG_FILE}` || p.endsWith(`/${INDEX_FILE}`));
  const texts = await store.objects.readMany(paths.map((p) => `${commit}:${p}`));
  const changes: FileChange[] = [];
  paths.forEach((path, i) => {
    const text = texts[i]?.content.toString('utf8');
    if (text !== undefined && unsignedText(text) !== text) changes.push({ path: path.slice(loc.prefix.length), content: unsignedText(text) });
  });
  let config = store.config;
  if (opts.reroot) {
    // Every writer key lost: the new root is the configuration as edited by hand, signed by a key it lists.
    const { readConfigFile } = await import('../store/work-tree-view.js');
    const edited = await readConfigFile(loc.root);
    config = edited.config;
    if (!changes.some((c) => c.path === CONFIG_FILE)) changes.push({ path: CONFIG_FILE, content: edited.text });
  } else if (changes.length === 0) {
    throw new InvalidRequestException('no file of this store carries a per-file signature block: it is not a store of an older release (pin its root with secretstore trust --root instead)');
  }
  const signer = (await store.keys()).signers[0];
  const writer = config.writers.find((w) => w.scope === undefined && signer !== undefined && w.writerKey.toLowerCase() === signer.publicKey.toLowerCase());
  if (!signer || !writer) throw new InvalidRequestException(`only an unscoped writer of ${CONFIG_FILE} can ${opts.reroot ? 're-root' : 'migrate'} the store; the identity's key is not one`);
  const { transact } = await import('../store/transaction.js');
  let made = '';
  await transact(
    loc,
    async () => ({
      result: undefined,
      changes,
      message: opts.reroot
        ? `trust reroot: a new trust root\n\n${writer.name} vouches for this state and configuration; it becomes the trust root\n`
        : `trust migrate: signed commits from here on\n\n${changes.length} file(s) lose their per-file signature block; ${writer.name} vouches for this state and it becomes the trust root\n`,
    }),
    {
      ...(opts.reroot ? { adopt: [CONFIG_FILE] } : {}),
      sign: async (draft) => signedMessage(draft, signer.publicKey, (b) => signer.sign(b)),
      committed: (c) => {
        made = c;
      },
    },
  );
  const records = new TrustRecords(loc);
  records.setRoot({ commit: made, key: signer.publicKey, how: 'pinned' });
  rmSync(join(records.dir, 'ok'), { recursive: true, force: true });
  records.mark([made]);
  const branch = currentBranch(loc.gitDir);
  if (branch) records.setHead(branch, made);
  return { Commit: made, WriterKey: signer.publicKey, Files: changes.length };
}
