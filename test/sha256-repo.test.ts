/**
 * A store in a SHA-256 repository (`git init --object-format=sha256`): object ids are 64 hex digits and
 * tree entries carry 32-byte ids. A reader that assumed 20-byte ids skipped into the middle of an id after
 * the first entry; it usually fell back in step at the next entry's mode and git resolved the truncated id
 * as an abbreviation, so a get by VersionId failed only when an id's last 12 bytes held a space or a NUL
 * (about one version in ten): this test fails only some of the time without the fix, never with it.
 */
import { afterAll, expect, test } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';

const stores: TestStore[] = [];
afterAll(() => stores.forEach((s) => s.cleanup()));

/** Fixed VersionIds, so where each file sorts in its folder is the same on every run. */
const token = (i: number) => `00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}`;

test('every version of a secret reads back by its VersionId, through the CLI and after concurrent library puts', async () => {
  const t = makeStore({ objectFormat: 'sha256' });
  stores.push(t);
  expect(t.git(['rev-parse', 'HEAD']).trim()).toMatch(/^[0-9a-f]{64}$/);
  expect(t.cli(['create-secret', '--name', 'app/db', '--secret-string', '-', '--client-request-token', token(0)], { input: 'v0' }).status).toBe(0);
  expect(t.cli(['create-secret', '--name', 'app/other', '--secret-string', '-'], { input: 'o0' }).status).toBe(0);
  for (let i = 1; i <= 5; i++) expect(t.cli(['put-secret-value', '--secret-id', 'app/db', '--secret-string', '-', '--client-request-token', token(i)], { input: `v${i}` }).status).toBe(0);
  // A long-lived client: puts that share one hold of the lock read the commits the batch made before git has them.
  const store = await t.open();
  await Promise.all([6, 7, 8].map((i) => store.putSecretValue({ SecretId: i === 7 ? 'app/other' : 'app/db', SecretString: `v${i}`, ClientRequestToken: token(i) })));
  const versions = t.cli(['list-secret-version-ids', '--secret-id', 'app/db', '--include-deprecated']).json<{ Versions: { VersionId: string }[] }>().Versions;
  expect(versions).toHaveLength(8);
  const values = versions.map((v) => t.cli(['get-secret-value', '--secret-id', 'app/db', '--version-id', v.VersionId]).json<{ SecretString: string }>().SecretString);
  expect(values.sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v8']);
  expect(t.cli(['get-secret-value', '--secret-id', 'app/other']).json<{ SecretString: string }>().SecretString).toBe('v7');
  expect(t.git(['status', '--porcelain'])).toBe('');
});
