/**
 * `secretstore serve`: a local AWS Secrets Manager endpoint (AWS JSON 1.1, spec section 1) over a store.
 *
 * Start one from code (tests, benchmarks) with `startServer`:
 *
 * ```ts
 * import { startServer } from '../src/server/server.js';
 * const server = await startServer({
 *   store: '/path/to/store',          // as --store (default: $SECRETSTORE_DIR, else the git top level of cwd)
 *   identity: '/path/to/identity',    // as --identity (default: $SECRETSTORE_IDENTITY, else ~/.config/secretstore/identity)
 *   credentialsFile: '/path/to/server-credentials.json', // default: $SECRETSTORE_SERVER_CREDENTIALS, else
 *                                     //   $XDG_CONFIG_HOME/secretstore/server-credentials.json (mode 0600)
 *   host: '127.0.0.1',                // default 127.0.0.1; a non-loopback host needs tls AND allowRemote
 *   port: 0,                          // default 4583; 0 picks a free port (see server.port)
 *   env: process.env,                 // the environment the store and rotation commands see
 * });
 * // server.url = 'http://127.0.0.1:<port>', server.region = the store's region (sign for it)
 * const client = new SecretsManagerClient({ endpoint: server.url, region: server.region,
 *   credentials: { accessKeyId, secretAccessKey } });   // a pair from initCredentials(...) in ./auth.js
 * await server.close();               // stops accepting, finishes requests in flight, resolves when done
 * ```
 *
 * How a request goes (nothing here is a business rule; every operation runs from the table):
 * 1. the body is read, at most 1 MiB: a larger one is answered with HTTP 413 `RequestEntityTooLargeException`
 *    (from Content-Length before reading any of it, or as soon as a streamed body passes the limit), and
 *    the connection is closed; headers must arrive within 10 s and the body within 20 s after them, else
 *    HTTP 408 (`RequestTimeoutException`) and the connection is closed (slow-loris clients, issue 13.5);
 * 2. the SigV4 signature is checked (`auth.ts`) for the store's region, re-read from `.secretstore.yaml`
 *    whenever that file changes (a `git pull` needs no restart);
 * 3. `X-Amz-Target` names the operation (`UnknownOperationException`), the JSON body becomes its input
 *    (`SerializationException`; `protocol.ts`), and the store runs it: reads at once and concurrently, from
 *    the work tree; writes through the transaction's in-process queue, each landing as one commit exactly as
 *    the CLI's do (concurrent ones as consecutive commits under one hold of the store lock). The store runs with `generateTokens: false`:
 *    a raw request without ClientRequestToken is refused as AWS refuses it (spec 2.8);
 * 4. the answer is JSON 1.1: `Content-Type: application/x-amz-json-1.1`, `x-amzn-RequestId` on every
 *    response, errors as `{"__type","Message"}` with `x-amzn-ErrorType`, 400 (500 for InternalServiceError).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { InternalServiceError, InvalidParameterException } from '../errors.js';
import type { OperationName } from '../ops/table.js';
import { SecretStore } from '../store/secret-store.js';
import { loadCrypto } from '../crypto/load.js';
import { CredentialsFile, resolveCredentialsPath, verifyRequest } from './auth.js';
import { CONTENT_TYPE, decodeRequest, encodeError, encodeResponse, operationOf, ProtocolError, type ErrorReply } from './protocol.js';

export const DEFAULT_PORT = 4583;
export const DEFAULT_HOST = '127.0.0.1';
export const MAX_BODY_BYTES = 1024 * 1024;
export const HEADERS_TIMEOUT_MS = 10_000;
export const BODY_TIMEOUT_MS = 20_000;
/** How long `close` waits for requests in flight before cutting their connections. */
const CLOSE_GRACE_MS = 30_000;

export interface ServerOptions {
  store?: string;
  identity?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  host?: string;
  port?: number;
  credentialsFile?: string;
  /** PEM files; with both, the server speaks HTTPS. Required (with `allowRemote`) for a non-loopback host. */
  tlsCert?: string;
  tlsKey?: string;
  /** Consent to listen on a non-loopback address (only together with TLS). */
  allowRemote?: boolean;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long a client may take to send a request's headers (default 10 s) and then its body (default 20 s). */
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** One line per request (time, request id, operation, status, milliseconds). */
  accessLog?: (line: string) => void;
  /** Problems of the server itself that clients are not told in detail (default: stderr). */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** `http://127.0.0.1:4583` (or https://...). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The store's region at start: the region clients must sign for. */
  readonly region: string;
  readonly store: SecretStore;
  /** Stops accepting connections, lets requests in flight finish, then resolves. Safe to call twice. */
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./i.test(h);
}

function checkBinding(opts: ServerOptions, host: string): void {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new InvalidParameterException('--tls-cert and --tls-key go together');
  }
  if (isLoopback(host)) return;
  if (opts.tlsCert === undefined || !opts.allowRemote) {
    throw new InvalidParameterException(
      `refusing to listen on ${host}, which is not a loopback address: that needs --tls-cert and --tls-key (HTTPS) and --allow-remote`,
    );
  }
}

class TooLarge extends ProtocolError {
  constructor(limit: number) {
    super('RequestEntityTooLargeException', `The request body is larger than the limit of ${limit} bytes.`, 413);
  }
}

/** A body that did not arrive in time (a slow-loris client): answered 408 and the connection closed. */
class BodyTimeout extends ProtocolError {
  constructor(ms: number) {
    super('RequestTimeoutException', `The request body was not received within ${ms / 1000} seconds.`, 408);
  }
}

/** A client that closed its connection before sending the whole body: nobody to answer, a client error all the same. */
class ClientGone extends ProtocolError {
  constructor() {
    super('ClientClosedRequest', 'The client closed the connection before sending the whole request.', 499);
  }
}

/** Answers after which the rest of the body is never read: the connection is closed. */
const CLOSES_CONNECTION: ReadonlySet<number> = new Set([408, 413]);

/**
 * Reads the body, at most `limit` bytes, within `timeoutMs`. Past the limit (announced by Content-Length,
 * or counted while streaming) it stops reading and throws TooLarge; past the time, BodyTimeout. The caller
 * answers 413 or 408 and closes the connection.
 */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new TooLarge(limit));
  let timer: NodeJS.Timeout | undefined;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: Error) => {
      req.off('data', onData);
      req.pause();
      reject(err);
    };
    timer = setTimeout(() => stop(new BodyTimeout(timeoutMs)), timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return stop(new TooLarge(limit));
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    // 'aborted' (ECONNRESET) and a close before the end: the client went away.
    req.once('error', () => reject(new ClientGone()));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  }).finally(() => clearTimeout(timer));
}

/** Why the server cannot listen, in one line that says what to pass instead. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new InvalidParameterException(`--host ${host} is not an address or a name this machine resolves; pass an IP address such as 127.0.0.1 or ::1 (brackets optional)`);
    case 'EADDRNOTAVAIL':
      return new InvalidParameterException(`--host ${host} is not an address of this machine; pass one of its own, such as 127.0.0.1`);
    case 'EADDRINUSE':
      return new InvalidParameterException(`port ${port} on ${host} is already in use; pass another --port (0 picks a free one)`);
    case 'EACCES':
      return new InvalidParameterException(`not allowed to listen on port ${port}; pass a --port above 1023`);
    default:
      return err;
  }
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  // `[::1]` is how an IPv6 address is written in a URL; listen() wants it bare.
  const host = (opts.host ?? DEFAULT_HOST).replace(/^\[(.*)\]$/, '$1');
  checkBinding(opts, host);
  const limit = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const bodyTimeout = opts.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  const headersTimeout = opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const store = await SecretStore.open({
    ...(opts.store === undefined ? {} : { store: opts.store }),
    ...(opts.identity === undefined ? {} : { identity: opts.identity }),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    env,
    generateTokens: false,
  });
  // A passphrase-protected identity is unlocked once, now, while the terminal is free, not at the first request.
  if (await (await loadCrypto()).isProtectedIdentityFile(await store.identityPath())) await store.keys();
  const credentials = await new CredentialsFile(resolveCredentialsPath({ flag: opts.credentialsFile, env })).load();
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  // A credentials file that became unreadable (or readable by others) refuses every request; the reason
  // goes to the server's log, not to a client that has not authenticated.
  const lookup = async (accessKeyId: string) => {
    try {
      return await credentials.lookup(accessKeyId);
    } catch (err) {
      log(`secretstore: ${(err as Error).message}`);
      throw new InternalServiceError('The server cannot read its credentials file; see the server log.');
    }
  };
  let closing = false;
  let inFlight = 0;
  const drained: (() => void)[] = [];

  const send = (res: ServerResponse, requestId: string, status: number, body: string, error?: string, close = closing) => {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string | number> = {
      'Content-Type': CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': requestId,
    };
    if (error !== undefined) headers['x-amzn-ErrorType'] = error;
    if (close) headers.Connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  };

  const dispatch = async (req: IncomingMessage): Promise<{ name?: string; status: number; body: string; error?: string }> => {
    let name: OperationName | undefined;
    try {
      const body = await readBody(req, limit, bodyTimeout);
      const config = await store.refreshConfig().catch((err: unknown) => {
        // Needed before authentication (the region): an unauthenticated client is not told the details.
        log(`secretstore: ${(err as Error).message}`);
        throw new InternalServiceError('The store configuration cannot be read; see the server log.');
      });
      await verifyRequest(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
        { region: config.region, now: new Date(), lookup },
      );
      if (req.method !== 'POST') throw new ProtocolError('UnknownOperationException', `Unknown operation: the protocol takes POST /, not ${req.method}`);
      const target = req.headers['x-amz-target'];
      name = operationOf(Array.isArray(target) ? target[0] : target);
      const input = decodeRequest(name, body);
      const op = name; // narrowed for the closures below
      // Concurrent writes queue in the store's transaction queue and land as consecutive commits.
      const output = await store.run(op, input as never, { refreshed: true });
      return { name, status: 200, body: encodeResponse(output) };
    } catch (err) {
      const reply: ErrorReply = encodeError(err);
      return { ...(name === undefined ? {} : { name }), status: reply.status, body: reply.body, error: reply.type };
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const requestId = randomUUID();
    inFlight++;
    void dispatch(req)
      .then((reply) => {
        if (CLOSES_CONNECTION.has(reply.status)) {
          // The rest of the body is never read: answer, then close the connection.
          send(res, requestId, reply.status, reply.body, reply.error, true);
          res.once('finish', () => req.socket.destroySoon());
          setTimeout(() => req.socket.destroy(), 1000).unref();
        } else {
          send(res, requestId, reply.status, reply.body, reply.error);
        }
        opts.accessLog?.(
          `${new Date().toISOString()} ${requestId} ${reply.name ?? '-'} ${reply.status}${reply.error ? ` ${reply.error}` : ''} ${(performance.now() - started).toFixed(1)}ms`,
        );
      })
      .catch((err: unknown) => {
        log(`secretstore: answering request ${requestId} failed: ${(err as Error).message}`);
        res.destroy();
      })
      .finally(() => {
        inFlight--;
        if (closing) server.closeIdleConnections();
        if (inFlight === 0) drained.splice(0).forEach((done) => done());
      });
  };

  const tls = opts.tlsCert !== undefined && opts.tlsKey !== undefined;
  // Node checks its header and request timeouts every connectionsCheckingInterval (30 s by default), which
  // let slow-loris connections live minutes past them: check every second. The body has its own timer
  // (readBody), so a slow body gets our 408 answer; requestTimeout is only the backstop.
  const timing = { connectionsCheckingInterval: Math.min(1000, headersTimeout), headersTimeout, requestTimeout: headersTimeout + bodyTimeout + 1000 };
  const server: Server = tls
    ? createHttpsServer({ cert: readFileSync(opts.tlsCert!), key: readFileSync(opts.tlsKey!), ...timing }, handle)
    : createHttpServer(timing, handle);
  // Node closes an idle keep-alive connection after 5 s; a client (the SDKs keep connections alive) that
  // sends its next request just as that happens gets ECONNRESET. Writes queue behind each other, so a busy
  // client can sit idle that long: keep idle connections for a minute, as load balancers in front of AWS
  // APIs do, so the client's own idle timeout closes first.
  server.keepAliveTimeout = 65_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Requests Node refuses before they reach `handle`: headers too slow (408) or malformed (400). Both are
  // the client's doing, logged as such in the access log.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A connection reset between requests: nobody to answer, nothing to log.
    if (err.code === 'ECONNRESET') return void socket.destroy();
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const [status, text] = timeout ? [408, 'Request Timeout'] : [400, 'Bad Request'];
    opts.accessLog?.(`${new Date().toISOString()} - - ${status} ${timeout ? 'RequestTimeoutException' : 'BadRequest'} (${err.code ?? 'client error'})`);
    if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, opts.port ?? DEFAULT_PORT)));
    server.listen(opts.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      closing = true;
      const stopped = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((done) => drained.push(done));
      const force = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, CLOSE_GRACE_MS);
      force.unref();
      void idle
        .then(() => {
          server.closeIdleConnections();
          return stopped;
        })
        .then(() => {
          clearTimeout(force);
          // The git processes end and the file keys it unwrapped are zeroed.
          store.close();
          resolve();
        });
    }));

  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    region: store.config.region,
    store,
    close,
  };
}
