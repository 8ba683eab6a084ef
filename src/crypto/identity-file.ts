import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InvalidParameterException, InvalidRequestException, ResourceExistsException } from '../errors.js';
import { generateIdentity, identityFromText, keyLineKind, signerFromText } from './keys.js';
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

/** Every key line of an identity file; refuses a file that others could read. */
export async function readIdentityFile(path: string): Promise<IdentityKeys> {
  await cryptoReady();
  let text: string;
  try {
    // stat and read the same open file, so the permission check is about what we actually read
    const file = await open(path, 'r');
    try {
      const stat = await file.stat();
      if (!stat.isFile()) throw new InvalidRequestException(`identity file ${path} is not a regular file`);
      // Windows has no POSIX modes to check
      if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
        throw new InvalidRequestException(
          `identity file ${path} has mode ${mode}, so other users may read it; run: chmod 600 ${path}`,
        );
      }
      text = await file.readFile('utf8');
    } finally {
      await file.close();
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
      throw new InvalidRequestException(`${path} line ${index + 1} is not a secretstore secret key${hint}`);
    }
    if (seen.has(key.publicKey)) return;
    seen.add(key.publicKey);
    if ('sign' in key) signers.push(key);
    else identities.push(key);
  });
  if (identities.length === 0 && signers.length === 0) throw new InvalidRequestException(`identity file ${path} holds no secret key`);
  return { identities, signers };
}

/**
 * Generates a key and writes it to `path` with mode 0600. The content goes to a temp file first, then
 * is hard-linked into place (which fails if `path` exists, so two racing keygens cannot both win) or,
 * with `force`, renamed over it. Either way no reader ever sees a half-written identity.
 */
export async function writeIdentityFile(
  path: string,
  opts: { force?: boolean; writeOnly?: boolean } = {},
): Promise<{ publicKey?: string; writerKey: string }> {
  await cryptoReady();
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { identityText, publicKey, writerKey } = generateIdentity({ writeOnly: opts.writeOnly === true });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await file.chmod(0o600); // the umask cannot widen it, but be explicit about what we rely on
    await file.writeFile(identityText, 'utf8');
    await file.sync();
  } catch (e) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await file.close();
  try {
    if (opts.force) {
      await rename(temp, path);
    } else {
      await link(temp, path);
      await unlink(temp);
    }
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    if (errnoCode(e) === 'EEXIST') {
      throw new ResourceExistsException(
        `an identity file already exists at ${path}; refusing to overwrite it (--force replaces it, and the old key is lost)`,
      );
    }
    throw e;
  }
  return { ...(publicKey ? { publicKey } : {}), writerKey };
}
