/**
 * What reads do with a file whose signature does not hold (src/core/signature.ts): refuse it with a
 * one-line error naming the secret, the file and why, or, when the caller passed `--allow-unsigned`
 * (OpenStoreOptions.allowUnsigned), let it through with a warning on stderr.
 */
import { InvalidRequestException, type SecretsManagerErrorClass } from '../errors.js';
import { parseWriterKey } from '../crypto/keys.js';
import type { WriterKey } from '../crypto/types.js';

export interface TrustOptions {
  /** Read files whose signature is missing or untrusted, with a warning (the `--allow-unsigned` flag). */
  readonly allowUnsigned?: boolean;
  /** Where the warning goes; default stderr. */
  readonly warn?: (line: string) => void;
}

const parsed = new Map<string, WriterKey | null>();

/** Ed25519 verification by a writer key's text (parsed once per process); false for a malformed key. */
export function verifyWriter(key: string, message: Uint8Array, signature: Uint8Array): boolean {
  let writer = parsed.get(key);
  if (writer === undefined) {
    try {
      writer = parseWriterKey(key);
    } catch {
      writer = null;
    }
    parsed.set(key, writer);
  }
  return writer !== null && writer.verify(message, signature);
}

/**
 * `problem` is "<subject>: <file> <why>". Throws (InvalidRequestException by default), or warns and
 * returns when unsigned reads are allowed.
 */
export function refuseUntrusted(trust: TrustOptions, problem: string, error: SecretsManagerErrorClass = InvalidRequestException): void {
  if (!trust.allowUnsigned) throw new error(`${problem}; refusing to use it (pass --allow-unsigned to read it anyway)`);
  (trust.warn ?? ((line: string) => process.stderr.write(`${line}\n`)))(`warning: ${problem}; used anyway because of --allow-unsigned`);
}
