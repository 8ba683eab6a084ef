import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, promises as fsp, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InvalidParameterException, InvalidRequestException, ResourceExistsException } from '../errors.js';
import { generateIdentity, identityFromText, keyLineKind, sameSigner, signerFromText } from './keys.js';
import { isProtectedIdentityText, openProtectedIdentity, protectIdentityText, publicKeyComments, type PassphraseProvider } from './passphrase.js';
import { cryptoReady } from './sodium.js';
import type { Identity, Signer } from './types.js';

/** The flag, else $SECRETSTORE_IDENTITY, else $XDG_CONFIG_HOME/secretstore/identity, else ~/.config/secretstore/identity. */
export function resolveIdentityPath(opts: { flag?: string; env: NodeJS.ProcessEnv }): string {
  if (opts.flag) return opts.flag;
  if (opts.env.SECRETSTORE_IDENTITY) return opts.env.SECRETSTORE_IDENTITY;
  if (opts.env.XDG_CONFIG_HOME) return join(opts.env.XDG_CONFIG_HOME, 'secretstore', 'identity');
  return join(homedir(), '.config', 'secretstore', 'identity');
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** The keys of one identity file: decryption keys (recipient side) and signing keys (writer side). */
export interface IdentityKeys {
  readonly identities: readonly Identity[];
  readonly signers: readonly Signer[];
}

/** Every decryption key of an identity file; an error when it holds none (a write-only writer's file). */
export async function readIdentities(path: string): Promise<Identity[]> {
  return requireIdentities(await readIdentityFile(path), path);
}

/** The decryption keys of an identity file's keys; an error naming the file when it holds none. */
export function requireIdentities({ identities }: IdentityKeys, path: string): Identity[] {
  if (identities.length === 0) {
    throw new InvalidRequestException(
      `identity file ${path} holds no decryption key (it is a write-only writer's); it can put values but not read them`,
    );
  }
  return [...identities];
}

/** Options of reading an identity file. */
export interface ReadIdentityOptions {
  /** Where the passphrase of a protected file comes from (the shell's environment, askpass or terminal). */
  readonly passphrase?: PassphraseProvider;
}

/**
 * Every key line of an identity file; refuses a file that others could read. A passphrase-protected file
 * is decrypted with a passphrase from `opts.passphrase` (see passphrase.ts).
 */
export async function readIdentityFile(path: string, opts: ReadIdentityOptions = {}): Promise<IdentityKeys> {
  await cryptoReady();
  const text = await readPrivateFile(path);
  if (!isProtectedIdentityText(text)) return parseKeyLines(text, path);
  const keys = await openProtectedIdentity(text, path, opts.passphrase, (keyText) => parseKeyLines(keyText, `${path} (decrypted)`, path));
  // The comments are what people copy public keys from without the passphrase: they must be this file's keys.
  const own = new Set([...keys.identities, ...keys.signers].map((k) => k.publicKey));
  if (!publicKeyComments(text).every((k) => own.has(k))) {
    disposeKeys(keys);
    throw new InvalidRequestException(`identity file ${path} is damaged: a public key in its comments is not one of its encrypted keys`);
  }
  return keys;
}

/** Whether the identity file at `path` is passphrase-protected; false when it cannot be read (reading it says why). */
export async function isProtectedIdentityFile(path: string): Promise<boolean> {
  return fsp.readFile(path, 'utf8').then(isProtectedIdentityText, () => false);
}

/**
 * The text of a file only its owner can read: stat and read the same open file, so the check is about what is
 * read. Synchronous (a small file): node:fs/promises is not loaded on a read, whose start it would slow.
 */
async function readPrivateFile(path: string): Promise<string> {
  try {
    const file = openSync(path, 'r');
    try {
      const stat = fstatSync(file);
      if (!stat.isFile()) throw new InvalidRequestException(`identity file ${path} is not a regular file`);
      // Windows has no POSIX modes to check
      if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
        throw new InvalidRequestException(
          `identity file ${path} has mode ${mode}, so other users may read it; run: chmod 600 ${path}`,
        );
      }
      return readFileSync(file, 'utf8');
    } finally {
      closeSync(file);
    }
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      throw new InvalidRequestException(
        `no identity was found at ${path}; run \`secretstore keygen\` to create one, or pass --identity <file>`,
      );
    }
    if (errnoCode(e)) throw new InvalidRequestException(`cannot read identity file ${path} (${errnoCode(e)})`);
    throw e;
  }
}

/** The keys of an identity file's key lines; `source` names the lines in errors, `path` the file. */
function parseKeyLines(text: string, source: string, path = source): IdentityKeys {
  const identities: Identity[] = [];
  const signers: Signer[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let key: Identity | Signer;
    try {
      key = keyLineKind(line) === 'signing' ? signerFromText(line, path) : identityFromText(line, path);
    } catch (e) {
      if (!(e instanceof InvalidParameterException)) throw e;
      // the line may be a nearly-right secret key: name it, never print it
      const lower = line.toLowerCase();
      const hint = lower.startsWith('secretstore1') || lower.startsWith('secretstoresig1') ? ' (it holds a public key, not a secret key)' : '';
      throw new InvalidRequestException(`${source} line ${index + 1} is not a secretstore secret key${hint}`);
    }
    if ('sign' in key) {
      // Compared by seed: a signer's public key is derived only when it is first used (keys.ts).
      if (!signers.some((other) => sameSigner(other, key))) signers.push(key);
      return;
    }
    if (seen.has(key.publicKey)) return;
    seen.add(key.publicKey);
    identities.push(key);
  });
  if (identities.length === 0 && signers.length === 0) throw new InvalidRequestException(`identity file ${path} holds no secret key`);
  return { identities, signers };
}

/** Zeroes the keys (the classes of keys.ts have `dispose`; the interfaces leave it out). */
export function disposeKeys({ identities, signers }: IdentityKeys): void {
  for (const key of [...identities, ...signers]) (key as { dispose?: () => void }).dispose?.();
}

/**
 * Generates a key and writes it to `path` with mode 0600; with `passphrase` (the caller zeroes it), the key
 * lines are encrypted under it. See `writePrivateFile` for how the file lands.
 */
export async function writeIdentityFile(
  path: string,
  opts: { force?: boolean; writeOnly?: boolean; passphrase?: Uint8Array } = {},
): Promise<{ publicKey?: string; writerKey: string }> {
  await cryptoReady();
  const { identityText, publicKey, writerKey } = generateIdentity({ writeOnly: opts.writeOnly === true });
  let text = identityText;
  if (opts.passphrase) {
    const lines = identityText.split('\n');
    const comments = lines.filter((l) => l.startsWith('#'));
    const keyText = lines.filter((l) => l !== '' && !l.startsWith('#')).join('\n');
    text = await protectIdentityText(comments, keyText, opts.passphrase.slice());
  }
  await writePrivateFile(path, text, opts.force === true);
  return { ...(publicKey ? { publicKey } : {}), writerKey };
}

/** What `setIdentityPassphrase` did. */
export interface PassphraseChange {
  /** Whether the file is now passphrase-protected. */
  readonly protected: boolean;
  /** Its public keys (`secretstore1...`) then writer keys (`secretstoresig1...`), unchanged. */
  readonly publicKeys: readonly string[];
}

/**
 * Adds, changes or removes the passphrase of an existing identity file in place: the current passphrase
 * (if any) comes from `passphrase`; then `newPassphrase()` gives the new one (zeroed here), or null to
 * store the keys unencrypted. The keys themselves do not change; the file is replaced atomically, 0600.
 */
export async function setIdentityPassphrase(
  path: string,
  opts: { passphrase?: PassphraseProvider; newPassphrase: () => Promise<Uint8Array | null> },
): Promise<PassphraseChange> {
  await cryptoReady();
  const text = await readPrivateFile(path);
  const wasProtected = isProtectedIdentityText(text);
  const keyLines = (t: string) => t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).join('\n');
  const keyText = wasProtected ? await openProtectedIdentity(text, path, opts.passphrase, keyLines) : keyLines(text);
  const keys = parseKeyLines(keyText, path);
  const publicKeys = [...keys.identities, ...keys.signers].map((k) => k.publicKey);
  const comments = [
    ...text.split(/\r?\n/).filter((l) => l.trim().startsWith('#') && publicKeyComments(l).length === 0),
    ...keys.identities.map((k) => `# public key: ${k.publicKey}`),
    ...keys.signers.map((k) => `# writer key: ${k.publicKey}`),
  ];
  disposeKeys(keys);
  const newPassphrase = await opts.newPassphrase();
  if (newPassphrase === null && !wasProtected) {
    throw new InvalidRequestException(`identity file ${path} is not passphrase-protected; nothing to remove`);
  }
  const newText = newPassphrase === null ? [...comments, keyText, ''].join('\n') : await protectIdentityText(comments, keyText, newPassphrase);
  await writePrivateFile(path, newText, true);
  return { protected: newPassphrase !== null, publicKeys };
}

/**
 * Writes `text` to `path` with mode 0600. The content goes to a temp file first, then is hard-linked into
 * place (which fails if `path` exists, so two racing keygens cannot both win) or, with `replace`, renamed
 * over it. Either way no reader ever sees a half-written identity.
 */
async function writePrivateFile(path: string, text: string, replace: boolean): Promise<void> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await fsp.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await file.chmod(0o600); // the umask cannot widen it, but be explicit about what we rely on
    await file.writeFile(text, 'utf8');
    await file.sync();
  } catch (e) {
    await file.close();
    await fsp.unlink(temp).catch(() => undefined);
    throw e;
  }
  await file.close();
  try {
    if (replace) {
      await fsp.rename(temp, path);
    } else {
      await fsp.link(temp, path);
      await fsp.unlink(temp);
    }
  } catch (e) {
    await fsp.unlink(temp).catch(() => undefined);
    if (errnoCode(e) === 'EEXIST') {
      throw new ResourceExistsException(
        `an identity file already exists at ${path}; refusing to overwrite it (--force replaces it, and the old key is lost)`,
      );
    }
    throw e;
  }
}
