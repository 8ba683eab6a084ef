/**
 * `secretstore textconv FILE`, git's `diff.secretstore.textconv`: a sealed file's header instead of its
 * base64; any other file unchanged. Reads no key and loads no libsodium. git runs it from the
 * repository's top level with a temporary copy of the file, so the store is found from the working
 * folder, never from the file's path; without a store, recipients are shown by key.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE, parseConfig } from '../core/codec.js';
import { recipientNames, renderSealedHeader } from '../core/sealed-header.js';
import { readEnvelopeHeader, type EnvelopeHeader } from '../crypto/envelope.js';
import type { StoreConfig } from '../model/store.js';
import { locateStore, type LocateOptions } from '../store/location.js';
import '../core/yaml-eager.js'; // parses and writes store files synchronously: the yaml package must be loaded

async function storeConfig(opts: LocateOptions): Promise<StoreConfig | undefined> {
  try {
    const root = locateStore(opts).root;
    return parseConfig(await readFile(join(root, CONFIG_FILE), 'utf8'), CONFIG_FILE);
  } catch {
    return undefined; // outside a store, or a config being edited: keys instead of names
  }
}

export async function textconv(file: string, opts: LocateOptions): Promise<Buffer> {
  const bytes = await readFile(file);
  let header: EnvelopeHeader;
  try {
    header = readEnvelopeHeader(bytes.toString('utf8'), file);
  } catch {
    return bytes; // not a sealed file (or a broken one): git shows it as it is
  }
  return Buffer.from(renderSealedHeader(header, recipientNames(await storeConfig(opts))), 'utf8');
}
