// A long-lived client (serve, the agent, a library user) reads the index it just wrote from memory: the
// commit view files the indexes this process wrote by their blob id (src/core/codec.ts remembers them,
// src/store/commit-view.ts takes them), so a put reads no blob the previous put wrote. Real git.
import { afterEach, beforeAll, expect, test } from 'vitest';
import { parseSecretIndex, serializeSecretIndex, takeWrittenIndexes } from '../src/core/codec.js';
import { indexPath } from '../src/core/layout.js';
import { ObjectReader, type GitObject } from '../src/git/objects.js';
import type { SecretIndex, StoreConfig } from '../src/model/store.js';
import { CommitView } from '../src/store/commit-view.js';
import { isolateGitConfig, makeRepo, type TestRepo } from './helpers/repo.js';

beforeAll(isolateGitConfig);

/** The real reader, noting every name it is asked for. */
class NotingReader extends ObjectReader {
  readonly asked: string[] = [];
  override read(spec: string): Promise<GitObject | undefined> {
    this.asked.push(spec);
    return super.read(spec);
  }
}
const readers: ObjectReader[] = [];
afterEach(() => readers.splice(0).forEach((r) => r.close()));

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
function index(versions: number): SecretIndex {
  const ids = Array.from({ length: versions }, (_, i) => id(i + 1));
  return {
    name: 'app/db',
    arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbC123',
    createdDate: '2026-01-01T00:00:00.000Z',
    lastChangedDate: '2026-01-02T00:00:00.000Z',
    rotation: { enabled: true, lambdaArn: './rotate.sh', rules: { AutomaticallyAfterDays: 30 } },
    labels: { AWSCURRENT: ids.at(-1)!, AWSPREVIOUS: ids.at(-2)! },
    versions: Object.fromEntries(ids.map((v, i) => [v, `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`])),
  };
}

/** Commits `text` as the index, and reads the secret through a fresh view of that commit. */
async function readCommitted(r: TestRepo, text: string): Promise<{ read: SecretIndex | undefined; asked: string[]; blob: string }> {
  r.write(indexPath('app/db'), text);
  r.commitAll();
  const commit = r.git('rev-parse', 'HEAD').trim();
  const reader = new NotingReader(r.dir);
  readers.push(reader);
  const view = new CommitView({ root: r.dir, repoRoot: r.dir, gitDir: r.gitDir, prefix: '' }, commit, {} as StoreConfig, reader, async () => []);
  return { read: await view.readSecret('app/db'), asked: reader.asked, blob: r.git('rev-parse', `HEAD:${indexPath('app/db')}`).trim() };
}

test('an index this process wrote is read from memory (no blob read), as a parse of the committed text reads it', async () => {
  const r = makeRepo();
  takeWrittenIndexes();
  const text = serializeSecretIndex(index(3));
  const { read, asked, blob } = await readCommitted(r, text);
  expect(read).toStrictEqual(parseSecretIndex(text, 'secret.yaml'));
  expect(asked).not.toContain(blob);
});

test('an index another process wrote is read from git and parsed', async () => {
  const r = makeRepo();
  const text = serializeSecretIndex(index(4));
  takeWrittenIndexes(); // as if another process had written it
  const { read, asked, blob } = await readCommitted(r, text);
  expect(read).toStrictEqual(parseSecretIndex(text, 'secret.yaml'));
  expect(asked).toContain(blob);
});
