/**
 * Issue 11, attacks 1-7: an attacker with push access and no writer key (mallory) against a team (alice,
 * bob) on a branch named `trunk`. Every attack is made with git plumbing and pushed to the bare remote,
 * and each test asserts, per TRUST-DESIGN.md:
 * - the honest clone's read after `git pull` (or fetch + reset) is refused (exit 254, one line naming the
 *   secret or the store and the commit) or returns only an authorised value no older than it has seen;
 * - `secretstore verify` exits 1 with a finding naming the commit;
 * - nothing signs the attacker's content: `sync` refuses with a report and leaves the clone and the remote
 *   byte for byte unchanged; a write on top of it is refused and changes nothing.
 * Also: the example `scripts/pre-receive.sh` (verify --range per updated ref) run in a bare repository.
 */
import { copyFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDocument, YAMLSeq } from 'yaml';
import {
  BRANCH,
  actorAt,
  buildTree,
  commitTree,
  commitWithSubject,
  errorLines,
  expectRefusedOrAuthorised,
  expectSyncRefuses,
  expectVerifyClean,
  expectVerifyFlags,
  fetchHead,
  get,
  gitIn,
  graph,
  isAncestor,
  makeTrustTeam,
  namedCommits,
  newCommits,
  ok,
  parentsOf,
  pushAs,
  put,
  value,
  versionAt,
  type Actor,
  type TrustTeam,
} from '../helpers/trust.js';

let team: TrustTeam | undefined;
afterEach(async () => {
  team?.cleanup();
  team = undefined;
  // The tests block on child processes; one turn of the event loop lets vitest's worker answer its runner.
  await new Promise((done) => setImmediate(done));
});

/** alice made `db` (v1) and put v2, pushed; bob pulled and read v2 (his newest state). */
function teamWithDb(): TrustTeam {
  const t = makeTrustTeam({ secrets: { db: 'v1' } });
  team = t;
  put(t.alice, 'db', 'v2');
  t.alice.git(['push', '-q']);
  t.bob.git(['pull', '-q', '--ff-only']);
  expect(value(t.bob, 'db')).toBe('v2');
  return t;
}

/** `git log --graph` of a merge starts with the merge's own line, then the fork of its parents. */
function expectMergeShape(a: Actor, merge: string, parents: readonly string[]): void {
  expect(parentsOf(a, merge)).toEqual(parents);
  const lines = graph(a, merge).split('\n');
  expect(lines[0], graph(a, merge)).toMatch(/^\*\s+[0-9a-f]{7,}/);
  expect(lines[1], graph(a, merge)).toMatch(/^\|\\/);
}

/** Runs `get` in `a` after a pull that brought the attack, and checks the rules of the header. */
function expectReadsGuarded(a: Actor, secret: string, authorised: readonly string[], suspects: readonly string[]): void {
  expectRefusedOrAuthorised(get(a, secret), { secret, authorised, suspects });
  // list-secrets reads every index: the same rule.
  const list = a.cli(['list-secrets']);
  if (list.status !== 0) {
    expect(list.status, list.stderr).toBe(254);
    expect(errorLines(list.stderr), list.stderr).toHaveLength(1);
    expect(namedCommits(list.stderr, suspects), list.stderr).not.toEqual([]);
  }
}

/** A write on an unauthenticated HEAD is refused and leaves the clone as it was. */
function expectWriteRefused(a: Actor, args: readonly string[], input?: string): void {
  const before = a.snapshot();
  const r = a.cli(args, input === undefined ? {} : { input });
  expect(r.status, `${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`).not.toBe(0);
  expect(a.snapshot(), `${args[0]} changed ${a.name}'s clone`).toBe(before);
}

// Each test runs some fifty git and CLI processes: minutes on a loaded two-core machine.
describe('issue 11: attacks by someone with push access and no writer key', { timeout: 300_000 }, () => {
  it('issue 11.1: rollback through a merge commit is refused by reads and flagged by verify', () => {
    const t = teamWithDb();
    const m = t.mallory;
    const head = fetchHead(m);
    const old = commitWithSubject(m, 'create-secret db', head); // db's AWSCURRENT was v1 there, validly signed
    const tree = buildTree(m, head, [{ path: 'secrets/db/secret.yaml', from: old }]);
    const merge = commitTree(m, tree, [head, old], `Merge commit '${old.slice(0, 7)}'`);
    expectMergeShape(m, merge, [head, old]);
    expect(isAncestor(m, old, head)).toBe(true); // the second parent is an ancestor of the first
    expect(m.git(['show', `${merge}:secrets/db/secret.yaml`])).toBe(m.git(['show', `${old}:secrets/db/secret.yaml`]));
    pushAs(m, merge); // a fast-forward: no force needed

    t.bob.git(['pull', '-q', '--ff-only']);
    expect(t.bob.head()).toBe(merge);
    expectReadsGuarded(t.bob, 'db', ['v2'], [merge]);
    expectVerifyFlags(t.bob, [merge]);
    expectWriteRefused(t.bob, ['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'b3');

    // A fresh clone (trust on first use: alice's init on the first-parent chain) is not fooled either.
    const fresh = t.fresh('fresh');
    expectReadsGuarded(fresh, 'db', ['v2'], [merge]);
    expectVerifyFlags(fresh, [merge]);

    // alice, with a change of her own, syncs: nothing of the merge is merged, signed or pushed.
    put(t.alice, 'db', 'a3');
    expectSyncRefuses(t, t.alice, [merge]);
  });

  it('issue 11.2: an old signed .secretstore.yaml replayed through a merge does not bring back a removed recipient and writer', () => {
    const t = teamWithDb();
    const a = t.alice;
    ok(a.cli(['recipients', 'add', '--name', 'carol', '--public-key', t.carol.publicKey]));
    ok(a.cli(['writers', 'add', '--name', 'carol', '--writer-key', t.carol.writerKey]));
    ok(a.cli(['writers', 'remove', '--name', 'carol']));
    ok(a.cli(['recipients', 'remove', '--name', 'carol']));
    a.git(['push', '-q']);
    t.bob.git(['pull', '-q', '--ff-only']);
    expect(value(t.bob, 'db')).toBe('v2');

    const m = t.mallory;
    const head = fetchHead(m);
    const old = commitWithSubject(m, 'writers add carol', head); // carol is recipient and writer there
    expect(m.git(['show', `${old}:.secretstore.yaml`])).toContain(t.carol.writerKey);
    const tree = buildTree(m, head, [{ path: '.secretstore.yaml', from: old }]);
    const merge = commitTree(m, tree, [head, old], 'Merge branch config');
    expectMergeShape(m, merge, [head, old]);
    pushAs(m, merge);

    t.bob.git(['pull', '-q', '--ff-only']);
    expect(t.bob.git(['show', 'HEAD:.secretstore.yaml'])).toContain(t.carol.publicKey);
    expectReadsGuarded(t.bob, 'db', ['v2'], [merge]);
    // The next put would seal to carol: it is refused before anything is sealed or written.
    expectWriteRefused(t.bob, ['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'b3');
    expectWriteRefused(t.bob, ['create-secret', '--name', 'new', '--secret-string', '-'], 'b4');
    // carol reads nothing new in bob's clone.
    const carolReads = t.bob.cli(['get-secret-value', '--secret-id', 'db'], { env: { SECRETSTORE_IDENTITY: t.carol.identity } });
    expect(carolReads.status).not.toBe(0);
    expectVerifyFlags(t.bob, [merge]);

    put(a, 'db', 'a3');
    expectSyncRefuses(t, a, [merge]);
  });

  /** mallory's own store, in a repository of her own: init (signed by her key) and db = evil. */
  function orphanStore(t: TrustTeam): { tip: string; roots: string[] } {
    const dir = join(t.base, 'evil');
    execFileSync('git', ['init', '-q', '-b', BRANCH, dir], { env: t.env });
    const evil = actorAt(dir, t.mallory, t.env);
    ok(evil.cli(['init', '--name', 'mallory']));
    ok(evil.cli(['create-secret', '--name', 'db', '--secret-string', '-'], { input: 'evil' }));
    const m = t.mallory;
    m.git(['fetch', '-q', dir, BRANCH]);
    const tip = m.git(['rev-parse', 'FETCH_HEAD']).trim();
    const roots = m.git(['rev-list', '--max-parents=0', tip]).split('\n').filter(Boolean);
    expect(roots).toHaveLength(1);
    expect(m.tryGit(['merge-base', tip, 'origin/' + BRANCH]).status).not.toBe(0); // unrelated histories
    return { tip, roots: m.git(['rev-list', tip]).split('\n').filter(Boolean) };
  }

  it('issue 11.3: fresh clone takeover through a merged orphan history is refused, with or without a pinned root', () => {
    const t = teamWithDb();
    const m = t.mallory;
    const head = fetchHead(m);
    const orphan = orphanStore(t);
    // The merge keeps trunk as first parent and takes the orphan's store (mallory as writer and recipient).
    const merge = commitTree(m, m.git(['rev-parse', `${orphan.tip}^{tree}`]).trim(), [head, orphan.tip], "Merge branch 'tooling'");
    expectMergeShape(m, merge, [head, orphan.tip]);
    expect(m.git(['show', `${merge}:.secretstore.yaml`])).toContain(m.writerKey);
    pushAs(m, merge);
    const suspects = [merge, ...orphan.roots];

    t.bob.git(['pull', '-q', '--ff-only']);
    expectReadsGuarded(t.bob, 'db', ['v2'], suspects);
    expectWriteRefused(t.bob, ['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'b3');
    expectVerifyFlags(t.bob, suspects);

    // A fresh clone trusting on first use roots at alice's init (first-parent chain): the merge is refused.
    const tofu = t.fresh('tofu');
    expectReadsGuarded(tofu, 'db', ['v2'], suspects);
    expectWriteRefused(tofu, ['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'a3');
    expectVerifyFlags(tofu, suspects);

    // A fresh clone with the root pinned out of band.
    const pinned = t.fresh('pinned');
    ok(pinned.cli(['trust', '--root', t.root, '--key', t.alice.writerKey]), 'trust --root');
    expectReadsGuarded(pinned, 'db', ['v2'], suspects);
    expectVerifyFlags(pinned, suspects);

    put(t.alice, 'db', 'a3');
    expectSyncRefuses(t, t.alice, suspects);
  });

  it('issue 11.3: fresh clone takeover with the orphan history as first parent: a pinned root refuses it, verify reports the other root', () => {
    const t = teamWithDb();
    const m = t.mallory;
    const head = fetchHead(m);
    const orphan = orphanStore(t);
    const merge = commitTree(m, m.git(['rev-parse', `${orphan.tip}^{tree}`]).trim(), [orphan.tip, head], "Merge branch 'trunk' into tooling");
    expectMergeShape(m, merge, [orphan.tip, head]);
    expect(m.git(['rev-list', '--first-parent', merge]).split('\n')).not.toContain(t.root); // the honest root is off the first-parent chain
    pushAs(m, merge); // still a fast-forward of trunk: head is a parent
    const suspects = [merge, ...orphan.roots];

    t.bob.git(['pull', '-q', '--ff-only']);
    expectReadsGuarded(t.bob, 'db', ['v2'], suspects);
    expectVerifyFlags(t.bob, suspects);

    const pinned = t.fresh('pinned');
    ok(pinned.cli(['trust', '--root', t.root, '--key', t.alice.writerKey]), 'trust --root');
    expectReadsGuarded(pinned, 'db', ['v2'], suspects);
    expectWriteRefused(pinned, ['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'a3');
    expectVerifyFlags(pinned, suspects);

    // Trust on first use would root at mallory's init here (the design's fallback): the first command says
    // which root it pinned and how to pin one, and verify reports the other root that brings store content.
    const tofu = t.fresh('tofu');
    const first = get(tofu, 'db');
    expect(first.stderr).toContain('trust --root');
    expectVerifyFlags(tofu, [t.root, ...suspects]);
  });

  it('issue 11.4: an unsigned label move and rotation command from the remote are not laundered through sync or the merge driver', () => {
    const t = teamWithDb();
    const m = t.mallory;
    const head = fetchHead(m);
    const marker = join(t.base, 'attacker-ran');
    const doc = parseDocument(m.git(['show', `${head}:secrets/db/secret.yaml`]));
    const current = doc.getIn(['labels', 'AWSCURRENT']) as string;
    const previous = doc.getIn(['labels', 'AWSPREVIOUS']) as string;
    doc.setIn(['labels', 'AWSCURRENT'], previous);
    doc.setIn(['labels', 'AWSPREVIOUS'], current);
    doc.set('rotation', { enabled: true, lambdaArn: `touch ${marker}`, rules: { automaticallyAfterDays: 30 } });
    const attack = commitTree(m, buildTree(m, head, [{ path: 'secrets/db/secret.yaml', content: doc.toString() }]), [head], 'db: tidy');
    expect(parentsOf(m, attack)).toEqual([head]);
    expect(m.git(['show', `${attack}:secrets/db/secret.yaml`])).toContain(marker);
    pushAs(m, attack);

    // bob changed db offline: a merge is needed, and the driver would be the one to merge the index.
    const b3 = put(t.bob, 'db', 'b3');
    const mine = t.bob.head();
    expectSyncRefuses(t, t.bob, [attack]);

    const pull = t.bob.tryGit(['pull', '--no-rebase', '--no-edit']);
    if (pull.status !== 0) {
      // The driver refused: git stops with a conflict; bob aborts and is back where he was.
      t.bob.git(['merge', '--abort']);
      expect(t.bob.head()).toBe(mine);
    }
    const suspects = [attack, ...newCommits(t.bob, mine)];
    expectReadsGuarded(t.bob, 'db', ['b3'], suspects);
    const rotate = t.bob.cli(['rotate-secret', '--secret-id', 'db']);
    expect(existsSync(marker), `rotate-secret ran the attacker's command: ${rotate.stderr}`).toBe(false);
    if (t.bob.head() !== mine) {
      expect(rotate.status).toBe(254);
      expectVerifyFlags(t.bob, suspects);
    }
    // The attacker's label move is nobody's AWSCURRENT in bob's clone, and no commit of bob's signs it.
    expect(versionAt(t.bob, mine, 'db')).toBe(b3);
    for (const c of t.bob.git(['rev-list', '--all']).split('\n').filter(Boolean)) {
      if (c === attack) continue;
      const index = t.bob.tryGit(['show', `${c}:secrets/db/secret.yaml`]).stdout;
      if (index.includes(marker)) expect(t.bob.git(['log', '-1', '--format=%B', c]), `commit ${c} signs the attacker's index`).not.toContain('Secretstore-Signature:');
    }
  });

  it('issue 11.5: an edited rotation script is refused before anything runs, and verify flags the commit', () => {
    const t = makeTrustTeam({ secrets: { db: 'v1' } });
    team = t;
    const a = t.alice;
    const script = [
      '#!/bin/sh',
      '# Run by secretstore rotate-secret once per step, in the store folder.',
      'set -eu',
      'id=$SECRETSTORE_SECRET_ID token=$SECRETSTORE_CLIENT_REQUEST_TOKEN',
      'case $SECRETSTORE_STEP in',
      '  createSecret)',
      '    secretstore get-secret-value --secret-id "$id" --version-id "$token" > /dev/null 2>&1 && exit 0',
      '    printf "rotated-%s" "$token" | secretstore put-secret-value --secret-id "$id" --client-request-token "$token" --version-stages AWSPENDING --secret-string - > /dev/null ;;',
      '  finishSecret)',
      '    current=$(secretstore list-secret-version-ids --secret-id "$id" --output text --query "Versions[?contains(VersionStages, \'AWSCURRENT\')].VersionId | [0]")',
      '    [ "$current" = "$token" ] || secretstore update-secret-version-stage --secret-id "$id" --version-stage AWSCURRENT --move-to-version-id "$token" --remove-from-version-id "$current" > /dev/null ;;',
      'esac',
      '',
    ].join('\n');
    execFileSync('sh', ['-c', 'cat > rotate.sh && chmod +x rotate.sh'], { cwd: a.dir, input: script });
    a.git(['add', 'rotate.sh']);
    a.git(['commit', '-qm', 'rotation function for db']);
    ok(a.cli(['rotate-secret', '--secret-id', 'db', '--rotation-lambda-arn', './rotate.sh', '--rotation-rules', 'AutomaticallyAfterDays=30']), 'rotate-secret');
    const rotated = value(a, 'db');
    expect(rotated).toMatch(/^rotated-/);
    a.git(['push', '-q']);
    t.bob.git(['pull', '-q', '--ff-only']);
    expect(value(t.bob, 'db')).toBe(rotated);

    const m = t.mallory;
    const head = fetchHead(m);
    const marker = join(t.base, 'attacker-ran');
    const evil = `#!/bin/sh\ntouch ${marker}\nexit 0\n`;
    const attack = commitTree(m, buildTree(m, head, [{ path: 'rotate.sh', content: evil, mode: '100755' }]), [head], 'rotate.sh: faster');
    expect(m.git(['diff', '--name-only', head, attack]).trim()).toBe('rotate.sh'); // nothing under secrets/ changed
    pushAs(m, attack);

    t.bob.git(['pull', '-q', '--ff-only']);
    const r = t.bob.cli(['rotate-secret', '--secret-id', 'db']);
    expect(existsSync(marker), `rotate-secret ran the edited script: ${r.stderr}`).toBe(false);
    expect(r.status, r.stderr).toBe(254);
    expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('rotate.sh');
    expect(value(t.bob, 'db')).toBe(rotated); // the store itself is untouched and readable
    const found = expectVerifyFlags(t.bob, [attack]);
    expect(found.stdout + found.stderr).toContain('rotate.sh');

    // alice syncs a change of her own: whatever sync does with the script, the next rotation does not run it.
    put(a, 'db', 'a2');
    a.cli(['sync']);
    a.cli(['rotate-secret', '--secret-id', 'db']);
    expect(existsSync(marker)).toBe(false);
  });

  it('issue 11.6: --allow-unsigned does not let a write seal to recipients from an unsigned configuration', () => {
    const t = teamWithDb();
    const m = t.mallory;
    const head = fetchHead(m);
    const doc = parseDocument(m.git(['show', `${head}:.secretstore.yaml`]));
    (doc.get('recipients') as YAMLSeq).add(doc.createNode({ name: 'mallory', publicKey: m.publicKey }));
    (doc.get('writers') as YAMLSeq).add(doc.createNode({ name: 'mallory', writerKey: m.writerKey }));
    const attack = commitTree(m, buildTree(m, head, [{ path: '.secretstore.yaml', content: doc.toString() }]), [head], 'config: add ci');
    expect(m.git(['show', `${attack}:.secretstore.yaml`])).toContain(m.publicKey);
    pushAs(m, attack);

    t.bob.git(['pull', '-q', '--ff-only']);
    expectWriteRefused(t.bob, ['--allow-unsigned', 'put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'b3');
    expectWriteRefused(t.bob, ['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'b3');
    expectWriteRefused(t.bob, ['--allow-unsigned', 'create-secret', '--name', 'new', '--secret-string', '-'], 'b4');
    // mallory's identity opens nothing in bob's clone.
    expect(t.bob.cli(['get-secret-value', '--secret-id', 'db'], { env: { SECRETSTORE_IDENTITY: m.identity } }).status).not.toBe(0);
    expectReadsGuarded(t.bob, 'db', ['v2'], [attack]);
    expectVerifyFlags(t.bob, [attack]);

    put(t.alice, 'db', 'a3');
    expectSyncRefuses(t, t.alice, [attack]);
  });

  it('issue 11.7: a force-push rollback is refused in a clone that read the newer state, until trust --accept-rewind; other branches and a detached HEAD are not rollbacks', () => {
    const t = teamWithDb();
    const v3 = put(t.alice, 'db', 'v3');
    t.alice.git(['push', '-q']);
    t.bob.git(['pull', '-q', '--ff-only']);
    expect(value(t.bob, 'db')).toBe('v3');
    const newest = t.bob.head();
    const older = t.bob.git(['rev-parse', 'HEAD~1']).trim();

    // Looking at an older state on purpose is not a rollback: a detached HEAD (bisect), another branch.
    t.bob.git(['checkout', '-q', '--detach', older]);
    expect(value(t.bob, 'db')).toBe('v2');
    t.bob.git(['switch', '-q', '-c', 'look-back', older]);
    expect(value(t.bob, 'db')).toBe('v2');
    t.bob.git(['switch', '-q', BRANCH]);
    expect(value(t.bob, 'db')).toBe('v3');

    const m = t.mallory;
    expect(fetchHead(m)).toBe(newest);
    pushAs(m, older, { force: true });
    expect(t.remoteHead()).toBe(older);
    expect(isAncestor(m, older, newest)).toBe(true);

    t.bob.git(['fetch', '-q']);
    t.bob.git(['reset', '-q', '--hard', `origin/${BRANCH}`]);
    expect(t.bob.head()).toBe(older);
    expectRefusedOrAuthorised(get(t.bob, 'db'), { secret: 'db', authorised: ['v3'], suspects: [older, newest] });
    expectVerifyFlags(t.bob, [older, newest]);
    expectWriteRefused(t.bob, ['put-secret-value', '--secret-id', 'db', '--secret-string', '-'], 'b4');

    // Accepting it explicitly says what is lost (the newer commit, or the version it made).
    const accept = t.bob.cli(['trust', '--accept-rewind']);
    expect(accept.status, accept.stderr).toBe(0);
    const said = accept.stdout + accept.stderr;
    expect(namedCommits(said, [newest]).length > 0 || said.includes(v3), said).toBe(true);
    expect(value(t.bob, 'db')).toBe('v2');
    expectVerifyClean(t.bob);
  });

  it('a pre-receive hook (scripts/pre-receive.sh: verify --range per updated ref) rejects an attacker push to a bare repository and accepts an honest one', () => {
    const t = teamWithDb();
    const hooked = join(t.base, 'hooked.git');
    execFileSync('git', ['clone', '-q', '--bare', t.remote, hooked], { env: t.env });
    const hook = join(hooked, 'hooks', 'pre-receive');
    copyFileSync(resolve('scripts/pre-receive.sh'), hook);
    chmodSync(hook, 0o755);
    expect(readFileSync(hook, 'utf8')).toContain('secretstore verify --range');
    const hookedHead = () => gitIn(hooked, t.env, ['rev-parse', BRANCH]).stdout.trim();

    // An honest put is accepted.
    t.alice.git(['remote', 'add', 'hooked', hooked]);
    put(t.alice, 'db', 'v3');
    const honest = t.alice.tryGit(['push', 'hooked', BRANCH]);
    expect(honest.status, honest.stderr).toBe(0);
    expect(hookedHead()).toBe(t.alice.head());

    // The rollback merge of 11.1 is rejected and the branch does not move.
    const m = t.mallory;
    m.git(['remote', 'add', 'hooked', hooked]);
    m.git(['fetch', '-q', 'hooked']);
    const head = m.git(['rev-parse', `hooked/${BRANCH}`]).trim();
    const old = commitWithSubject(m, 'create-secret db', head);
    const merge = commitTree(m, buildTree(m, head, [{ path: 'secrets/db/secret.yaml', from: old }]), [head, old], 'Merge');
    const pushed = m.tryGit(['push', 'hooked', `${merge}:refs/heads/${BRANCH}`]);
    expect(pushed.status).not.toBe(0);
    expect(pushed.stderr).toContain('pre-receive hook declined');
    expect(namedCommits(pushed.stderr, [merge])).not.toEqual([]);
    expect(hookedHead()).toBe(head);

    // So is a plain unsigned edit on a new branch, and a force-push back to an older state.
    const edit = commitTree(m, buildTree(m, head, [{ path: 'secrets/db/secret.yaml', from: old }]), [head], 'db: fix');
    expect(m.tryGit(['push', 'hooked', `${edit}:refs/heads/feature`]).status).not.toBe(0);
    expect(m.tryGit(['push', '--force', 'hooked', `${head}~1:refs/heads/${BRANCH}`]).status).not.toBe(0);
    expect(hookedHead()).toBe(head);

    // And honest work keeps flowing after the rejections.
    put(t.alice, 'db', 'v4');
    const again = t.alice.tryGit(['push', 'hooked', BRANCH]);
    expect(again.status, again.stderr).toBe(0);
    expect(hookedHead()).toBe(t.alice.head());
  });
});
