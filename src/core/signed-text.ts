/**
 * Reading index and config texts from history, whether or not they carry the trailing `signature:`
 * block of signed changes. The block is split off before the codec sees the text, so history written
 * before and after signing reads the same; what review needs of it (is there one, did it change, who
 * signed) is kept aside. Nothing here checks a signature: that is `verify`'s work.
 */
import { parseDocument } from 'yaml';
import { parseConfig, parseSecretIndex } from './codec.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';

export interface SignatureBlock {
  /** The block as written (canonical YAML of its value), to tell whether it changed. */
  readonly text: string;
  /** The signing writer's name, when the block names one. */
  readonly writer?: string;
}

export interface Signed<T> {
  readonly value: T;
  readonly signature?: SignatureBlock;
}

export function splitSignature(text: string): { body: string; signature?: SignatureBlock } {
  // Cheap test first: most texts in a long history are parsed once more by the codec anyway.
  if (!/^signature:/m.test(text)) return { body: text };
  const doc = parseDocument(text, { schema: 'core' });
  if (doc.errors.length > 0 || !doc.has('signature')) return { body: text };
  const value: unknown = (doc.toJS() as Record<string, unknown>).signature;
  doc.delete('signature');
  const fields = (value ?? {}) as Record<string, unknown>;
  const writer = [fields.writer, fields.name, fields.writerName].find((v): v is string => typeof v === 'string' && v !== '');
  return { body: String(doc), signature: { text: JSON.stringify(value), ...(writer === undefined ? {} : { writer }) } };
}

export function readSignedIndex(text: string, file: string): Signed<SecretIndex> {
  const { body, signature } = splitSignature(text);
  return { value: parseSecretIndex(body, file), ...(signature === undefined ? {} : { signature }) };
}

export function readSignedConfig(text: string, file: string): Signed<StoreConfig> {
  const { body, signature } = splitSignature(text);
  return { value: parseConfig(body, file), ...(signature === undefined ? {} : { signature }) };
}
