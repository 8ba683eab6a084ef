/**
 * Reading index and config texts from history, whether or not they carry the trailing `signature:`
 * block of signed changes. The block is split off before the codec sees the text, so history written
 * before and after signing reads the same; what review needs of it (is there one, did it change, who
 * signed) is kept aside. Nothing here checks a signature: that is `verify`'s work.
 */
import { parseConfig, parseSecretIndex } from './codec.js';
import { splitSigned } from './signature.js';
import type { SecretIndex, StoreConfig } from '../model/store.js';

export interface SignatureBlock {
  /** The block as written, to tell whether it changed. */
  readonly text: string;
  /** The signing writer's name, when the block names one. */
  readonly writer?: string;
}

export interface Signed<T> {
  readonly value: T;
  readonly signature?: SignatureBlock;
}

export function splitSignature(text: string): { body: string; signature?: SignatureBlock } {
  const { unsigned, block } = splitSigned(text);
  if (unsigned === text) return { body: text };
  // a damaged block still counts as one (review tells whether it changed); only a parsed one names its writer
  return { body: unsigned, signature: { text: text.slice(unsigned.length), ...(block === undefined ? {} : { writer: block.writer }) } };
}

export function readSignedIndex(text: string, file: string): Signed<SecretIndex> {
  const { body, signature } = splitSignature(text);
  return { value: parseSecretIndex(body, file), ...(signature === undefined ? {} : { signature }) };
}

export function readSignedConfig(text: string, file: string): Signed<StoreConfig> {
  const { body, signature } = splitSignature(text);
  return { value: parseConfig(body, file), ...(signature === undefined ? {} : { signature }) };
}
