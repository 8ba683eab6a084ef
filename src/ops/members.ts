/**
 * The one check of request members' types, derived from the operation table's Param metadata, for every
 * member of every operation. Each client reports a wrong type in its own protocol's words:
 * - `serve` (JSON 1.1): SerializationException, as AWS answers a body it cannot deserialize;
 * - the CLI's `--cli-input-json/yaml`: the AWS CLI's "Parameter validation failed" with exit 252;
 * - the library (and every caller, last, in `SecretStore.run`): ValidationException.
 * Messages name the member, the type given and the type expected, never the value. Text members must
 * also be well-formed Unicode: a lone surrogate (`"\ud800"` in JSON, or a JavaScript string) cannot be
 * stored as the UTF-8 bytes the store keeps, so it is a ValidationException rather than silently replaced.
 */
import { ValidationException } from '../errors.js';
import { hasLoneSurrogate } from '../core/utf8.js';
import { operations, type OperationName } from './table.js';
import type { Param, ParamType } from './context.js';

/** A member whose type is not what the operation takes. */
export class MemberTypeError extends Error {
  constructor(
    readonly member: string,
    /** The JSON kind given: string, number, boolean, null, array, object (or bytes for a Uint8Array). */
    readonly given: string,
    /** What the member takes, e.g. "a string", "a list of strings". */
    readonly expected: string,
    message = `Expected ${expected} for member ${member}, got ${given}`,
  ) {
    super(message);
    this.name = 'MemberTypeError';
  }
}

/** How blobs arrive: base64 text in JSON (the wire, --cli-input-json), bytes from the library and CLI flags. */
export type BlobForm = 'base64' | 'bytes';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? 'object' : typeof v;
}

const EXPECTED: Record<ParamType, string> = {
  string: 'a string',
  blob: 'a base64 string',
  integer: 'an integer',
  boolean: 'a boolean',
  strings: 'a list of strings',
  tags: 'a list of structures',
  filters: 'a list of structures',
  structure: 'a structure',
  structures: 'a list of structures',
};

function fail(member: string, expected: string, got: unknown): never {
  throw new MemberTypeError(member, kindOf(got), expected);
}

function text(member: string, value: unknown): string {
  if (typeof value !== 'string') fail(member, 'a string', value);
  if (hasLoneSurrogate(value)) {
    throw new ValidationException(`1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must be valid Unicode text (it holds a lone surrogate)`);
  }
  return value;
}

function stringList(member: string, value: unknown): string[] {
  if (!Array.isArray(value)) fail(member, 'a list of strings', value);
  return value.map((v, i) => text(`${member}.${i + 1}`, v));
}

/** A list of structures whose members are strings (Tags: Key, Value; AddReplicaRegions: Region, KmsKeyId) or string lists (Filters: Values). */
function structureList(member: string, value: unknown, lists: readonly string[]): Record<string, unknown>[] {
  if (!Array.isArray(value)) fail(member, 'a list of structures', value);
  return value.map((item, i) => {
    const path = `${member}.${i + 1}`;
    if (!isObject(item)) fail(path, 'a structure', item);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(item)) {
      if (v === null || v === undefined) continue;
      out[key] = lists.includes(key) ? stringList(`${path}.${key}`, v) : text(`${path}.${key}`, v);
    }
    return out;
  });
}

/**
 * One member's value as the operation takes it; MemberTypeError when its type is wrong. With blobs as
 * base64 (JSON), a blob is decoded to bytes; with blobs as bytes it must already be a Uint8Array.
 */
export function decodeMember(p: Param, value: unknown, blobs: BlobForm): unknown {
  switch (p.type) {
    case 'string':
      return text(p.member, value);
    case 'blob':
      if (blobs === 'bytes') return value instanceof Uint8Array ? value : fail(p.member, 'bytes (a Uint8Array)', value);
      // Standard base64 with padding (spec 1.2); the operation checks the decoded size.
      if (typeof value !== 'string') fail(p.member, EXPECTED.blob, value);
      if (!BASE64.test(value)) throw new MemberTypeError(p.member, 'text that is not base64', EXPECTED.blob, `Member ${p.member} is not valid base64`);
      return new Uint8Array(Buffer.from(value, 'base64'));
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : fail(p.member, EXPECTED.integer, value);
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(p.member, EXPECTED.boolean, value);
    case 'strings':
      return stringList(p.member, value);
    case 'tags':
      return structureList(p.member, value, []);
    case 'filters':
      return structureList(p.member, value, ['Values']);
    case 'structure':
      return isObject(value) ? value : fail(p.member, EXPECTED.structure, value);
    case 'structures':
      return structureList(p.member, value, []);
  }
}

/**
 * The operation's members of `request`, each checked and decoded; `null` and `undefined` count as absent,
 * members the operation does not know are left out.
 */
export function decodeMembers(name: OperationName, request: Record<string, unknown>, blobs: BlobForm): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const p of operations[name].params as readonly Param[]) {
    const value = request[p.member];
    if (value === undefined || value === null) continue;
    input[p.member] = decodeMember(p, value, blobs);
  }
  return input;
}

/** The library's (and every caller's last) check: a wrong type is a ValidationException naming the member. */
export function checkMembers(name: OperationName, request: Record<string, unknown>): void {
  try {
    decodeMembers(name, request, 'bytes');
  } catch (err) {
    if (err instanceof MemberTypeError) {
      throw new ValidationException(`1 validation error detected: Value at '${err.member}' failed to satisfy constraint: Member must be ${err.expected} (got ${err.given})`);
    }
    throw err;
  }
}
