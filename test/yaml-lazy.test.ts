/**
 * Issue 12: a read of the store's own files never loads the `yaml` package. The fast reader
 * (src/core/store-yaml.ts) reads the configuration, the label indexes and the sealed files the encoders
 * write; the package is loaded (src/core/yaml-value.ts) only for a file it declines, such as one edited
 * by hand. Each case runs in a process of its own (the library as built, dist/lib), since the test
 * runner loads the package for the codec's direct tests.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexPath } from '../src/core/layout.js';
import { commitSigned } from './helpers/sign.js';
import { makeStore, type TestStore } from './helpers/store.js';

const LIB = resolve('dist/lib');

/** Runs reads through the library in a fresh Node process; its answers and what it did with the yaml package. */
function readInFreshProcess(t: TestStore, reads: string): { answers: unknown[]; loaded: boolean; fallbacks: number } {
  const script = `
    const { openStore } = await import(${JSON.stringify(`${LIB}/library.js`)});
    const { yamlUse } = await import(${JSON.stringify(`${LIB}/core/yaml-value.js`)});
    const store = await openStore({ store: ${JSON.stringify(t.dir)}, identity: ${JSON.stringify(t.identity)}, env: process.env });
    const answers = [];
    ${reads}
    store.client.close();
    process.stdout.write(JSON.stringify({ answers, ...yamlUse() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: t.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the reading process failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { answers: unknown[]; loaded: boolean; fallbacks: number };
}

describe('reads do not load the yaml package', () => {
  let t: TestStore;
  beforeAll(() => {
    t = makeStore();
    for (const args of [
      ['create-secret', '--name', 'app/db', '--secret-string', 'first', '--description', 'the database: prod', '--tags', 'Key=team,Value=core'],
      ['put-secret-value', '--secret-id', 'app/db', '--secret-string', 'second'],
      ['create-secret', '--name', 'app/api', '--secret-string', 'key-1'],
    ]) {
      const r = t.cli(args);
      if (r.status !== 0) throw new Error(`secretstore ${args[0]} failed: ${r.stderr}`);
    }
  });
  afterAll(() => t.cleanup());

  it('issue 12: get-secret-value, describe-secret and list-secrets of files secretstore wrote read them without the yaml package', () => {
    const run = readInFreshProcess(
      t,
      `answers.push((await store.getSecretValue({ SecretId: 'app/db' })).SecretString);
       answers.push((await store.describeSecret({ SecretId: 'app/db' })).Description);
       answers.push((await store.listSecrets({ SortBy: 'name' })).SecretList.map((s) => s.Name));`,
    );
    expect(run.answers).toEqual(['second', 'the database: prod', ['app/api', 'app/db']]);
    expect(run.fallbacks).toBe(0);
    expect(run.loaded).toBe(false);
  });

  it('issue 12: an index edited by hand (a comment, a flow map) is read by the yaml package, loaded for it, with the same answer', async () => {
    const file = join(t.dir, indexPath('app/api'));
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/^labels:\n  AWSCURRENT: (\S+)$/m, 'labels: { AWSCURRENT: $1 }  # edited by hand'));
    expect(readFileSync(file, 'utf8')).not.toBe(text);
    await commitSigned(t, 'a writer edits an index by hand');
    const run = readInFreshProcess(t, `answers.push((await store.getSecretValue({ SecretId: 'app/api' })).SecretString);`);
    expect(run.answers).toEqual(['key-1']);
    expect(run.fallbacks).toBeGreaterThan(0);
    expect(run.loaded).toBe(true);
  });
});
