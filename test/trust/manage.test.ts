/**
 * Trust v2 (docs/trust.md), the parts a clone manages itself: reads of committed content only, reads of
 * an unchanged store doing no history walk, the trust root (pinned by init, pinned by hand, trusted on
 * first use, required in a shallow clone), never backwards per branch and its explicit acceptance,
 * migration of a store with per-file signature blocks, off-boarding in one commit, rotation pins.
 * Real git, the built CLI.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeStore, runCli, type TestStore } from '../helpers/store.js';

let stores: TestStore[] = [];
afterEach(() => {
  for (const s of stores) s.cleanup();
  stores = [];
});
function store(): TestStore {
  const s = makeStore();
  stores.push(s);
  return s;
}
const value = (t: TestStore, id: string, extra: string[] = []) => t.cli(['get-secret-value', '--secret-id', id, '--query', 'SecretString', '--output', 'text', ...extra]);

describe('trust v2: reads', () => {
  it('reads use committed content only: an uncommitted edit of secret.yaml is never read', () => {
    const t = store();
    expect(t.cli(['create-secret', '--name', 'db', '--secret-string', 'one']).status).toBe(0);
    expect(t.cli(['put-secret-value', '--secret-id', 'db', '--secret-string', 'two']).status).toBe(0);
    const file = join(t.dir, 'secrets/db/secret.yaml');
    const text = readFileSync(file, 'utf8');
    const labels = /AWSCURRENT: (\S+)\n {2}AWSPREVIOUS: (\S+)/.exec(text)!;
    // A hand edit in the work tree moves AWSCURRENT back to the old version: not committed, not trusted.
    writeFileSync(file, text.replace(`AWSCURRENT: ${labels[1]}`, `AWSCURRENT: ${labels[2]}`).replace(`AWSPREVIOUS: ${labels[2]}`, `AWSPREVIOUS: ${labels[1]}`));
    const r = value(t, 'db');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('two');
  });

  it('a read of an unchanged store does no history walk (authenticated commits are remembered)', () => {
    const t = store();
    expect(t.cli(['create-secret', '--name', 'db', '--secret-string', 'one']).status).toBe(0);
    // Another writer's commit arrives by plain git: the first read authenticates it...
    const other = t.git(['rev-parse', 'HEAD']).trim();
    expect(other).toMatch(/^[0-9a-f]{40}$/);
    const first = value(t, 'db', ['--debug']);
    expect(first.status).toBe(0);
    // ...and the next read, of the same HEAD, asks git for no history at all.
    const second = value(t, 'db', ['--debug']);
    expect(second.status).toBe(0);
    expect(second.stderr).not.toMatch(/git (rev-list|log|merge-base)/);
  });
});

describe('trust v2: roots', () => {
  it('init pins its own commit as the trust root and prints it for the team', () => {
    const t = store();
    const shown = t.cli(['trust']).json<{ Root: { Commit: string; How: string; WriterKey: string }; Head: { Authentic: boolean } }>();
    expect(shown.Root.How).toBe('pinned');
    expect(shown.Root.Commit).toBe(t.git(['rev-list', '--max-parents=0', 'HEAD']).trim());
    expect(shown.Root.WriterKey).toMatch(/^secretstoresig1/);
    expect(shown.Head.Authentic).toBe(true);
  });

  it('a fresh clone trusts the first signed configuration on first use, says so, and can pin it by hand', () => {
    const t = store();
    expect(t.cli(['create-secret', '--name', 'db', '--secret-string', 'one']).status).toBe(0);
    const clone = join(t.base, 'clone');
    execFileSync('git', ['clone', '-q', t.dir, clone], { env: t.env });
    const first = runCli(['get-secret-value', '--secret-id', 'db', '--query', 'SecretString', '--output', 'text'], t.env, clone);
    expect(first.status).toBe(0);
    expect(first.stdout.trim()).toBe('one');
    const root = t.git(['rev-list', '--max-parents=0', 'HEAD']).trim();
    expect(first.stderr).toContain(`trusting commit ${root.slice(0, 12)}`);
    expect(first.stderr).toContain(`secretstore trust --root ${root} --key secretstoresig1`);
    const key = t.cli(['trust']).json<{ Root: { WriterKey: string } }>().Root.WriterKey;
    const pinned = runCli(['trust', '--root', root, '--key', key], t.env, clone);
    expect(pinned.status).toBe(0);
    expect(runCli(['trust'], t.env, clone).json<{ Root: { How: string } }>().Root.How).toBe('pinned');
    // A pin with another key than the one that signed is refused, and changes nothing.
    const other = makeStore();
    stores.push(other);
    const wrongKey = other.cli(['trust']).json<{ Root: { WriterKey: string } }>().Root.WriterKey;
    const refused = runCli(['trust', '--root', root, '--key', wrongKey], t.env, clone);
    expect(refused.status).toBe(254);
    expect(refused.stderr).toContain('signed by another key than --key');
  });

  it('a shallow clone without a root inside its history refuses reads and says to fetch deeper or pin a root; with one it reads', () => {
    const t = store();
    for (const v of ['one', 'two', 'three']) {
      const r = v === 'one' ? t.cli(['create-secret', '--name', 'db', '--secret-string', v]) : t.cli(['put-secret-value', '--secret-id', 'db', '--secret-string', v]);
      expect(r.status).toBe(0);
    }
    const shallow = join(t.base, 'shallow');
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${t.dir}`, shallow], { env: t.env });
    const refused = runCli(['get-secret-value', '--secret-id', 'db'], t.env, shallow);
    expect(refused.status).toBe(254);
    expect(refused.stderr).toMatch(/shallow clone.*(fetch deeper|--unshallow).*trust --root/);
    const head = t.git(['rev-parse', 'HEAD']).trim();
    const key = t.cli(['trust']).json<{ Root: { WriterKey: string } }>().Root.WriterKey;
    expect(runCli(['trust', '--root', head, '--key', key], t.env, shallow).status).toBe(0);
    const read = runCli(['get-secret-value', '--secret-id', 'db', '--query', 'SecretString', '--output', 'text'], t.env, shallow);
    expect(read.stderr).toBe('');
    expect(read.stdout.trim()).toBe('three');
  });
});

describe('trust v2: never backwards', () => {
  it('a branch reset behind what this clone read is refused until trust --accept-rewind, which lists what is lost', () => {
    const t = store();
    expect(t.cli(['create-secret', '--name', 'db', '--secret-string', 'one']).status).toBe(0);
    const old = t.git(['rev-parse', 'HEAD']).trim();
    expect(t.cli(['put-secret-value', '--secret-id', 'db', '--secret-string', 'two']).status).toBe(0);
    expect(value(t, 'db').stdout.trim()).toBe('two');
    t.git(['reset', '-q', '--hard', old]);
    const refused = value(t, 'db');
    expect(refused.status).toBe(254);
    expect(refused.stderr).toContain('does not descend from');
    expect(refused.stderr).toContain('secretstore trust --accept-rewind');
    // A detached HEAD (bisect, a look at an old state) is not a rollback of a branch.
    t.git(['checkout', '-q', '--detach', old]);
    expect(value(t, 'db').stdout.trim()).toBe('one');
    t.git(['checkout', '-q', 'main']);
    const accepted = t.cli(['trust', '--accept-rewind']);
    expect(accepted.status).toBe(0);
    expect(accepted.json<{ Lost: string[] }>().Lost).toHaveLength(1);
    expect(accepted.json<{ Lost: string[] }>().Lost[0]).toContain('put-secret-value db');
    expect(value(t, 'db').stdout.trim()).toBe('one');
  });
});

describe('trust v2: stores of secretstore 0.1', () => {
  it('a store with per-file signature blocks and unsigned commits is refused with what to do; trust migrate signs it in one commit that becomes the root', () => {
    const t = store();
    expect(t.cli(['create-secret', '--name', 'db', '--secret-string', 'one']).status).toBe(0);
    // Make it look like a 0.1 store: every file ends with a signature block, and no commit is signed.
    for (const path of ['.secretstore.yaml', 'secrets/db/secret.yaml']) {
      const file = join(t.dir, path);
      writeFileSync(file, `${readFileSync(file, 'utf8')}signature:\n  writer: tester\n  sig: AAAA\n`);
    }
    const tree = (() => {
      t.git(['add', '-A']);
      return t.git(['write-tree']).trim();
    })();
    const legacy = execFileSync('git', ['commit-tree', tree, '-m', 'a store made by secretstore 0.1'], { cwd: t.dir, env: t.env, encoding: 'utf8' }).trim();
    t.git(['update-ref', 'HEAD', legacy]);
    execFileSync('rm', ['-rf', join(t.dir, '.git', 'secretstore-trust')]);
    const refused = value(t, 'db');
    expect(refused.status).toBe(254);
    expect(refused.stderr).toContain('secretstore trust migrate');
    const migrated = t.cli(['trust', 'migrate']);
    expect(migrated.status).toBe(0);
    const out = migrated.json<{ Commit: string; Files: number }>();
    expect(out.Files).toBe(2);
    expect(out.Commit).toBe(t.git(['rev-parse', 'HEAD']).trim());
    expect(migrated.stderr).toContain(`secretstore trust --root ${out.Commit} --key secretstoresig1`);
    expect(t.git(['show', 'HEAD:secrets/db/secret.yaml'])).not.toContain('signature:');
    expect(t.git(['log', '-1', '--format=%B'])).toMatch(/^Secretstore-Signature: secretstoresig1\S+ \S+==$/m);
    const read = value(t, 'db');
    expect(read.stderr).toBe('');
    expect(read.stdout.trim()).toBe('one');
  });
});

describe('trust v2: off-boarding', () => {
  it('offboard removes a person as recipient and writer in one signed commit, and lists what they could read', () => {
    const t = store();
    const bobHome = join(t.base, 'bob');
    const bobKey = join(bobHome, 'identity');
    const keys = runCli(['keygen', '-o', bobKey], { ...t.env, HOME: bobHome }, t.dir).stdout.trim().split('\n');
    const publicKey = keys.find((k) => k.includes('secretstore1'))!.match(/secretstore1\S+/)![0];
    const writerKey = keys.find((k) => k.includes('secretstoresig1'))!.match(/secretstoresig1\S+/)![0];
    expect(t.cli(['recipients', 'add', '--name', 'bob', '--public-key', publicKey]).status).toBe(0);
    expect(t.cli(['writers', 'add', '--name', 'bob', '--writer-key', writerKey]).status).toBe(0);
    expect(t.cli(['create-secret', '--name', 'db', '--secret-string', 'one']).status).toBe(0);
    // bob writes while he is trusted...
    const bobPut = runCli(['put-secret-value', '--secret-id', 'db', '--secret-string', 'bobs', '--identity', bobKey], t.env, t.dir);
    expect(bobPut.status).toBe(0);
    const before = Number(t.git(['rev-list', '--count', 'HEAD']).trim());
    const off = t.cli(['offboard', '--name', 'bob']);
    expect(off.status).toBe(0);
    expect(off.json<{ WasRecipient: boolean; WasWriter: boolean; CouldRead: string[] }>()).toMatchObject({ WasRecipient: true, WasWriter: true, CouldRead: ['db'] });
    expect(Number(t.git(['rev-list', '--count', 'HEAD']).trim())).toBe(before + 1);
    const config = t.git(['show', 'HEAD:.secretstore.yaml']);
    expect(config).not.toContain(publicKey);
    expect(config).not.toContain(writerKey);
    // ...what he signed then stays valid (issue 11.10), and he can no longer write.
    expect(value(t, 'db').stdout.trim()).toBe('bobs');
    const late = runCli(['put-secret-value', '--secret-id', 'db', '--secret-string', 'late', '--identity', bobKey], t.env, t.dir);
    expect(late.status).toBe(254);
    expect(late.stderr).toContain('AccessDeniedException');
    expect(t.cli(['verify']).status).toBe(0);
  });
});

describe('trust v2: rotation commands are pinned', () => {
  it('a rotation script edited after it was pinned is refused before anything runs; set again, it runs', () => {
    const t = store();
    const script = join(t.dir, 'rotate.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o755);
    t.git(['add', 'rotate.sh']);
    t.git(['commit', '-qm', 'add a rotation script']);
    expect(t.cli(['create-secret', '--name', 'db', '--secret-string', 'one']).status).toBe(0);
    const set = t.cli(['rotate-secret', '--secret-id', 'db', '--rotation-lambda-arn', './rotate.sh', '--no-rotate-immediately']);
    expect(set.status).toBe(0);
    expect(t.git(['show', 'HEAD:secrets/db/secret.yaml'])).toMatch(/pins:\n\s+rotate\.sh: [0-9a-f]{64}/);
    writeFileSync(script, '#!/bin/sh\necho "$SECRETSTORE_ROTATION_STEP" >> "$SECRETSTORE_DIR/../ran.log"\n');
    const before = t.snapshot();
    const refused = t.cli(['rotate-secret', '--secret-id', 'db']);
    expect(refused.status).toBe(254);
    expect(refused.stderr).toContain('rotate.sh, which changed since it was pinned');
    expect(() => readFileSync(join(t.base, 'ran.log'))).toThrow();
    expect(t.snapshot()).toBe(before);
    // A writer who checked the new script sets the command again: pinned anew, it runs.
    const again = t.cli(['rotate-secret', '--secret-id', 'db', '--rotation-lambda-arn', './rotate.sh', '--no-rotate-immediately']);
    expect(again.stderr).not.toContain('pinned');
    expect(readFileSync(join(t.base, 'ran.log'), 'utf8')).not.toBe('');
  });
});
