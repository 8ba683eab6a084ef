/**
 * `secretstore log` (issue #5 item 3): the history of label moves and versions from git, without
 * decrypting anything, must match what a scripted series of CLI operations did.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, type TestStore } from './helpers/store.js';
import { formatEvent, indexEvents } from '../src/core/history.js';
import { parseSecretIndex, serializeSecretIndex } from '../src/core/codec.js';
import type { SecretIndex } from '../src/model/store.js';

const v = (n: number) => `${n}${n}${n}${n}${n}${n}${n}${n}-0000-4000-8000-00000000000${n}`;

let t: TestStore;
let arn: string;
let today: string;
beforeAll(() => {
  t = makeStore();
  const ok = (args: string[], input?: string) => {
    const r = t.cli(args, input === undefined ? {} : { input });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  arn = ok(['create-secret', '--name', 'MyDb', '--secret-string', '-', '--client-request-token', v(1)], 'one').json<{ ARN: string }>().ARN;
  ok(['create-secret', '--name', 'other', '--secret-string', '-', '--client-request-token', v(9)], 'x');
  ok(['put-secret-value', '--secret-id', 'MyDb', '--secret-string', '-', '--client-request-token', v(2)], 'two');
  ok(['put-secret-value', '--secret-id', 'MyDb', '--secret-string', '-', '--client-request-token', v(3)], 'three');
  ok(['update-secret-version-stage', '--secret-id', 'MyDb', '--version-stage', 'AWSCURRENT', '--move-to-version-id', v(2), '--remove-from-version-id', v(3)]);
  ok(['update-secret-version-stage', '--secret-id', 'MyDb', '--version-stage', 'BLUE', '--move-to-version-id', v(1)]);
  ok(['update-secret-version-stage', '--secret-id', 'MyDb', '--version-stage', 'BLUE', '--remove-from-version-id', v(1)]);
  ok(['delete-secret', '--secret-id', 'MyDb', '--recovery-window-in-days', '7']);
  ok(['restore-secret', '--secret-id', 'MyDb']);
  today = new Date(t.git(['log', '-1', '--format=%aI']).trim()).toISOString().slice(0, 10); // log prints UTC days
});
afterAll(() => t.cleanup());

/** What the script above did to MyDb, oldest first, as `log` prints it. */
function expectedMyDb(deletion: string): string[] {
  const who = `${today} tester MyDb`;
  return [
    `${who} created`,
    `${who} version ${v(1)} added`,
    `${who} AWSCURRENT (none) -> ${v(1)}`,
    `${who} version ${v(2)} added`,
    `${who} AWSCURRENT ${v(1)} -> ${v(2)}`,
    `${who} AWSPREVIOUS (none) -> ${v(1)}`,
    `${who} version ${v(3)} added`,
    `${who} AWSCURRENT ${v(2)} -> ${v(3)}`,
    `${who} AWSPREVIOUS ${v(1)} -> ${v(2)}`,
    `${who} AWSCURRENT ${v(3)} -> ${v(2)}`,
    `${who} AWSPREVIOUS ${v(2)} -> ${v(3)}`,
    `${who} BLUE (none) -> ${v(1)}`,
    `${who} BLUE ${v(1)} -> (removed)`,
    `${who} deleted (purge on ${deletion})`,
    `${who} restored`,
  ];
}

const deletionDay = () => {
  const events = t.cli(['log', '--secret-id', 'MyDb', '--output', 'json']).json<{ Events: { Event: string; DeletionDate?: string }[] }>().Events;
  return events.find((e) => e.Event === 'Deleted')!.DeletionDate!.slice(0, 10);
};

describe('secretstore log', () => {
  it('matches the history of a scripted series of operations (create, puts, update-secret-version-stage, delete, restore), with --reverse oldest first', () => {
    const r = t.cli(['log', '--secret-id', 'MyDb', '--reverse']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual(expectedMyDb(deletionDay()));
  });

  it('is newest first by default, as git log, and covers every secret without --secret-id', () => {
    const lines = t.cli(['log']).stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${today} tester MyDb restored`);
    expect(lines.filter((l) => l.includes(' other '))).toEqual([
      `${today} tester other created`,
      `${today} tester other version ${v(9)} added`,
      `${today} tester other AWSCURRENT (none) -> ${v(9)}`,
    ]);
    expect(lines.filter((l) => l.includes(' MyDb '))).toHaveLength(expectedMyDb('').length);
  });

  it('--secret-id takes an ARN as well as a name', () => {
    const byName = t.cli(['log', '--secret-id', 'MyDb']).stdout;
    expect(t.cli(['log', '--secret-id', arn]).stdout).toBe(byName);
    expect(t.cli(['log', '--secret-id', arn.slice(0, -7)]).stdout).toBe(byName); // a partial ARN
  });

  it('prints VersionIds whole by default and cut to 8 characters with --abbrev', () => {
    const line = (args: string[]) => t.cli(['log', '--secret-id', 'MyDb', '--reverse', ...args]).stdout.split('\n')[4];
    expect(line([])).toBe(`${today} tester MyDb AWSCURRENT ${v(1)} -> ${v(2)}`);
    expect(line(['--abbrev'])).toBe(`${today} tester MyDb AWSCURRENT 11111111 -> 22222222`);
    expect(t.cli(['log', '--abbrev', 'HEAD~1..HEAD']).stdout).toBe(`${today} tester MyDb restored\n`); // a range after it stays the range
  });

  it('--output json gives structured events (the line format comes from them)', () => {
    const r = t.cli(['log', '--secret-id', 'MyDb', '--reverse', '--output', 'json']);
    const { Events } = r.json<{ Events: Record<string, string>[] }>();
    expect(Events).toHaveLength(15);
    expect(Events[4]).toEqual({
      Date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
      Commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      Author: 'tester',
      Secret: 'MyDb',
      Arn: arn,
      Event: 'LabelMoved',
      Label: 'AWSCURRENT',
      From: v(1),
      To: v(2),
    });
    expect(Events.map((e) => e.Event)).toEqual(expect.arrayContaining(['Created', 'VersionAdded', 'LabelMoved', 'Deleted', 'Restored']));
    const query = t.cli(['log', '--secret-id', 'MyDb', '--query', 'Events[0].Event', '--output', 'text']);
    expect(query.stdout).toBe('Restored\n'); // newest first
  });

  it('takes a git range: only the commits in it', () => {
    const lines = t.cli(['log', 'HEAD~2..HEAD']).stdout.trimEnd().split('\n');
    expect(lines).toEqual([`${today} tester MyDb restored`, `${today} tester MyDb deleted (purge on ${deletionDay()})`]);
  });

  it('reads no value: it works without an identity file', () => {
    const r = t.cli(['log', '--secret-id', 'MyDb'], { env: { SECRETSTORE_IDENTITY: '/nonexistent/identity' } });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(16);
  });

  it('a bad revision is an InvalidParameterException on one line, and the store is unchanged', () => {
    const before = t.snapshot();
    for (const range of ['no-such-branch..HEAD', '--all']) {
      const r = t.cli(['log', '--', range]);
      expect(r.status, range).toBe(254);
      expect(r.stderr.trim().split('\n'), range).toHaveLength(1);
      expect(r.stderr, range).toContain('InvalidParameterException');
    }
    expect(t.snapshot()).toBe(before);
  });

  it('the author of a change is the writer whose signature authenticates its commit, not the commit author (a copied signature names nobody); a damaged index is skipped and said', () => {
    const s = makeStore();
    try {
      expect(s.cli(['create-secret', '--name', 'app', '--secret-string', '-', '--client-request-token', v(5)], { input: 'x' }).status).toBe(0);
      const file = `${s.dir}/secrets/app/secret.yaml`;
      // bob, a trusted writer who cannot decrypt, moves a label: his signed commit names him
      const bob = join(s.base, 'bob.identity');
      const bobWriter = s.cli(['keygen', '--write-only', '-o', bob]).stdout.trim();
      expect(s.cli(['writers', 'add', '--name', 'bob', '--writer-key', bobWriter]).status).toBe(0);
      const moved = s.cli(['--identity', bob, 'update-secret-version-stage', '--secret-id', 'app', '--version-stage', 'GREEN', '--move-to-version-id', v(5)]);
      expect(moved.status, moved.stderr).toBe(0);
      expect(s.cli(['log']).stdout.split('\n')[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d bob app GREEN \\(none\\) -> ${v(5)}$`));

      // A commit carrying a copy of bob's signature line (a forgery: it does not match this commit) names nobody: the commit author shows.
      const copied = /^Secretstore-Signature: .*$/m.exec(s.git(['cat-file', 'commit', 'HEAD']))![0];
      writeFileSync(file, s.git(['show', 'HEAD:secrets/app/secret.yaml']).replace(/^labels:\n/m, `labels:\n  BLUE: ${v(5)}\n`));
      s.git(['commit', '-q', '--no-verify', '-am', `a label moved by hand under a copied signature\n\n${copied}`]);
      expect(s.git(['log', '-1', '--format=%B'])).toContain(copied);
      expect(s.cli(['log']).stdout.split('\n')[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d Test User app BLUE \\(none\\) -> ${v(5)}$`));

      // A damaged index in history (a hand edit) is skipped with a note on stderr; the rest still prints.
      writeFileSync(file, 'name: [unclosed\n');
      s.git(['commit', '-q', '--no-verify', '-am', 'broken by hand']);
      const r = s.cli(['log']);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^secretstore: log: skipped a damaged index: [0-9a-f]{12} secrets\/app\/secret\.yaml: .*damaged/);
      expect(r.stdout).toContain(' bob app GREEN ');
    } finally {
      s.cleanup();
    }
  });
});

describe('log events (pure)', () => {
  const base: SecretIndex = {
    name: 'MyDb',
    arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:MyDb-AbCdEf',
    createdDate: '2026-11-01T00:00:00.000Z',
    lastChangedDate: '2026-11-01T00:00:00.000Z',
    labels: { AWSCURRENT: 'v2', AWSPREVIOUS: 'v1' },
    versions: { v1: '2026-11-01T00:00:00.000Z', v2: '2026-11-02T00:00:00.000Z', v3: '2026-11-03T00:00:00.000Z' },
  };
  const meta = { commit: 'c'.repeat(40), date: '2026-11-29T10:00:00.000Z', author: 'alice' };

  it('versions pruned from an index are VersionRemoved events', () => {
    const pruned = { ...base, versions: { v2: base.versions.v2!, v1: base.versions.v1! } };
    const events = indexEvents(meta, base, pruned);
    expect(events.map((e) => formatEvent(e))).toEqual(['2026-11-29 alice MyDb version v3 removed']);
  });

  it('an index removed is a purge; the same name with a new ARN is a purge and a new secret', () => {
    expect(indexEvents(meta, base, undefined).map((e) => e.Event)).toEqual(['Purged']);
    const again = { ...base, arn: base.arn.replace('AbCdEf', 'ZzZzZz') };
    expect(indexEvents(meta, base, again).map((e) => e.Event)).toEqual(['Purged', 'Created', 'VersionAdded', 'VersionAdded', 'VersionAdded', 'LabelMoved', 'LabelMoved']);
  });

  it('an index from before signed commits, with a trailing signature block, reads the same (the block is legacy and ignored)', () => {
    const sig = Buffer.alloc(64, 1).toString('base64');
    const text = `${serializeSecretIndex(base)}signature:\n  writer: bob\n  key: secretstoresig1xyz\n  date: 2026-11-29T00:00:00.000Z\n  previous: null\n  sig: ${sig}\n`;
    expect(parseSecretIndex(text, 'secret.yaml')).toEqual(parseSecretIndex(serializeSecretIndex(base), 'secret.yaml'));
    // and its events are those of the index: a block names nobody (only a signed commit does)
    expect(indexEvents(meta, base, parseSecretIndex(text, 'secret.yaml'))).toEqual([]);
  });
});
