/**
 * Signed files (issue #4): a `secret.yaml` or `.secretstore.yaml` ends with a top-level `signature:`
 * mapping by the writer that made the change. The signature sits inside the file it signs, so a merge
 * driver can re-sign a merged index in one output and a rebase keeps a file and its signature together.
 *
 *   signature:
 *     writer: alice                      the writer's name in .secretstore.yaml (informative)
 *     key: secretstoresig1...            the writer key that signed
 *     date: 2026-11-29T12:00:00.000Z
 *     previous: <sha256 hex> | null | [<sha256>, <sha256>]
 *     files:                             secret.yaml only: VersionId -> sha256 of its sealed file
 *       <VersionId>: <sha256 hex>
 *     sig: <base64 Ed25519>
 *
 * The signed statement (`statement`) covers the store id, the file's store-relative path, the sha256 of
 * the file's text before the block ("unsigned text"), `previous` (the unsigned-text hash of the state it
 * replaced: null for a new file, two for a merge), every live sealed file's hash, the key, the writer and
 * the date. Pure: hashing and text only; signing and verifying are functions the caller passes in.
 */
import { createHash } from 'node:crypto';
import { parseDocument, stringify } from 'yaml';
import { inScope, type WriterEntry } from '../model/store.js';

export const SIGNATURE_FORMAT = 'secretstore.signature/1';
export const SIGNATURE_KEY = 'signature';

/** The hash of the state a signed file replaced: none (a new file), one, or two (a merge). */
export type Previous = string | null | readonly [string, string];

export interface SignatureBlock {
  readonly writer: string;
  readonly key: string;
  readonly date: string;
  readonly previous: Previous;
  /** VersionId -> sha256 (hex) of `versions/<id>.sealed`; absent for `.secretstore.yaml`. */
  readonly files?: Readonly<Record<string, string>>;
  /** base64 Ed25519 signature of `statement(...)`. */
  readonly sig: string;
}

export interface SplitFile {
  /** The text before the signature block (the whole text when there is none): what the codec parses. */
  readonly unsigned: string;
  /** The parsed block; undefined when the file has none. */
  readonly block?: SignatureBlock;
  /** Why the block that is there is unusable (damaged, not trailing); undefined when it is fine or absent. */
  readonly damaged?: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const SHA256 = /^[0-9a-f]{64}$/;
const BASE64_SIG = /^[A-Za-z0-9+/]{86}==$/;
const BLOCK_START = /^signature:/gm;

function blockStart(text: string): number {
  let at = -1;
  for (const m of text.matchAll(BLOCK_START)) at = m.index;
  return at;
}

/** The text before the signature block (all of it when there is none): what the codec parses. */
export function unsignedText(text: string): string {
  const at = blockStart(text);
  return at < 0 ? text : text.slice(0, at);
}

/** Splits a file at its trailing top-level `signature:` key (the last line starting with it). */
export function splitSigned(text: string): SplitFile {
  const at = blockStart(text);
  if (at < 0) return { unsigned: text };
  const unsigned = text.slice(0, at);
  const doc = parseDocument(text.slice(at), { schema: 'core' });
  if (doc.errors.length > 0) return { unsigned, damaged: 'its signature block is not valid YAML' };
  const value = doc.toJS() as unknown;
  if (!isMap(value) || Object.keys(value).length !== 1) return { unsigned, damaged: 'its signature block is not the last key of the file' };
  const block = parseBlock(value[SIGNATURE_KEY]);
  return typeof block === 'string' ? { unsigned, damaged: `its signature block is damaged (${block})` } : { unsigned, block };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The block, or why it is not one. */
function parseBlock(v: unknown): SignatureBlock | string {
  if (!isMap(v)) return 'not a map';
  const extra = Object.keys(v).find((k) => !['writer', 'key', 'date', 'previous', 'files', 'sig'].includes(k));
  if (extra !== undefined) return `unknown field '${extra.slice(0, 40)}'`;
  const { writer, key, date, previous, files, sig } = v;
  if (typeof writer !== 'string' || typeof key !== 'string' || typeof date !== 'string') return 'writer, key and date must be strings';
  if (typeof sig !== 'string' || !BASE64_SIG.test(sig)) return 'sig must be a base64 Ed25519 signature';
  let prev: Previous;
  if (previous === null || (typeof previous === 'string' && SHA256.test(previous))) prev = previous;
  else if (Array.isArray(previous) && previous.length === 2 && previous.every((p) => typeof p === 'string' && SHA256.test(p))) {
    prev = [previous[0] as string, previous[1] as string];
  } else return 'previous must be null, a sha256 or a list of two';
  let fileMap: Record<string, string> | undefined;
  if (files !== undefined) {
    if (!isMap(files) || Object.values(files).some((h) => typeof h !== 'string' || !SHA256.test(h))) return 'files must map VersionIds to sha256 hashes';
    fileMap = files as Record<string, string>;
  }
  return { writer, key, date, previous: prev, ...(fileMap ? { files: fileMap } : {}), sig };
}

export interface StatementFields {
  readonly storeId: string;
  /** Store-relative POSIX path of the signed file. */
  readonly path: string;
  /** sha256 of the unsigned text. */
  readonly textHash: string;
  readonly previous: Previous;
  readonly files?: Readonly<Record<string, string>>;
  readonly key: string;
  readonly writer: string;
  readonly date: string;
}

/** The bytes that are signed: canonical JSON (files sorted by VersionId), tagged with the format. */
export function statement(f: StatementFields): Uint8Array {
  const files = f.files === undefined ? null : Object.keys(f.files).sort().map((id) => [id, f.files![id]]);
  return new TextEncoder().encode(
    JSON.stringify([SIGNATURE_FORMAT, f.storeId, f.path, f.textHash, f.previous, files, f.key, f.writer, f.date]),
  );
}

/** The unsigned text with a block appended: `sign` makes the signature of the statement. */
export function appendSignature(
  unsigned: string,
  fields: Omit<StatementFields, 'textHash'>,
  sign: (message: Uint8Array) => Uint8Array,
): string {
  const body = unsigned.endsWith('\n') || unsigned === '' ? unsigned : `${unsigned}\n`;
  const sig = Buffer.from(sign(statement({ ...fields, textHash: sha256Hex(body) }))).toString('base64');
  const given = fields.files;
  const files = given === undefined ? undefined : Object.fromEntries(Object.keys(given).sort().map((id): [string, string] => [id, given[id]!]));
  const block: SignatureBlock = {
    writer: fields.writer,
    key: fields.key,
    date: fields.date,
    previous: fields.previous,
    ...(files ? { files } : {}),
    sig,
  };
  return body + stringify({ [SIGNATURE_KEY]: block }, { lineWidth: 0, schema: 'core' });
}

/** Whether `block` is a valid signature of `unsigned` at `path` in store `storeId` (trust is the caller's). */
export function signatureValid(
  unsigned: string,
  block: SignatureBlock,
  where: { storeId: string; path: string },
  verify: (key: string, message: Uint8Array, signature: Uint8Array) => boolean,
): boolean {
  const message = statement({ ...where, ...block, textHash: sha256Hex(unsigned) });
  return verify(block.key, message, new Uint8Array(Buffer.from(block.sig, 'base64')));
}

/** The writer entry trusted to sign `key`'s changes to secret `name`, or to the configuration (`name` undefined: unscoped writers only). */
export function trustedWriter(writers: readonly WriterEntry[], key: string, name: string | undefined): WriterEntry | undefined {
  const k = key.trim().toLowerCase();
  return writers.find((w) => w.writerKey.trim().toLowerCase() === k && (name === undefined ? w.scope === undefined : inScope(w.scope, name)));
}

export type Verdict =
  | { readonly ok: true; readonly block: SignatureBlock; readonly writer: WriterEntry }
  | { readonly ok: false; readonly why: string };

/**
 * Whether a split file carries a valid signature by a writer that `writers` trusts for `name` (undefined:
 * the configuration). `why` completes "<path> ..." in one line.
 */
export function checkSigned(
  split: SplitFile,
  where: { storeId: string; path: string; name: string | undefined },
  writers: readonly WriterEntry[],
  verify: (key: string, message: Uint8Array, signature: Uint8Array) => boolean,
): Verdict {
  if (split.damaged !== undefined) return { ok: false, why: split.damaged };
  const block = split.block;
  if (block === undefined) return { ok: false, why: 'is not signed (edited by hand, or committed without secretstore)' };
  const writer = trustedWriter(writers, block.key, where.name);
  if (writer === undefined) {
    const what = where.name === undefined ? 'the store configuration' : `secret '${where.name}'`;
    return { ok: false, why: `is signed by ${shortKey(block.key)}, which is not a writer trusted for ${what}` };
  }
  if (!signatureValid(split.unsigned, block, where, verify)) {
    return { ok: false, why: `has a signature by ${writer.name} that does not match its content (changed after it was signed)` };
  }
  return { ok: true, block, writer };
}

/** A key shown in messages: enough to recognise, never more than a line's worth of untrusted text. */
export function shortKey(key: string): string {
  return /^secretstoresig1[02-9ac-hj-np-z]{6,}$/.test(key) ? `writer key ${key.slice(0, 24)}...` : 'an unknown key';
}
