import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import type { Store } from '../src/index.js';
import { indexPath, versionPath } from '../src/core/layout.js';

const T = (n: number) => `33333333-0000-4000-8000-${String(n).padStart(12, '0')}`;
let t: TestStore;
let store: Store;

/** `unsigned`: read with --allow-unsigned (a state no writer signed). */
function versionIds(name: string, unsigned = false): string[] {
  const listed = t.cli([...(unsigned ? ['--allow-unsigned'] : []), 'list-secret-version-ids', '--secret-id', name, '--include-deprecated']);
  return listed.json<{ Versions: { VersionId: string }[] }>().Versions.map((v) => v.VersionId);
}

beforeAll(async () => {
  t = makeStore({ policy: { pruneAbove: 3, minVersionAgeHours: 0, versionQuota: 6 } });
  store = await t.open();
});
afterAll(() => t.cleanup());

describe('pruning (spec Decisions: pruneAbove, minVersionAgeHours, versionQuota)', () => {
  it('put prunes the oldest deprecated version in its own commit', async () => {
    await store.createSecret({ Name: 'p1', SecretString: 'x', ClientRequestToken: T(0) });
    for (let i = 1; i <= 3; i++) await store.putSecretValue({ SecretId: 'p1', SecretString: `x${i}`, ClientRequestToken: T(i) });
    expect(versionIds('p1').sort()).toEqual([T(1), T(2), T(3)]);
    const files = t.git(['show', '--name-status', '--no-renames', '--format=%B', 'HEAD']);
    expect(files).toContain(`pruned: ${T(0)}`);
    expect(files).toContain(`D\t${versionPath('p1', T(0))}`);
    expect(t.git(['rev-list', '--count', 'HEAD~1..HEAD']).trim()).toBe('1');
  });

  it('labelled versions are never pruned, and past versionQuota a put is LimitExceededException that changes nothing', async () => {
    await store.createSecret({ Name: 'p2', SecretString: 'x', ClientRequestToken: T(0) });
    for (let i = 1; i <= 5; i++) {
      await store.putSecretValue({ SecretId: 'p2', SecretString: `x${i}`, ClientRequestToken: T(i), VersionStages: [`L${i}`] });
    }
    expect(versionIds('p2')).toHaveLength(6);
    const before = t.snapshot();
    await expect(store.putSecretValue({ SecretId: 'p2', SecretString: 'y', ClientRequestToken: T(6), VersionStages: ['L6'] })).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
    expect(t.snapshot()).toBe(before);
  });

  it('young versions are never pruned (minVersionAgeHours)', async () => {
    const young = makeStore({ policy: { pruneAbove: 1, minVersionAgeHours: 24 } });
    try {
      const s = await young.open();
      await s.createSecret({ Name: 'y', SecretString: 'x' });
      for (let i = 0; i < 3; i++) await s.putSecretValue({ SecretId: 'y', SecretString: `x${i}` });
      expect((await s.listSecretVersionIds({ SecretId: 'y', IncludeDeprecated: true })).Versions).toHaveLength(4);
      // A day later the deprecated ones are old enough: the next put prunes them, labelled ones stay.
      const later = await young.open({ now: () => new Date(Date.now() + 25 * 3_600_000) });
      await later.putSecretValue({ SecretId: 'y', SecretString: 'later' });
      const left = (await later.listSecretVersionIds({ SecretId: 'y', IncludeDeprecated: true })).Versions;
      expect(left.map((v) => v.VersionStages)).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
    } finally {
      young.cleanup();
    }
  });

  it('secretstore prune applies the rule to every secret in one commit', () => {
    const s = makeStore({ policy: { pruneAbove: 100, minVersionAgeHours: 0 } });
    try {
      for (const name of ['a', 'b']) {
        s.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: 'x' });
        for (let i = 0; i < 3; i++) s.cli(['put-secret-value', '--secret-id', name, '--secret-string', '-'], { input: `x${i}` });
      }
      const file = join(s.dir, '.secretstore.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('pruneAbove: 100', 'pruneAbove: 2'));
      expect(s.cli(['sign', '--config']).status).toBe(0); // a policy change, signed by the store's writer
      const before = Number(s.git(['rev-list', '--count', 'HEAD']).trim());
      const r = s.cli(['prune']);
      expect(r.status).toBe(0);
      expect(r.json<{ Pruned: { Name: string; VersionIds: string[] }[] }>().Pruned.map((p) => [p.Name, p.VersionIds.length])).toEqual([
        ['a', 2],
        ['b', 2],
      ]);
      expect(Number(s.git(['rev-list', '--count', 'HEAD']).trim())).toBe(before + 1);
      expect(s.cli(['prune']).json()).toEqual({ Pruned: [] });
      expect(Number(s.git(['rev-list', '--count', 'HEAD']).trim())).toBe(before + 1);
    } finally {
      s.cleanup();
    }
  });
});

describe('the pre-commit hook (hand-made commits)', () => {
  it('a hand commit that moves labels is validated and pruned by the hook', async () => {
    await store.createSecret({ Name: 'hand', SecretString: 'x', ClientRequestToken: T(0) });
    await store.putSecretValue({ SecretId: 'hand', SecretString: 'x1', ClientRequestToken: T(1) });
    await store.putSecretValue({ SecretId: 'hand', SecretString: 'x2', ClientRequestToken: T(2), VersionStages: ['keep'] });
    // Hand edit: lower the bar so pruning has work, by moving 'keep' onto the current version.
    await store.putSecretValue({ SecretId: 'hand', SecretString: 'x3', ClientRequestToken: T(3), VersionStages: ['other'] });
    expect(versionIds('hand')).toHaveLength(4);
    const file = join(t.dir, indexPath('hand'));
    writeFileSync(file, readFileSync(file, 'utf8').replace(`keep: ${T(2)}`, `keep: ${T(1)}`).replace(`other: ${T(3)}`, `other: ${T(1)}`));
    t.git(['add', '-A']);
    const r = spawnSync('git', ['commit', '-qm', 'move labels by hand'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('secretstore: pruned');
    const inCommit = t.git(['show', '--name-status', '--no-renames', '--format=', 'HEAD']);
    expect(inCommit).toMatch(new RegExp(`D\\t${versionPath('hand', T(2)).replaceAll('.', '\\.')}`));
    expect(t.git(['status', '--porcelain'])).toBe('');
    expect(versionIds('hand')).toHaveLength(3); // signed by the commit-msg hook with the committer's writer key (trust v2)
    expect(t.git(['log', '-1', '--format=%B'])).toMatch(/^Secretstore-Signature: secretstoresig1/m);
  });

  it('a hand edit that puts a label on a missing version is refused and nothing is committed', () => {
    const file = join(t.dir, indexPath('hand'));
    writeFileSync(file, readFileSync(file, 'utf8').replace(/AWSCURRENT: .*/, `AWSCURRENT: ${T(99)}`));
    t.git(['add', '-A']);
    const head = t.git(['rev-parse', 'HEAD']);
    const r = spawnSync('git', ['commit', '-qm', 'bad label'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`label AWSCURRENT points at version ${T(99)}`);
    expect(t.git(['rev-parse', 'HEAD'])).toBe(head);
    t.git(['reset', '-q', '--hard']);
  });

  it('a hand edit that removes AWSCURRENT is refused', () => {
    const file = join(t.dir, indexPath('hand'));
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}AWSCURRENT: .*\n/m, ''));
    t.git(['add', '-A']);
    const r = spawnSync('git', ['commit', '-qm', 'no current'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no version carries AWSCURRENT');
    t.git(['reset', '-q', '--hard']);
  });

  it('a commit that touches nothing under the store stops in the shell filter and starts no Node process', () => {
    writeFileSync(join(t.dir, 'README.txt'), 'not a secret');
    t.git(['add', 'README.txt']);
    const trace = spawnSync('sh', ['-x', '.git/hooks/pre-commit'], { cwd: t.dir, env: t.env, encoding: 'utf8' });
    expect(trace.status).toBe(0);
    expect(trace.stderr).toContain('git diff --cached --quiet');
    expect(trace.stderr).not.toContain('hook pre-commit');
    execFileSync('git', ['commit', '-qm', 'readme'], { cwd: t.dir, env: t.env });
  });
});
