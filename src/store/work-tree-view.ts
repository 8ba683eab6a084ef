/**
 * The store's files as they are in the work tree, for the git hooks and shell completion: they run
 * inside git's own operations (a commit being made, a merge being finished) or must never fail, so they
 * read what is on disk, unauthenticated. Operations never use this view: they read authenticated commits
 * (src/store/commit-view.ts).
 */
import { promises as fsp, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InternalServiceError, InvalidRequestException } from '../errors.js';
import { CONFIG_FILE, parseConfigAsync, parseSecretIndex, parseSecretIndexAsync } from '../core/codec.js';
import { loadYaml } from '../core/yaml-value.js';
import type { SecretSummary } from '../core/filters.js';
import { INDEX_FILE, indexPath, SECRETS_DIR, VERSIONS_DIR, versionFileName, versionPath, versionsDir } from '../core/layout.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';
import type { SecretValue } from '../model/value.js';
import type { StoreView } from '../ops/context.js';
import type { Identity } from '../crypto/types.js';
import { refuseSymlinks } from './symlinks.js';
import { loadCrypto } from '../crypto/load.js';

export async function readConfig(root: string): Promise<StoreConfig> {
  return (await readConfigFile(root)).config;
}

/** `.secretstore.yaml` as read (its signature is checked on this text) and parsed, from one read. */
export async function readConfigFile(root: string): Promise<{ text: string; config: StoreConfig }> {
  refuseSymlinks(root, [CONFIG_FILE]);
  const file = join(root, CONFIG_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidRequestException(`${root} is not a secretstore (no ${CONFIG_FILE}); run secretstore init`);
    }
    throw err;
  }
  return { text, config: await parseConfigAsync(text, CONFIG_FILE) };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
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
    if (!this.cache.has(name)) {
      const file = indexPath(name);
      refuseSymlinks(this.root, [file, versionsDir(name)]);
      const text = await readIfExists(join(this.root, file));
      const index = text === undefined ? undefined : await parseSecretIndexAsync(text, file);
      if (index !== undefined && index.name !== name) throw new InternalServiceError(`${file} is damaged: it names secret '${index.name}'`);
      if (index !== undefined) checkVersionFiles(index, file, await listDir(join(this.root, versionsDir(name))));
      this.cache.set(name, index);
    }
    return this.cache.get(name);
  }

  async listSecretNames(): Promise<string[]> {
    return (await this.listSecretSummaries()).map((s) => s.name).sort();
  }

  async listSecretSummaries(): Promise<SecretSummary[]> {
    await loadYaml(); // work-tree files may be edited by hand; this view is for hooks and completion only
    const out: SecretSummary[] = [];
    const visit = (rel: string): void => {
      const abs = join(this.root, SECRETS_DIR, rel);
      let entries;
      try {
        entries = readdirSync(abs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const d of entries) {
        if (d.isDirectory() && d.name !== VERSIONS_DIR) visit(rel === '' ? d.name : `${rel}/${d.name}`);
        else if (d.name === INDEX_FILE && d.isFile()) {
          const file = `${SECRETS_DIR}/${rel}/${INDEX_FILE}`;
          // eslint-disable-next-line @typescript-eslint/no-unused-vars
          const { versions, placeholders, ...summary } = parseSecretIndex(readFileSync(join(this.root, file), 'utf8'), file);
          out.push(summary);
        }
      }
    };
    if (statSync(join(this.root, SECRETS_DIR), { throwIfNoEntry: false })?.isDirectory()) visit('');
    return out;
  }

  readSealedText(index: SecretIndex, versionId: string): Promise<string> {
    return fsp.readFile(join(this.root, versionPath(index.name, versionId)), 'utf8');
  }

  async openVersion(index: SecretIndex, versionId: string): Promise<SecretValue> {
    const file = versionPath(index.name, versionId);
    const [text, identities, crypto] = await Promise.all([this.readSealedText(index, versionId), (this.identities ??= this.loadIdentities()), loadCrypto()]);
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
