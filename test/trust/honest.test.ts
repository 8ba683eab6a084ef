/**
 * Issue 11, honest team flows 8-11: what a team does every day ends in a readable store whose `verify`
 * is clean, on a branch that is not called `main` (the team's remote uses `trunk`; item 11 also runs the
 * README's team and offline guide with git's default branch set to `trunk`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runSection } from '../helpers/doctest.js';
import { BRANCH, errorLines, expectVerifyClean, get, makeTrustTeam, ok, put, value, type Actor, type TrustTeam } from '../helpers/trust.js';

let team: TrustTeam | undefined;
afterEach(async () => {
  team?.cleanup();
  team = undefined;
  await new Promise((done) => setImmediate(done));
});

function teamWithDb(secrets: Record<string, string> = { db: 'v1' }): TrustTeam {
  const t = makeTrustTeam({ secrets });
  team = t;
  return t;
}

function versionIds(a: Actor, secret: string): string[] {
  const r = a.cli(['list-secret-version-ids', '--secret-id', secret, '--include-deprecated']);
  ok(r, 'list-secret-version-ids');
  return r.json<{ Versions: { VersionId: string }[] }>().Versions.map((v) => v.VersionId).sort();
}

function valueOf(a: Actor, secret: string, versionId: string): string {
  const r = a.cli(['get-secret-value', '--secret-id', secret, '--version-id', versionId]);
  ok(r, `get-secret-value ${secret} ${versionId}`);
  return r.json<{ SecretString: string }>().SecretString;
}

function sync(a: Actor, ...args: string[]): string {
  const r = a.cli(['sync', ...args]);
  ok(r, `sync ${args.join(' ')} in ${a.name}'s clone`);
  return r.json<{ Status: string }>().Status;
}

// Each test runs some fifty git and CLI processes: minutes on a loaded two-core machine.
describe('issue 11: honest team flows', { timeout: 300_000 }, () => {
  it('issue 11.8: two offline puts of one secret, then a plain git pull with the merge driver: readable, no version lost, verify clean', () => {
    const t = teamWithDb();
    const v1 = t.bob.cli(['describe-secret', '--secret-id', 'db']).json<{ VersionIdsToStages: Record<string, string[]> }>();
    const a2 = put(t.alice, 'db', 'a2');
    t.alice.git(['push', '-q']);
    const b2 = put(t.bob, 'db', 'b2');

    // As the README's "Sync and merging" does it: the driver settles the contested AWSCURRENT by the preference.
    const pull = t.bob.tryGit(['pull', '--no-rebase', '--no-edit'], { env: { SECRETSTORE_PREFER: 'newest' } });
    expect(pull.status, pull.stderr).toBe(0);
    expect(t.bob.git(['rev-list', '--parents', '-n', '1', 'HEAD']).trim().split(' ')).toHaveLength(3); // git made a merge commit
    expect(value(t.bob, 'db')).toBe('b2'); // the newer version
    expect(versionIds(t.bob, 'db')).toEqual([...Object.keys(v1.VersionIdsToStages), a2, b2].sort());
    expect([valueOf(t.bob, 'db', a2), valueOf(t.bob, 'db', b2)]).toEqual(['a2', 'b2']);
    expectVerifyClean(t.bob);

    // The merged state is pushed and pulled as is: alice reads the same and verify is clean there too.
    t.bob.git(['push', '-q']);
    t.alice.git(['pull', '-q', '--ff-only']);
    expect(value(t.alice, 'db')).toBe(value(t.bob, 'db'));
    expect(valueOf(t.alice, 'db', b2)).toBe('b2');
    expectVerifyClean(t.alice);
    const fresh = t.fresh('fresh');
    expect(value(fresh, 'db')).toBe(value(t.bob, 'db'));
    expectVerifyClean(fresh);
  });

  it('issue 11.8: git pull --rebase of a writer\'s own commits keeps the store readable and verify clean', () => {
    const t = teamWithDb({ db: 'v1', app: 'x1' });
    put(t.alice, 'db', 'a2');
    t.alice.git(['push', '-q']);
    const b2 = put(t.bob, 'db', 'b2');
    put(t.bob, 'app', 'x2');
    const pull = t.bob.tryGit(['pull', '--rebase'], { env: { SECRETSTORE_PREFER: 'newest' } });
    expect(pull.status, pull.stderr).toBe(0);
    expect(t.bob.git(['rev-list', '--merges', 'HEAD'])).toBe(''); // rebased: no merge commit
    expect(value(t.bob, 'db')).toBe('b2'); // the newer version
    expect(valueOf(t.bob, 'db', b2)).toBe('b2');
    expect(value(t.bob, 'app')).toBe('x2');
    expectVerifyClean(t.bob);
    t.bob.git(['push', '-q']);
    t.alice.git(['pull', '-q', '--ff-only']);
    expect(value(t.alice, 'app')).toBe('x2');
    expectVerifyClean(t.alice);
  });

  it('issue 11.9: sync with a contested AWSCURRENT, with each --prefer: both clones read the same value and verify is clean in both', () => {
    const prefers = ['ours', 'theirs', 'newest'] as const;
    const t = teamWithDb(Object.fromEntries(prefers.map((p) => [`db-${p}`, 'v1'])));
    t.bob.git(['pull', '-q', '--ff-only']);
    // bob syncs second: "ours" is bob's, "theirs" alice's, "newest" bob's (made after alice's).
    const expected = { ours: 'b2', theirs: 'a2', newest: 'b2' };
    for (const prefer of prefers) {
      const name = `db-${prefer}`;
      put(t.alice, name, 'a2');
      expect(sync(t.alice)).toBe('Pushed');
      put(t.bob, name, 'b2');
      expect(sync(t.bob, '--prefer', prefer)).toBe('Merged');
      expect(sync(t.alice)).toBe('FastForwarded');
      expect(t.alice.head()).toBe(t.bob.head());
      for (const c of [t.alice, t.bob]) {
        expect(value(c, name), `${prefer} in ${c.name}'s clone`).toBe(expected[prefer]);
        expectVerifyClean(c);
      }
    }
  });

  it('issue 11.10: writers remove keeps what the writer signed while trusted readable, with no re-signing step; the removed writer can no longer write', () => {
    const t = teamWithDb();
    t.bob.git(['pull', '-q', '--ff-only']);
    put(t.bob, 'db', 'b2');
    t.bob.git(['push', '-q']);
    t.alice.git(['pull', '-q', '--ff-only']);
    ok(t.alice.cli(['writers', 'remove', '--name', 'bob']));
    t.alice.git(['push', '-q']);

    expect(value(t.alice, 'db')).toBe('b2');
    expectVerifyClean(t.alice);
    const fresh = t.fresh('fresh');
    expect(value(fresh, 'db')).toBe('b2');
    expectVerifyClean(fresh);

    t.bob.git(['pull', '-q', '--ff-only']);
    expect(value(t.bob, 'db')).toBe('b2'); // still a recipient
    const before = t.bob.snapshot();
    const refused = t.bob.cli(['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], { input: 'b3' });
    expect(refused.status).toBe(254);
    expect(errorLines(refused.stderr)).toHaveLength(1);
    expect(t.bob.snapshot()).toBe(before);
  });

  it('issue 11.10: offboard --name removes a person as recipient and writer in one commit and lists what they could read', () => {
    const t = teamWithDb({ db: 'v1', app: 'x1' });
    t.bob.git(['pull', '-q', '--ff-only']);
    put(t.bob, 'db', 'b2');
    t.bob.git(['push', '-q']);
    t.alice.git(['pull', '-q', '--ff-only']);
    const head = t.alice.head();

    const r = t.alice.cli(['offboard', '--name', 'bob']);
    expect(r.status, r.stderr).toBe(0);
    expect(t.alice.git(['rev-list', '--count', `${head}..HEAD`]).trim()).toBe('1');
    expect(r.stdout + r.stderr).toContain('db');
    expect(r.stdout + r.stderr).toContain('app');
    const config = parse(t.alice.git(['show', 'HEAD:.secretstore.yaml'])) as { recipients: { name: string }[]; writers: { name: string }[] };
    expect(config.recipients.map((x) => x.name)).toEqual(['alice']);
    expect(config.writers.map((x) => x.name)).toEqual(['alice']);
    expect(t.alice.git(['status', '--porcelain'])).toBe('');

    // What bob signed while he was a writer stays valid; what comes next is not sealed to him.
    expect(value(t.alice, 'db')).toBe('b2');
    put(t.alice, 'db', 'a3');
    expectVerifyClean(t.alice);
    t.alice.git(['push', '-q']);
    t.bob.git(['pull', '-q', '--ff-only']);
    expect(get(t.bob, 'db').status).not.toBe(0);
    expect(t.bob.cli(['put-secret-value', '--secret-id', 'app', '--secret-string', '-'], { input: 'b4' }).status).not.toBe(0);
  });

  it('issue 11.11: on a branch named trunk (and one named release/2026): install-hooks, sync, pull, another branch, verify', () => {
    const t = teamWithDb();
    expect(t.alice.git(['symbolic-ref', '--short', 'HEAD']).trim()).toBe(BRANCH);
    expect(t.bob.git(['symbolic-ref', '--short', 'HEAD']).trim()).toBe(BRANCH);
    const release = 'release/2026';
    t.bob.git(['switch', '-q', '-c', release]);
    put(t.bob, 'db', 'b2');
    t.bob.git(['push', '-q', '-u', 'origin', release]);
    t.alice.git(['fetch', '-q']);
    t.alice.git(['switch', '-q', release]);
    expect(value(t.alice, 'db')).toBe('b2');
    put(t.alice, 'db', 'a3');
    expect(sync(t.alice)).toBe('Pushed');
    expect(sync(t.bob)).toBe('FastForwarded');
    expect(value(t.bob, 'db')).toBe('a3');
    expectVerifyClean(t.bob);
    // Back on trunk: an older state on another branch is not a rollback.
    t.bob.git(['switch', '-q', BRANCH]);
    expect(value(t.bob, 'db')).toBe('v1');
    put(t.bob, 'db', 'b4');
    expect(sync(t.bob)).toBe('Pushed');
    expectVerifyClean(t.bob);
  });

  it("issue 11.11: the README's team and offline guide runs as written when git's default branch is trunk", async () => {
    const trunk = (base: string) => {
      const file = join(base, 'gitconfig-trunk');
      writeFileSync(file, `[user]\n\tname = Guide Reader\n\temail = reader@example.invalid\n[init]\n\tdefaultBranch = ${BRANCH}\n`);
      return { GIT_CONFIG_GLOBAL: file };
    };
    // sync runs setup and offline first; review switches branches.
    const synced = await runSection('sync', { env: trunk });
    expect(synced.sh('git symbolic-ref --short HEAD').trim()).toBe(BRANCH);
    await runSection('review', { env: trunk });
  });
});
