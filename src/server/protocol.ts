/**
 * The AWS JSON 1.1 wire protocol (spec section 1), as pure functions: a target header and a request body
 * become an operation name and its input; an operation's output becomes a response body; an error becomes
 * a status and a body. Everything here is derived from the operation table and its Param types: which
 * operations exist, which members they take, which of those are blobs. No business rule lives here;
 * the operations validate what they receive, as they do for the CLI and the library.
 */
import { SecretsManagerError, ValidationException } from '../errors.js';
import { invalidUtf8Offset } from '../core/utf8.js';
import { decodeMembers, MemberTypeError } from '../ops/members.js';
import { operations, type OperationName } from '../ops/table.js';

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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request body as the operation's input: a JSON object of the operation's members (spec 1.1), each
 * checked against the table's Param types (`ops/members.ts`; SerializationException when one is wrong).
 * Members the operation does not know are ignored, `null` counts as absent, blobs are decoded from base64.
 * An empty body counts as `{}`. A body that is not UTF-8 is refused (ValidationException), never decoded
 * with replacement characters into a stored value.
 */
export function decodeRequest(name: OperationName, body: Uint8Array): Record<string, unknown> {
  const bad = invalidUtf8Offset(body);
  if (bad >= 0) throw new ValidationException(`The request body is not valid UTF-8 (byte offset ${bad}); send binary values as base64 in SecretBinary`);
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw serializationError('The request body is not valid JSON');
  }
  if (!isObject(parsed)) throw serializationError('The request body must be a JSON object');
  try {
    return decodeMembers(name, parsed, 'base64');
  } catch (err) {
    if (err instanceof MemberTypeError) throw serializationError(err.message);
    throw err;
  }
}

/**
 * An operation's output as the response body: only populated members (the operations leave absent ones
 * out; `undefined` is dropped anyway), dates as epoch seconds with a millisecond fraction, bytes as base64.
 */
export function encodeResponse(output: unknown): string {
  // Converted first, then stringified without a replacer: a replacer call per member cost a read a tenth of its time.
  return JSON.stringify(wireValue(output ?? {})) ?? '{}';
}

function wireValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(wireValue);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = wireValue((value as Record<string, unknown>)[key]);
  return out;
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
