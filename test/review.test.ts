/**
 * `secretstore review BASE..HEAD` on a fixed fixture repository (fixtures/review/store.bundle) must print
 * exactly the golden files next to it, as text, Markdown and JSON; plus the rules of its findings on
 * small synthetic cases.
 * Regenerate (only when the scenario or the output format changes on purpose, then read the diff of the
 * golden files): REGENERATE_FIXTURES=1 npx vitest run test/review.test.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, runCli, testEnv, type CliResult, type TestStore } from './helpers/store.js';
import { parseConfig, serializeConfig, serializeSecretIndex } from '../src/core/codec.js';
import { madeBySecretstore, review, type ReviewInput } from '../src/core/review.js';
import { renderReview } from '../src/core/review-render.js';
import { readEnvelopeHeader } from '../src/crypto/envelope.js';
import type { SecretIndex } from '../src/model/store.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'fixtures', 'review');
const BUNDLE = join(FIXTURE, 'store.bundle');
const RANGE = 'review-base..review-head';
const GOLDEN = { text: 'review.txt', markdown: 'review.md', json: 'review.json' } as const;
const LOG_GOLDEN = 'log.txt';

const token = (n: number) => `0000000${n}-feed-4bad-8cab-00000000000${n}`;

/**
 * The scenario, run once through the real CLI with fixed tokens, identities and commit dates:
 * main gets four secrets (one scheduled for deletion), then a branch does what a pull request does,
 * by secretstore and by hand.
 */
function buildFixtureRepo(base: string): string {
  const env = { ...testEnv(base), GIT_AUTHOR_NAME: 'alice', GIT_AUTHOR_EMAIL: 'alice@example.invalid', GIT_COMMITTER_NAME: 'alice', GIT_COMMITTER_EMAIL: 'alice@example.invalid' };
  const dir = join(base, 'repo');
  execFileSync('git', ['init', '-q', dir], { env });
  let step = 0;
  const at = () => {
    step += 1;
    const date = `2026-11-${String(step).padStart(2, '0')}T10:00:00Z`;
    return { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  };
  const cli = (args: string[], input?: string): CliResult => {
    const r = runCli(args, { ...env, ...at() }, dir, input);
    if (r.status !== 0) throw new Error(`secretstore ${args.join(' ')} failed: ${r.stderr}`);
    return r;
  };
  const git = (args: string[], who = 'alice') =>
    execFileSync('git', args, { cwd: dir, env: { ...env, ...at(), GIT_AUTHOR_NAME: who, GIT_COMMITTER_NAME: who }, encoding: 'utf8' });
  const put = (cmd: string, flag: string, name: string, n: number) => cli([cmd, flag, name, '--secret-string', '-', '--client-request-token', token(n)], `value ${n}`);

  cli(['keygen']);
  const bob = runCli(['keygen', '-o', join(base, 'bob')], env, dir).stdout.split('\n')[0]!;
  cli(['init', '--name', 'alice']);
  put('create-secret', '--name', 'prod/db', 1);
  put('create-secret', '--name', 'prod/api-key', 2);
  put('create-secret', '--name', 'legacy/token', 3);
  put('create-secret', '--name', 'old/report', 4);
  cli(['delete-secret', '--secret-id', 'old/report', '--recovery-window-in-days', '7']);
  git(['tag', 'review-base']);

  git(['switch', '-q', '-c', 'feature']);
  put('put-secret-value', '--secret-id', 'prod/db', 5);
  put('put-secret-value', '--secret-id', 'prod/db', 6);
  cli(['update-secret-version-stage', '--secret-id', 'prod/api-key', '--version-stage', 'STAGING', '--move-to-version-id', token(2)]);
  put('create-secret', '--name', 'staging/new', 7);
  cli(['delete-secret', '--secret-id', 'legacy/token', '--recovery-window-in-days', '7']);
  cli(['restore-secret', '--secret-id', 'old/report']);
  git(['tag', 'review-clean']);

  // By hand (--no-verify, as someone bypassing the hook would): access and policy...
  const configFile = join(dir, '.secretstore.yaml');
  const config = parseConfig(readFileSync(configFile, 'utf8'), '.secretstore.yaml');
  writeFileSync(
    configFile,
    serializeConfig({
      ...config,
      recipients: [...config.recipients, { name: 'bob', publicKey: bob }],
      writers: config.writers.map((w) => ({ ...w, scope: ['prod/'] })),
      policy: { ...config.policy, pruneAbove: 50 },
    }),
  );
  git(['commit', '-q', '--no-verify', '-am', 'give bob access'], 'mallory');
  // ...then a stray file, an identity, a sealed file copied to another secret, and a labelled version deleted.
  writeFileSync(join(dir, 'secrets/prod/db/notes.txt'), 'rotate me on fridays\n');
  copyFileSync(join(base, 'bob'), join(dir, 'bob-identity'));
  copyFileSync(join(dir, `secrets/prod/db/versions/${token(6)}.sealed`), join(dir, `secrets/staging/new/versions/${token(8)}.sealed`));
  git(['rm', '-q', `secrets/prod/api-key/versions/${token(2)}.sealed`]);
  git(['add', '-A']);
  git(['commit', '-q', '--no-verify', '-m', 'tidy up'], 'mallory');
  git(['tag', 'review-head']);
  return dir;
}

function cloneFixture(base: string): { dir: string; env: NodeJS.ProcessEnv } {
  const env = testEnv(base);
  const dir = join(base, 'clone');
  execFileSync('git', ['clone', '-q', BUNDLE, dir], { env });
  return { dir, env };
}

const outputs = (dir: string, env: NodeJS.ProcessEnv) => ({
  text: runCli(['review', RANGE], env, dir),
  markdown: runCli(['review', RANGE, '--format', 'markdown'], env, dir),
  json: runCli(['review', RANGE, '--format', 'json'], env, dir),
  log: runCli(['log', '--reverse', RANGE], env, dir),
});

describe.skipIf(!process.env.REGENERATE_FIXTURES)('regenerate fixtures/review (REGENERATE_FIXTURES=1)', () => {
  it('builds the fixture repository through the CLI, bundles it, and writes the golden files', () => {
    const base = mkdtempSync(join(tmpdir(), 'secretstore-review-fixture-'));
    try {
      const dir = buildFixtureRepo(base);
      mkdirSync(FIXTURE, { recursive: true });
      execFileSync('git', ['bundle', 'create', '-q', BUNDLE, '--all'], { cwd: dir });
      const { dir: clone, env } = cloneFixture(base);
      const out = outputs(clone, env);
      for (const [format, file] of Object.entries(GOLDEN)) writeFileSync(join(FIXTURE, file), out[format as keyof typeof GOLDEN].stdout);
      writeFileSync(join(FIXTURE, LOG_GOLDEN), out.log.stdout);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!!process.env.REGENERATE_FIXTURES)('secretstore review on the fixture range (golden files in fixtures/review)', () => {
  let base: string;
  let clone: { dir: string; env: NodeJS.ProcessEnv };
  let out: ReturnType<typeof outputs>;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'secretstore-review-'));
    clone = cloneFixture(base);
    out = outputs(clone.dir, clone.env);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it.each(Object.entries(GOLDEN))('--format %s prints exactly the golden file', (format, file) => {
    const r = out[format as keyof typeof GOLDEN];
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(join(FIXTURE, file), 'utf8'));
  });

  it('exits non-zero (1) when there are findings, as its help says', () => {
    for (const r of [out.text, out.markdown, out.json]) expect(r.status).toBe(1);
    expect(runCli(['review', '--help'], clone.env, clone.dir).stdout).toContain('1 with findings');
  });

  it('lists every label move of the range with its old and new target, and the net changes', () => {
    const r = out.json.json<{ LabelMoves: unknown[]; Created: unknown[]; Deleted: unknown[]; Restored: unknown[]; VersionsAdded: unknown[] }>();
    expect(r.LabelMoves).toEqual([
      { Secret: 'prod/api-key', Label: 'STAGING', To: token(2) },
      { Secret: 'prod/db', Label: 'AWSCURRENT', From: token(1), To: token(6) },
      { Secret: 'prod/db', Label: 'AWSPREVIOUS', To: token(5) },
    ]);
    expect(r.Created).toEqual([{ Secret: 'staging/new', Versions: 1 }]);
    expect(r.Restored).toEqual([{ Secret: 'old/report' }]);
    expect(r.Deleted).toEqual([expect.objectContaining({ Secret: 'legacy/token' })]);
    expect(r.VersionsAdded).toEqual([{ Secret: 'prod/db', Count: 2, VersionIds: [token(5), token(6)] }]);
  });

  it('flags each finding of the hand commits, by rule', () => {
    const findings = out.json.json<{ Findings: { Rule: string; Path?: string }[] }>().Findings;
    expect(findings.map((f) => [f.Rule, f.Path])).toEqual(
      expect.arrayContaining([
        ['hand-commit', undefined],
        ['stray-file', 'secrets/prod/db/notes.txt'],
        ['identity-file', 'bob-identity'],
        ['sealed-mismatch', `secrets/staging/new/versions/${token(8)}.sealed`],
        ['label-on-missing-version', 'secrets/prod/api-key/secret.yaml'],
      ]),
    );
    expect(findings.filter((f) => f.Rule === 'hand-commit')).toHaveLength(2);
  });

  it('reports recipients, trusted writers and policy changed in the config diff', () => {
    const r = out.json.json<{ Recipients: { Change: string; Name: string }[]; Writers: { Change: string; Scope?: string[] }[]; Policy: unknown[] }>();
    expect(r.Recipients.map((a) => [a.Change, a.Name])).toEqual([['added', 'bob']]);
    expect(r.Writers.map((a) => [a.Change, a.Scope])).toEqual([['scope changed', ['prod/']]]);
    expect(r.Policy).toEqual([{ Field: 'pruneAbove', From: 100, To: 50 }]);
  });

  it('a range made only by secretstore has no findings and exits 0', () => {
    const r = runCli(['review', 'review-base..review-clean'], clone.env, clone.dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\nNo findings\.\n$/);
  });

  it('log of the fixture range matches its golden file', () => {
    expect(out.log.status).toBe(0);
    expect(out.log.stdout).toBe(readFileSync(join(FIXTURE, LOG_GOLDEN), 'utf8'));
  });

  it('a bad range is an InvalidParameterException on one line, exit 254', () => {
    // The last one after `--`, so it reaches review itself: a range that would be a git option is refused.
    for (const range of ['review-base', 'nope..review-head', '-p..HEAD']) {
      const r = runCli(['review', '--', range], clone.env, clone.dir);
      expect(r.status, range).toBe(254);
      expect(r.stderr.trim().split('\n'), range).toHaveLength(1);
      expect(r.stderr, range).toContain('InvalidParameterException');
    }
  });
});

// ---- the rules on synthetic data (pure core) ----

const index = (over: Partial<SecretIndex> = {}): SecretIndex => ({
  name: 'prod/db',
  arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-AbCdEf',
  createdDate: '2026-11-01T00:00:00.000Z',
  lastChangedDate: '2026-11-01T00:00:00.000Z',
  labels: { AWSCURRENT: 'v1' },
  versions: { v1: '2026-11-01T00:00:00.000Z' },
  ...over,
});
const PATH = 'secrets/prod/db/secret.yaml';

function inputWith(commits: ReviewInput['commits']): ReviewInput {
  return {
    range: 'a..b',
    base: 'a',
    head: 'b',
    mergeBase: 'a',
    commits,
    net: [],
    touched: new Map(),
    commands: ['put-secret-value', 'init'],
    readHeader: readEnvelopeHeader,
  };
}
const commit = (n: number, message: string, oldText?: string, newText?: string): ReviewInput['commits'][number] => ({
  commit: `${n}`.repeat(40),
  parents: ['p'],
  author: 'alice',
  message,
  changes: [{ status: 'M', path: PATH, inStore: true, ...(oldText === undefined ? {} : { oldText }), ...(newText === undefined ? {} : { newText }) }],
});

describe('review findings (rules of issue #5 item 3)', () => {
  const v2 = index({ labels: { AWSCURRENT: 'v2', AWSPREVIOUS: 'v1' }, versions: { v1: '2026-11-01T00:00:00.000Z', v2: '2026-11-02T00:00:00.000Z' } });

  // Trust v2: the signature is a commit trailer, so unsigned-change is a finding of the commit, naming it.
  const SIGNED = `\n\nSecretstore-Signature: secretstoresig1${'q'.repeat(58)} ${Buffer.alloc(64, 1).toString('base64')}\n`;

  it('a store commit without a Secretstore-Signature trailer is flagged (unsigned-change), naming the commit; a signed one is not', () => {
    const r = review(
      inputWith([
        commit(1, `put-secret-value prod/db: new version v2${SIGNED}`, serializeSecretIndex(index()), serializeSecretIndex(v2)),
        commit(2, 'put-secret-value prod/db: new version v3', serializeSecretIndex(v2), serializeSecretIndex(index())),
      ]),
    );
    expect(r.Findings.map((f) => [f.Rule, f.Commit])).toEqual([['unsigned-change', '2'.repeat(40)]]);
    expect(r.Findings[0]!.Message).toBe(`${'2'.repeat(12)} changes the store without a writer's signature (readers refuse it; secretstore verify says more)`);
  });

  it('a hand edit committed without a signature is flagged twice (hand-commit, unsigned-change), even when it is the only change of the range', () => {
    const r = review(inputWith([commit(1, 'fix', serializeSecretIndex(index()), serializeSecretIndex(v2))]));
    expect(r.Findings.map((f) => f.Rule)).toEqual(['hand-commit', 'unsigned-change']);
  });

  it('.secretstore.yaml is held to the same rule: a configuration change without a signature is flagged', () => {
    const config = (pruneAbove: number) => `format: 1\nstoreId: s\nregion: us-east-1\naccount: "000000000000"\nrecipients: []\npolicy:\n  pruneAbove: ${pruneAbove}\n`;
    const c = { ...commit(1, 'init: secretstore s'), changes: [{ status: 'M', path: '.secretstore.yaml', inStore: true, oldText: config(100), newText: config(5) }] };
    expect(review(inputWith([c])).Findings.map((f) => [f.Rule, f.Commit])).toEqual([['unsigned-change', '1'.repeat(40)]]);
    const signed = { ...c, message: `init: secretstore s${SIGNED}` };
    expect(review(inputWith([signed])).Findings).toEqual([]);
  });

  it('a commit that touches nothing of the store, and a merge (judged by verify), need no signature', () => {
    const app = { ...commit(1, 'app: readme'), changes: [{ status: 'M', path: 'README.md', inStore: false, oldText: 'a', newText: 'b' }] };
    const merge = { ...commit(2, 'Merge branch feature', serializeSecretIndex(index()), serializeSecretIndex(v2)), parents: ['p', 'q'] };
    expect(review(inputWith([app, merge])).Findings).toEqual([]);
  });

  it('a rotation command set or changed is listed (it runs on the machine of whoever rotates)', () => {
    const rotating = index({ rotation: { enabled: true, lambdaArn: './rotate.sh' } });
    const input = { ...inputWith([]), net: [{ path: PATH, before: serializeSecretIndex(index()), after: serializeSecretIndex(rotating) }] };
    const r = review(input);
    expect(r.RotationCommands).toEqual([{ Secret: 'prod/db', To: './rotate.sh' }]);
    expect(renderReview(r, 'text')).toContain('Rotation commands (1):\n  prod/db: (none) -> ./rotate.sh\n');
  });

  it('hand commits are recognised by their message shape (secretstore writes "<command> <name>: <detail>")', () => {
    const commands = ['put-secret-value', 'init'];
    expect(madeBySecretstore('put-secret-value prod/db: new version v2\n\nAWSCURRENT: v1 -> v2', commands)).toBe(true);
    expect(madeBySecretstore('init: secretstore 1234', commands)).toBe(true);
    expect(madeBySecretstore('fix the db password', commands)).toBe(false);
    expect(madeBySecretstore('put-secret-value: x', ['init'])).toBe(false);
    expect(madeBySecretstore('Merge branch feature', commands)).toBe(false);
  });
});
