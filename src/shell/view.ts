/**
 * The store as operations see it, read lazily from the work tree: one secret's index (and the listing of
 * its versions folder, to check the two agree) per read, a sealed file only when a value is needed.
 * Cost per operation never grows with the number of secrets.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalServiceError } from '../errors.js';
import { CONFIG_FILE, parseConfig, parseSecretIndex } from '../core/codec.js';
import { indexPath, versionFileName, versionPath, versionsDir } from '../core/layout.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';
import type { SecretValue } from '../model/value.js';
import type { StoreView } from '../ops/context.js';
import type { Identity } from '../crypto/types.js';
import { InvalidRequestException } from '../errors.js';

export async function readConfig(root: string): Promise<StoreConfig> {
  const file = join(root, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidRequestException(`${root} is not a secretstore (no ${CONFIG_FILE}); run secretstore init`);
    }
    throw err;
  }
  return parseConfig(text, CONFIG_FILE);
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export class WorkTreeView implements StoreView {
  private readonly cache = new Map<string, SecretIndex | undefined>();
  private identities?: Promise<readonly Identity[]>;

  constructor(
    readonly root: string,
    readonly config: StoreConfig,
    private readonly loadIdentities: () => Promise<readonly Identity[]>,
  ) {}

  async readSecret(name: string): Promise<SecretIndex | undefined> {
    if (!this.cache.has(name)) this.cache.set(name, await this.load(name));
    return this.cache.get(name);
  }

  private async load(name: string): Promise<SecretIndex | undefined> {
    const file = indexPath(name);
    const text = await readIfExists(join(this.root, file));
    if (text === undefined) return undefined;
    const index = parseSecretIndex(text, file);
    if (index.name !== name) throw new InternalServiceError(`${file} is damaged: it names secret '${index.name}'`);
    checkVersionFiles(index, file, await listDir(join(this.root, versionsDir(name))));
    return index;
  }

  async openVersion(index: SecretIndex, versionId: string): Promise<SecretValue> {
    const file = versionPath(index.name, versionId);
    const [text, identities, crypto] = await Promise.all([
      readFile(join(this.root, file), 'utf8'),
      (this.identities ??= this.loadIdentities()),
      loadCrypto(),
    ]);
    return crypto.openValue(text, { storeId: this.config.storeId, secretArn: index.arn, versionId }, identities, file);
  }
}

/** The index and the versions folder must agree: a file without an entry, or an entry without a file, is damage. */
export function checkVersionFiles(index: SecretIndex, file: string, names: readonly string[]): void {
  const expected = new Map(Object.keys(index.versions).map((id) => [versionFileName(id), id]));
  for (const name of names) {
    if (!expected.delete(name)) throw new InternalServiceError(`${file} is damaged: version file ${name} has no entry in the index`);
  }
  for (const id of expected.values()) {
    throw new InternalServiceError(`${file} is damaged: version ${id} has no sealed file`);
  }
}

/** libsodium costs ~40 ms to start; only operations that seal or open a value pay for it. */
export async function loadCrypto(): Promise<typeof import('../crypto/index.js')> {
  const crypto = await import('../crypto/index.js');
  await crypto.cryptoReady();
  return crypto;
}
