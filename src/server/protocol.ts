/**
 * The AWS JSON 1.1 wire protocol (spec section 1), as pure functions: a target header and a request body
 * become an operation name and its input; an operation's output becomes a response body; an error becomes
 * a status and a body. Everything here is derived from the operation table and its Param types: which
 * operations exist, which members they take, which of those are blobs. No business rule lives here;
 * the operations validate what they receive, as they do for the CLI and the library.
 */
import { SecretsManagerError } from '../errors.js';
import { operations, type OperationName } from '../ops/table.js';
import type { Param } from '../ops/context.js';

export const TARGET_PREFIX = 'secretsmanager.';
export const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Operations of the Secrets Manager API that secretstore leaves out (spec 3.16): answered with a readable
 * InvalidRequestException rather than UnknownOperationException, so SDK users see why.
 */
export const UNSUPPORTED_OPERATIONS: readonly string[] = [
  // Promotes a replica to a standalone secret: a store never holds a replica, so there is none to promote.
  'StopReplicationToReplica',
];

/** An error of the protocol or of authentication, named as AWS names it (not one of the modelled exceptions). */
export class ProtocolError extends SecretsManagerError {
  override readonly name: string;
  override readonly status: number;
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

export const unknownOperation = (what: string) => new ProtocolError('UnknownOperationException', `Unknown operation ${what}`);
export const serializationError = (message: string) => new ProtocolError('SerializationException', message);

/** `X-Amz-Target: secretsmanager.PutSecretValue` -> `PutSecretValue`, or the error AWS answers with. */
export function operationOf(target: string | undefined): OperationName {
  if (target === undefined || target === '') throw unknownOperation('(no X-Amz-Target header)');
  const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  if (name !== undefined && Object.prototype.hasOwnProperty.call(operations, name)) return name as OperationName;
  if (name !== undefined && UNSUPPORTED_OPERATIONS.includes(name)) {
    throw new ProtocolError('InvalidRequestException', `${name} is not supported offline by secretstore (spec 3.16).`);
  }
  throw unknownOperation(target);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function expected(member: string, what: string, got: unknown): never {
  const kind = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got;
  throw serializationError(`Expected ${what} for member ${member}, got ${kind}`);
}

function stringList(member: string, value: unknown): string[] {
  if (!Array.isArray(value)) expected(member, 'a list of strings', value);
  return value.map((v, i) => (typeof v === 'string' ? v : expected(`${member}.${i + 1}`, 'a string', v)));
}

/**
 * A list of structures whose members are strings (Tags: Key, Value; AddReplicaRegions: Region, KmsKeyId)
 * or string lists (Filters: Values).
 */
function structureList(member: string, value: unknown, lists: readonly string[]): Record<string, unknown>[] {
  if (!Array.isArray(value)) expected(member, 'a list of structures', value);
  return value.map((item, i) => {
    const path = `${member}.${i + 1}`;
    if (!isObject(item)) expected(path, 'a structure', item);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(item)) {
      if (v === null) continue;
      if (lists.includes(key)) out[key] = stringList(`${path}.${key}`, v);
      else if (typeof v === 'string') out[key] = v;
      else expected(`${path}.${key}`, 'a string', v);
    }
    return out;
  });
}

/** One member's JSON value as the operation takes it; SerializationException when its JSON type is wrong. */
function decodeMember(p: Param, value: Json): unknown {
  switch (p.type) {
    case 'string':
      return typeof value === 'string' ? value : expected(p.member, 'a string', value);
    case 'blob':
      // Standard base64 with padding (spec 1.2); the operation checks the decoded size.
      if (typeof value !== 'string') expected(p.member, 'a base64 string', value);
      if (!BASE64.test(value)) throw serializationError(`Member ${p.member} is not valid base64`);
      return new Uint8Array(Buffer.from(value, 'base64'));
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : expected(p.member, 'an integer', value);
    case 'boolean':
      return typeof value === 'boolean' ? value : expected(p.member, 'a boolean', value);
    case 'strings':
      return stringList(p.member, value);
    case 'tags':
      return structureList(p.member, value, []);
    case 'filters':
      return structureList(p.member, value, ['Values']);
    case 'structure':
      return isObject(value) ? value : expected(p.member, 'a structure', value);
    case 'structures':
      return structureList(p.member, value, []);
  }
}

/**
 * The request body as the operation's input: a JSON object of the operation's members (spec 1.1).
 * Members the operation does not know are ignored, `null` counts as absent, blobs are decoded from base64.
 * An empty body counts as `{}`.
 */
export function decodeRequest(name: OperationName, body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw serializationError('The request body is not valid JSON');
  }
  if (!isObject(parsed)) throw serializationError('The request body must be a JSON object');
  const input: Record<string, unknown> = {};
  for (const p of operations[name].params as readonly Param[]) {
    const value = parsed[p.member];
    if (value === undefined || value === null) continue;
    input[p.member] = decodeMember(p, value);
  }
  return input;
}

/**
 * An operation's output as the response body: only populated members (the operations leave absent ones
 * out; `undefined` is dropped anyway), dates as epoch seconds with a millisecond fraction, bytes as base64.
 */
export function encodeResponse(output: unknown): string {
  return (
    JSON.stringify(output ?? {}, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return raw.getTime() / 1000;
      if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
      return value;
    }) ?? '{}'
  );
}

export interface ErrorReply {
  status: number;
  /** The exception name: `__type` in the body and the `x-amzn-ErrorType` header. */
  type: string;
  body: string;
}

/**
 * An error as AWS sends it (spec 1.3): HTTP 400 for client errors, 500 for InternalServiceError, body
 * `{"__type","Message"}`. Anything that is not one of our typed errors is a fault: InternalServiceError,
 * with the first line of its message (errors never hold a value).
 */
export function encodeError(err: unknown): ErrorReply {
  const typed = err instanceof SecretsManagerError;
  const type = typed ? err.name : 'InternalServiceError';
  const status = typed ? err.status : 500;
  const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
  return { status, type, body: JSON.stringify({ __type: type, Message: message }) };
}
