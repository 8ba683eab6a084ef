/**
 * Who may call the server: AWS Signature Version 4 (service `secretsmanager`, the store's region), made
 * with an access key listed in the server's credentials file.
 *
 * The signature is not checked by crypto of our own: the maintained signer of the AWS SDK
 * (`@smithy/signature-v4`, hashing with Node's own SHA-256 and HMAC, as the SDK does on Node) RECOMPUTES it
 * over the request as received (method, path, query, exactly the headers the client listed in
 * SignedHeaders, the SHA-256 of the body as read) with the stored secret, and the two are compared in
 * constant time (`crypto.timingSafeEqual`). One signer is kept per access key and region; it keeps the
 * derived signing key per day itself.
 *
 * Refusals, named as AWS names them for JSON services (all HTTP 400, as spec 1.3 has for client errors):
 *
 * | case | exception | message |
 * |---|---|---|
 * | no `Authorization` header | `MissingAuthenticationTokenException` | `Missing Authentication Token` |
 * | header present but not SigV4, or a part missing | `IncompleteSignatureException` | what is missing |
 * | `X-Amz-Date` more than 5 minutes off | `InvalidSignatureException` | `Signature expired: <date> is now earlier than <now-5min> (<now> - 5 min.)` (or `not yet current`) |
 * | scope date, region or service wrong | `InvalidSignatureException` | `Credential should be scoped to a valid region.` etc. |
 * | access key not in the credentials file, or a session token sent | `UnrecognizedClientException` | `The security token included in the request is invalid.` |
 * | signature does not match | `InvalidSignatureException` | `The request signature we calculated does not match ...` |
 *
 * Deliberate choices:
 * - `host`, `x-amz-date` and `x-amz-target` must be signed (the SDKs and the AWS CLI sign all three): an
 *   unsigned target would let a captured read be replayed as a delete of the same SecretId.
 * - Only `X-Amz-Date` is accepted as the signing time (not `Date`), and only the `Authorization` header (no
 *   query-string presigning): every AWS SDK and the AWS CLI sign that way.
 * - A replayed request (same signature) inside the 5-minute window is accepted, as AWS accepts it: SigV4 has no
 *   nonce. Writes are protected by ClientRequestToken idempotency (a replayed put changes nothing).
 *
 * The credentials file (`server-credentials.json` next to the identity, outside any repository) holds
 * `{"format": "secretstore.server-credentials/1", "credentials": [{"accessKeyId", "secretAccessKey", "created"}]}`
 * with mode 0600; a file others may read is refused. It is re-read when it changes, so a key added by
 * `serve --init-credentials` works without a restart.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { constants, statSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { InvalidRequestException } from '../errors.js';
import { ProtocolError } from './protocol.js';

export const SERVICE = 'secretsmanager';
export const MAX_SKEW_MS = 5 * 60_000;
const CREDENTIALS_FORMAT = 'secretstore.server-credentials/1';

export interface ServerCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly created?: string;
}

// ---- the credentials file ----

/** `--credentials-file`, else `$SECRETSTORE_SERVER_CREDENTIALS`, else `$XDG_CONFIG_HOME/secretstore/server-credentials.json`. */
export function resolveCredentialsPath(opts: { flag?: string; env: NodeJS.ProcessEnv }): string {
  if (opts.flag) return opts.flag;
  if (opts.env.SECRETSTORE_SERVER_CREDENTIALS) return opts.env.SECRETSTORE_SERVER_CREDENTIALS;
  const config = opts.env.XDG_CONFIG_HOME || join(opts.env.HOME || homedir(), '.config');
  return join(config, 'secretstore', 'server-credentials.json');
}

function parseCredentials(text: string, path: string): ServerCredential[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new InvalidRequestException(`server credentials file ${path} is not valid JSON`);
  }
  const list = (data as { format?: unknown; credentials?: unknown } | null)?.credentials;
  if ((data as { format?: unknown } | null)?.format !== CREDENTIALS_FORMAT || !Array.isArray(list)) {
    throw new InvalidRequestException(`server credentials file ${path} is not a ${CREDENTIALS_FORMAT} file`);
  }
  return list.map((c: unknown, i) => {
    const { accessKeyId, secretAccessKey, created } = (c ?? {}) as Record<string, unknown>;
    if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || accessKeyId === '' || secretAccessKey === '') {
      throw new InvalidRequestException(`server credentials file ${path}: entry ${i + 1} needs accessKeyId and secretAccessKey`);
    }
    return { accessKeyId, secretAccessKey, ...(typeof created === 'string' ? { created } : {}) };
  });
}

/** Reads the file, refusing one that others may read (the same rule as the identity file). */
export async function readCredentialsFile(path: string): Promise<ServerCredential[]> {
  let text: string;
  try {
    const file = await open(path, 'r');
    try {
      const st = await file.stat();
      if (!st.isFile()) throw new InvalidRequestException(`server credentials file ${path} is not a regular file`);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
        throw new InvalidRequestException(`server credentials file ${path} has mode ${mode}, so other users may read it; run: chmod 600 ${path}`);
      }
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidRequestException(`no server credentials at ${path}; run \`secretstore serve --init-credentials\` first`);
    }
    throw err;
  }
  return parseCredentials(text, path);
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new key pair: `SSIA` + 16 base-32 characters (20, like an AWS access key id) and a 40-character secret. */
export function newCredential(now = new Date()): ServerCredential {
  const id = Array.from(randomBytes(16), (b) => KEY_ALPHABET[b & 31]).join('');
  const secret = randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
  return { accessKeyId: `SSIA${id}`, secretAccessKey: secret, created: now.toISOString() };
}

/**
 * `serve --init-credentials`: adds a new key pair to the file (created with mode 0600, its folder 0700),
 * written to a temp file and renamed into place. Returns the new pair, to be shown once.
 */
export async function initCredentials(path: string): Promise<ServerCredential> {
  let existing: ServerCredential[] = [];
  try {
    existing = await readCredentialsFile(path);
  } catch (err) {
    if (!(err instanceof InvalidRequestException) || !err.message.startsWith('no server credentials')) throw err;
  }
  const credential = newCredential();
  const text = JSON.stringify({ format: CREDENTIALS_FORMAT, credentials: [...existing, credential] }, null, 2) + '\n';
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  return credential;
}

/** The credentials file, re-read when it changes (one stat per request otherwise). */
export class CredentialsFile {
  private stamp?: string;
  private byId = new Map<string, ServerCredential>();

  constructor(readonly path: string) {}

  /** Reads it now: `startServer` fails at once on a missing or unsafe file rather than on the first request. */
  async load(): Promise<this> {
    await this.lookup('');
    return this;
  }

  async lookup(accessKeyId: string): Promise<ServerCredential | undefined> {
    const st = statSync(this.path, { throwIfNoEntry: false });
    const stamp = st ? `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}:${st.mode}` : 'missing';
    if (stamp !== this.stamp) {
      const list = await readCredentialsFile(this.path);
      this.byId = new Map(list.map((c) => [c.accessKeyId, c]));
      this.stamp = stamp;
    }
    return this.byId.get(accessKeyId);
  }
}

// ---- verifying a request ----

/** A request as received: what the signature covers. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path and query as on the request line (`/` or `/?a=b`). */
  readonly url: string;
  /** Node's lower-cased headers. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface VerifyOptions {
  /** The store's region: the only one a credential scope may name. */
  readonly region: string;
  readonly now: Date;
  readonly lookup: (accessKeyId: string) => Promise<ServerCredential | undefined>;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AUTH_ERRORS = {
  missing: () => new ProtocolError('MissingAuthenticationTokenException', 'Missing Authentication Token'),
  incomplete: (message: string) => new ProtocolError('IncompleteSignatureException', message),
  invalid: (message: string) => new ProtocolError('InvalidSignatureException', message),
  unknownKey: () => new ProtocolError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
  mismatch: () =>
    new ProtocolError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    ),
};

function header(headers: ReceivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `20240102T030405Z` for a date, as SigV4 writes it. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

interface ParsedAuthorization {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(value: string): ParsedAuthorization {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw AUTH_ERRORS.incomplete(`Unsupported Authorization algorithm '${algorithm.slice(0, 40)}': only ${ALGORITHM} (Signature Version 4) is accepted.`);
  }
  const parts = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !parts.get(p));
  if (missing.length > 0) {
    throw AUTH_ERRORS.incomplete(missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' '));
  }
  const scope = parts.get('Credential')!.split('/');
  if (scope.length !== 5 || scope.some((s) => s === '')) {
    throw AUTH_ERRORS.incomplete("Authorization header requires 'Credential' of the form <access key>/<date>/<region>/<service>/aws4_request.");
  }
  const [accessKeyId, scopeDate, region, service, terminator] = scope as [string, string, string, string, string];
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: parts.get('SignedHeaders')!.split(';'),
    signature: parts.get('Signature')!,
  };
}

/**
 * Checks the request's SigV4 signature; returns the access key id that signed it, or throws the error AWS
 * would answer with (see the table at the top).
 */
export async function verifyRequest(req: ReceivedRequest, opts: VerifyOptions): Promise<string> {
  const authorization = header(req.headers, 'authorization');
  if (authorization === undefined || authorization.trim() === '') throw AUTH_ERRORS.missing();
  const auth = parseAuthorization(authorization.trim());

  const dateText = header(req.headers, 'x-amz-date');
  if (dateText === undefined) throw AUTH_ERRORS.incomplete("Authorization header requires existence of an 'X-Amz-Date' header.");
  const signedAt = parseAmzDate(dateText.trim());
  if (signedAt === undefined) throw AUTH_ERRORS.incomplete(`X-Amz-Date must be in ISO 8601 basic format (yyyyMMdd'T'HHmmss'Z'), not '${dateText.slice(0, 40)}'.`);
  const now = opts.now.getTime();
  if (signedAt.getTime() < now - MAX_SKEW_MS) {
    const limit = amzDate(new Date(now - MAX_SKEW_MS));
    throw AUTH_ERRORS.invalid(`Signature expired: ${amzDate(signedAt)} is now earlier than ${limit} (${amzDate(opts.now)} - 5 min.)`);
  }
  if (signedAt.getTime() > now + MAX_SKEW_MS) {
    const limit = amzDate(new Date(now + MAX_SKEW_MS));
    throw AUTH_ERRORS.invalid(`Signature not yet current: ${amzDate(signedAt)} is still later than ${limit} (${amzDate(opts.now)} + 5 min.)`);
  }
  const day = amzDate(signedAt).slice(0, 8);
  if (auth.scopeDate !== day) {
    throw AUTH_ERRORS.invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate.slice(0, 20)}' != '${day}', from '${amzDate(signedAt)}'.`,
    );
  }
  if (auth.region !== opts.region) throw AUTH_ERRORS.invalid(`Credential should be scoped to a valid region, not '${auth.region.slice(0, 40)}'.`);
  if (auth.service !== SERVICE) throw AUTH_ERRORS.invalid(`Credential should be scoped to correct service: '${SERVICE}'.`);
  if (auth.terminator !== 'aws4_request') {
    throw AUTH_ERRORS.invalid(`Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator.slice(0, 40)}'.`);
  }

  // We issue long-term keys only: a session token means credentials we never gave out.
  if (header(req.headers, 'x-amz-security-token') !== undefined) throw AUTH_ERRORS.unknownKey();
  const credential = await opts.lookup(auth.accessKeyId);
  if (credential === undefined) throw AUTH_ERRORS.unknownKey();

  const signed = auth.signedHeaders;
  for (const required of ['host', 'x-amz-date', 'x-amz-target']) {
    if (!signed.includes(required)) throw AUTH_ERRORS.invalid(`'${required}' must be a 'SignedHeader' in the AWS Authorization.`);
  }

  // The payload line is the hash of the body as read, whatever a client claims in x-amz-content-sha256.
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  const claimed = header(req.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed.trim() !== bodyHash) {
    throw AUTH_ERRORS.invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) throw AUTH_ERRORS.mismatch(); // a header the client signed is not in the request
    headers[name] = value;
  }
  // Hands the signer the hash (it would trust a claimed one); it is in the canonical headers only if signed.
  headers['x-amz-content-sha256'] = bodyHash;
  const queryAt = req.url.indexOf('?');
  const query: Record<string, string | string[]> = {};
  if (queryAt >= 0) {
    for (const [key, value] of new URLSearchParams(req.url.slice(queryAt + 1))) {
      const before = query[key];
      query[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
    }
  }
  const signer = signerFor(credential, opts.region);
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: 'localhost',
      path: queryAt >= 0 ? req.url.slice(0, queryAt) : req.url,
      query,
      headers,
    },
    {
      signingDate: signedAt,
      signableHeaders: new Set(signed),
      unsignableHeaders: signed.includes('x-amz-content-sha256') ? new Set<string>() : new Set(['x-amz-content-sha256']),
    },
  );
  const expected = /Signature=([0-9a-f]+)$/.exec(String(resigned.headers.authorization ?? ''))?.[1];
  const expectedList = /SignedHeaders=([^,]+),/.exec(String(resigned.headers.authorization ?? ''))?.[1];
  if (expected === undefined) throw new Error('the signer produced no signature');
  const given = Buffer.from(auth.signature, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  const same = given.length === wanted.length && timingSafeEqual(given, wanted);
  // The signer sorts and lower-cases the list; a client's list that is not already so was not what it signed.
  if (!same || expectedList !== signed.join(';')) throw AUTH_ERRORS.mismatch();
  return credential.accessKeyId;
}

/**
 * SHA-256 and HMAC-SHA256 from Node's crypto in the shape the signer takes (the SDK's `@smithy/hash-node`
 * does the same on Node; the pure-JavaScript hash cost a request a tenth of a millisecond).
 */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret?: string | Uint8Array;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytesOf(secret);
    this.hash = this.fresh();
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** A signer per access key, secret and region (a changed secret in the credentials file makes a new one). */
const signers = new Map<string, SignatureV4>();

function signerFor(credential: ServerCredential, region: string): SignatureV4 {
  const key = JSON.stringify([credential.accessKeyId, credential.secretAccessKey, region]);
  let signer = signers.get(key);
  if (signer === undefined) {
    if (signers.size >= 64) signers.clear();
    signer = new SignatureV4({
      credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
      region,
      service: SERVICE,
      sha256: NodeSha256,
      applyChecksum: false,
    });
    signers.set(key, signer);
  }
  return signer;
}
