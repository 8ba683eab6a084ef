/**
 * What `serve` (and any long-lived client) keeps between requests: parsed configurations, indexes and
 * sealed files, unwrapped file keys, the authenticated snapshot. None of it may outlive the commit it was
 * read at: a commit made behind the server's back, by another process or by hand, is seen by the next
 * request and authenticated like any other (an honest writer's is served, an unsigned one is refused), and
 * a rewind is refused. Real server, real SDK client, real git and libsodium.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { makeStore, type TestStore } from './helpers/store.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { cryptoReady, generateIdentity, identityFromText, openValue, parseRecipient, sealValue } from '../src/crypto/index.js';
import { UnwrapCache } from '../src/crypto/unwrap-cache.js';
import { ObjectReader } from '../src/git/objects.js';
import { locateStore } from '../src/store/location.js';
import { Authenticator } from '../src/trust/authenticate.js';

let t: TestStore | undefined;
let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  t?.cleanup();
  s = undefined;
  t = undefined;
});

/** A store with secret `db` (v1, then v2 put through the server) and a server that has read v2 once. */
async function servedDb(): Promise<{ t: TestStore; s: TestServer; get: () => Promise<string | undefined> }> {
  t = makeStore();
  s = await startTestServer(t);
  const sm = s.client();
  await sm.send(new CreateSecretCommand({ Name: 'db', SecretString: 'v1' }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'db', SecretString: 'v2' }));
  const get = async () => (await sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).SecretString;
  expect(await get()).toBe('v2');
  expect(await get()).toBe('v2'); // the second answer comes from the caches
  return { t, s, get };
}

/** secret.yaml of `db` with AWSCURRENT and AWSPREVIOUS swapped, as a hand edit would do it. */
function swapLabels(store: TestStore): void {
  const file = join(store.dir, 'secrets', 'db', 'secret.yaml');
  const text = readFileSync(file, 'utf8');
  const current = /AWSCURRENT: (\S+)/.exec(text)![1]!;
  const previous = /AWSPREVIOUS: (\S+)/.exec(text)![1]!;
  writeFileSync(file, text.replace(`AWSCURRENT: ${current}`, `AWSCURRENT: ${previous}`).replace(`AWSPREVIOUS: ${previous}`, `AWSPREVIOUS: ${current}`));
}

async function refusal(get: () => Promise<unknown>): Promise<SecretsManagerServiceException> {
  const err = await get().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretsManagerServiceException);
  return err as SecretsManagerServiceException;
}

describe('serve caches follow HEAD', () => {
  it('a put by another process (the CLI) is what the next get returns', async () => {
    const { t, get } = await servedDb();
    const put = t.cli(['put-secret-value', '--secret-id', 'db', '--secret-string', 'v3']);
    expect(put.status, put.stderr).toBe(0);
    expect(await get()).toBe('v3');
  });

  it("an honest writer's plain git commit (signed by the commit-msg hook) is seen and authenticated", async () => {
    const { t, get } = await servedDb();
    swapLabels(t);
    t.git(['commit', '-q', '-am', 'db: back to v1 by hand']);
    expect(t.git(['log', '-1', '--format=%B'])).toContain('Secretstore-Signature:');
    expect(await get()).toBe('v1');
    expect(t.git(['status', '--porcelain'])).toBe('');
  });

  it('an unsigned commit behind its back (git commit --no-verify) is refused, not served from the cache', async () => {
    const { t, get } = await servedDb();
    swapLabels(t);
    t.git(['commit', '-q', '--no-verify', '-am', 'db: back to v1, unsigned']);
    // HEAD is checked before the request is authenticated (its region signs it): the client hears only
    // that the store cannot be read, the server's log says why.
    const err = await refusal(get);
    expect(err.name).toBe('InternalServiceError');
    expect(s!.logged.join('\n')).toMatch(/without a writer's signature/);
    // A write is refused the same way: it never starts from a commit that does not authenticate.
    const s2 = s!.client();
    const put = await refusal(() => s2.send(new PutSecretValueCommand({ SecretId: 'db', SecretString: 'v4' })));
    expect(put.name).toBe('InternalServiceError');
    expect(t.git(['log', '-1', '--format=%s']).trim()).toBe('db: back to v1, unsigned');
  });

  it('a rewind behind its back (git reset --hard HEAD~1) is refused as going backwards', async () => {
    const { t, get } = await servedDb();
    t.git(['reset', '-q', '--hard', 'HEAD~1']);
    const err = await refusal(get);
    expect(err.name).toBe('InternalServiceError');
    expect(s!.logged.join('\n')).toMatch(/does not descend from/);
  });

  it("a library client's write after a rewind to a commit it made itself is refused: it never builds on a rewound branch", async () => {
    t = makeStore();
    const store = await t.open();
    await store.createSecret({ Name: 'db', SecretString: 'v1' });
    await store.putSecretValue({ SecretId: 'db', SecretString: 'v2' });
    t.git(['reset', '-q', '--hard', 'HEAD~1']);
    const rewound = t.git(['rev-parse', 'HEAD']).trim();
    await expect(store.putSecretValue({ SecretId: 'db', SecretString: 'v3' })).rejects.toThrow(/does not descend from/);
    expect(t.git(['rev-parse', 'HEAD']).trim()).toBe(rewound);
    expect(t.git(['status', '--porcelain'])).toBe('');
  });

  it('a HEAD read just before another process moved it (and recorded its new head) is judged again, not refused as a rewind', async () => {
    t = makeStore();
    const store = await t.open();
    await store.createSecret({ Name: 'db', SecretString: 'v1' });
    const { cli } = t;
    // Between git's answer for HEAD and its judgement, a CLI put of the same clone lands and records its commit.
    class RacedReader extends ObjectReader {
      private raced = false;
      override async read(spec: string) {
        const obj = await super.read(spec);
        if (spec === 'HEAD' && !this.raced) {
          this.raced = true;
          const r = cli(['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], { input: 'v2' });
          expect(r.status, r.stderr).toBe(0);
        }
        return obj;
      }
    }
    const loc = locateStore({ store: t.dir, cwd: t.dir, env: t.env });
    const reader = new RacedReader(loc.repoRoot, t.env);
    const trust = new Authenticator(loc, reader, t.env, () => undefined);
    try {
      expect((await trust.head())?.commit).toBe(t.git(['rev-parse', 'HEAD']).trim());
    } finally {
      reader.close();
      trust.close();
    }
  });

  it('an uncommitted edit of the work tree is never read: the committed value is served', async () => {
    const { t, get } = await servedDb();
    swapLabels(t);
    expect(await get()).toBe('v2');
  });

  it('puts one after another in one process land as signed commits and each get sees the last', async () => {
    const { t, s, get } = await servedDb();
    const sm = s.client();
    for (const value of ['v3', 'v4', 'v5']) {
      await sm.send(new PutSecretValueCommand({ SecretId: 'db', SecretString: value }));
      expect(await get()).toBe(value);
    }
    const messages = t.git(['log', '-3', '--format=%B%x00']).split('\0').filter((m) => m.trim() !== '');
    expect(messages).toHaveLength(3);
    for (const m of messages) expect(m).toContain('Secretstore-Signature:');
    expect(t.cli(['verify']).status).toBe(0);
    expect(t.git(['status', '--porcelain'])).toBe('');
  });
});

function person(source: string) {
  const made = generateIdentity();
  const secret = made.identityText.split('\n').find((line) => line !== '' && !line.startsWith('#'))!;
  return { identity: identityFromText(secret, source), recipient: parseRecipient(made.publicKey!) };
}

describe('openValue keeps parsed envelopes by version (a long-lived client opens the same file again)', () => {
  it('another text for the same version is parsed and opened afresh; a tampered one fails after a good one opened', async () => {
    await cryptoReady();
    const { identity, recipient } = person('me');
    const binding = { storeId: 'store-1', secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-abcdef', versionId: 'v-1' };
    const first = sealValue({ type: 'string', text: 'one' }, binding, [recipient]);
    const second = sealValue({ type: 'string', text: 'two' }, binding, [recipient]);
    expect(openValue(first, binding, [identity], 'first')).toEqual({ type: 'string', text: 'one' });
    expect(openValue(first, binding, [identity], 'first')).toEqual({ type: 'string', text: 'one' });
    expect(openValue(second, binding, [identity], 'second')).toEqual({ type: 'string', text: 'two' });
    const payload = /^payload: (\S+)$/m.exec(second)![1]!;
    const flipped = Buffer.from(payload, 'base64');
    flipped[0]! ^= 1;
    const tampered = second.replace(payload, flipped.toString('base64'));
    expect(() => openValue(tampered, binding, [identity], 'tampered')).toThrow(/failed authentication/);
    // The binding is checked on every open, cached or not.
    expect(() => openValue(second, { ...binding, versionId: 'v-2' }, [identity], 'moved')).toThrow(/belongs to version v-1/);
  });
});

describe('UnwrapCache (file keys a long-lived client opened before)', () => {
  it('hands out copies, misses for another key pair, forgets past its bound and zeroes on clear', async () => {
    await cryptoReady();
    const { identity: alice, recipient: toAlice } = person('alice');
    const { identity: bob } = person('bob');
    const cache = new UnwrapCache(2);
    const fileKey = new Uint8Array(32).fill(7);
    const sealed = toAlice.wrap(fileKey);
    const wrapped = cache.wrap(alice);
    expect(cache.wrap(alice)).toBe(wrapped);
    const first = wrapped.unwrap(sealed)!;
    expect([...first]).toEqual([...fileKey]);
    first.fill(0); // what openValue does with its copy after use
    expect([...wrapped.unwrap(sealed)!]).toEqual([...fileKey]);
    expect(cache.size).toBe(1);
    expect(cache.wrap(bob).unwrap(sealed)).toBeNull();
    for (let i = 0; i < 3; i++) wrapped.unwrap(toAlice.wrap(new Uint8Array(32).fill(i)));
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
    expect([...wrapped.unwrap(sealed)!]).toEqual([...fileKey]); // opened again after clear
  });
});
