/**
 * A real server over a test store, for tests that speak the wire protocol: `startTestServer(t)` adds an
 * access key to a credentials file in the store's temp home and starts `startServer` on 127.0.0.1 with a
 * free port; `client()` is a real `@aws-sdk/client-secrets-manager` client for it; `signed()` sends a raw
 * SigV4-signed request (signed by the SDK's own signer) for the cases the SDK would never send.
 *
 * `startTestServer` runs the server in the test's own process: a test that blocks its event loop (spawnSync
 * of a client such as the AWS CLI) would block the server too and hang. Such tests use `spawnTestServer`,
 * which runs the real `secretstore serve` in a child process, with the same shape.
 */
import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { SignatureV4 } from '@smithy/signature-v4';
import { initCredentials, type ServerCredential } from '../../src/server/auth.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server.js';
import { CLI, type TestStore } from './store.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: <T = Record<string, unknown>>() => T;
}

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface SignOptions {
  target: string;
  /** A Buffer sends bytes as they are (e.g. not UTF-8). */
  body?: string | Buffer;
  credential: Pick<ServerCredential, 'accessKeyId' | 'secretAccessKey'>;
  region: string;
  /** Signing time (default now): an old one makes a stale request that is otherwise consistent. */
  date?: Date;
  /** Extra headers to send (signed too). */
  headers?: Record<string, string>;
  /** Send this body instead of the one signed. */
  sendBody?: string;
}

/** Sends one request on its own connection; resolves with the answer (rejects on a connection error). */
export function send(url: string, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(req.path ?? '/', url);
    const r = httpRequest(
      target,
      { method: req.method ?? 'POST', headers: req.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** The headers of a request to `url` signed as the SDK signs it (host, content-type, x-amz-target, x-amz-date). */
export async function signHeaders(url: string, opts: SignOptions): Promise<Record<string, string>> {
  const { host } = new URL(url);
  const signer = new SignatureV4({ credentials: opts.credential, region: opts.region, service: 'secretsmanager', sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: host,
      path: '/',
      query: {},
      headers: {
        host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': opts.target,
        ...opts.headers,
      },
      body: opts.body ?? '{}',
    },
    { signingDate: opts.date ?? new Date() },
  );
  return signed.headers as Record<string, string>;
}

export async function signed(url: string, opts: SignOptions): Promise<RawResponse> {
  const headers = await signHeaders(url, opts);
  return send(url, { headers, body: opts.sendBody ?? opts.body ?? '{}' });
}

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly region: string;
  readonly credential: ServerCredential;
  readonly credentialsFile: string;
  /** What the server logged (its `log` option). */
  readonly logged: string[];
  client(config?: Partial<SecretsManagerClientConfig>): SecretsManagerClient;
  /** A raw signed request with this server's key and region. */
  signed(target: string, body?: string, extra?: Partial<SignOptions>): Promise<RawResponse>;
  close(): Promise<void>;
}

export async function startTestServer(t: TestStore, opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const credentialsFile = join(t.base, 'home', '.config', 'secretstore', 'server-credentials.json');
  const credential = await initCredentials(credentialsFile);
  const logged: string[] = [];
  const server = await startServer({
    store: t.dir,
    identity: t.identity,
    env: t.env,
    host: '127.0.0.1',
    port: 0,
    credentialsFile,
    log: (line) => logged.push(line),
    ...opts,
  });
  const api = clientsFor(server.url, server.region, credential);
  return {
    server,
    url: server.url,
    region: server.region,
    credential,
    credentialsFile,
    logged,
    client: api.client,
    signed: api.signed,
    close: async () => {
      api.destroy();
      await server.close();
    },
  };
}

/** SDK clients and raw signed requests for a server at `url`, signed with `credential` for `region`. */
function clientsFor(url: string, region: string, credential: ServerCredential) {
  const clients: SecretsManagerClient[] = [];
  return {
    client: (config: Partial<SecretsManagerClientConfig> = {}) => {
      const client = new SecretsManagerClient({
        endpoint: url,
        region,
        credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
        ...config,
      });
      clients.push(client);
      return client;
    },
    signed: (target: string, body = '{}', extra: Partial<SignOptions> = {}) =>
      signed(url, { target: `secretsmanager.${target}`, body, credential, region, ...extra }),
    destroy: () => clients.forEach((c) => c.destroy()),
  };
}

/**
 * The real `secretstore serve --port 0` in a child process over the test store (for clients run with
 * spawnSync, which would block an in-process server). `terminate()` sends SIGTERM (once); `close()` does
 * too if needed, and waits for the process to exit, failing unless it exits 0.
 */
export async function spawnTestServer(t: TestStore, args: readonly string[] = []): Promise<Omit<TestServer, 'server'> & { readonly pid: number; terminate(): void }> {
  const credentialsFile = join(t.base, 'home', '.config', 'secretstore', 'server-credentials.json');
  const credential = await initCredentials(credentialsFile);
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--credentials-file', credentialsFile, ...args], {
    cwd: t.dir,
    env: t.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logged: string[] = [];
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await new Promise<{ url: string; region: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`secretstore serve did not start: ${logged.join('\n')}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        logged.push(line);
        const m = /\(region ([^)]+)\) on (https?:\/\/\S+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({ region: m[1]!, url: m[2]! });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`secretstore serve exited with ${code}: ${logged.join('\n')}${buffered}`));
    });
  });
  const api = clientsFor(started.url, started.region, credential);
  let signalled = false;
  // Once only: a second SIGTERM is the way to stop the server at once, without waiting.
  const terminate = () => {
    if (signalled || child.exitCode !== null) return;
    signalled = true;
    child.kill('SIGTERM');
  };
  return {
    pid: child.pid!,
    terminate,
    url: started.url,
    region: started.region,
    credential,
    credentialsFile,
    logged,
    client: api.client,
    signed: api.signed,
    close: async () => {
      api.destroy();
      terminate();
      const code = await exited;
      if (code !== 0) throw new Error(`secretstore serve exited with ${code}: ${logged.join('\n')}`);
    },
  };
}
