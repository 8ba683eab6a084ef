/**
 * Doc tests for the README and docs/*.md outside the guide (docs/guide.md): Quickstart, the first secret, the
 * daily tasks, the reference, trust and offline pages. Every command block of README.md and docs/*.md carries
 * a doctest marker (the coverage test below fails naming <file>:<line> for one that does not) and runs here
 * or in test/readme-guide.test.ts through the one harness, test/helpers/doctest.ts. A section without a
 * dedicated test below still runs (the last describe).
 */
import { homedir } from 'node:os';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AWS_CLI, BLOCKS, DOC_FILES, GUIDE_SECTIONS, SECTIONS, SKIPPED, coverageProblems, parseBlocks, runSection, versionWith } from './helpers/doctest.js';

/** The sections checked by a dedicated test in this file. */
const DEDICATED = ['quickstart', 'install', 'using', 'everyday', 'rollback', 'recipes', 'policies', 'rotation', 'serve', 'library', 'exec', 'edit', 'completion', 'history', 'recipients', 'passphrase', 'sync', 'verify'];

const FIRST = '{"username":"david","password":"EXAMPLE-PASSWORD"}';
const NEW = '{"username":"david","password":"EXAMPLE-NEW-PASSWORD"}';

describe('docs coverage: every command block of README.md and docs/*.md runs in CI (issues 7, 14.1)', () => {
  it('every sh/ts block of README.md and of every docs/*.md has a doctest marker, every other fence says what it is', () => {
    expect(DOC_FILES[0]).toBe('README.md');
    expect(DOC_FILES).toEqual(expect.arrayContaining(['docs/guide.md', 'docs/reference.md', 'docs/trust.md', 'docs/offline.md']));
    expect(coverageProblems()).toEqual([]);
    expect(BLOCKS.filter((b) => b.lang === 'sh').length).toBeGreaterThan(20);
    // each doc file with commands is tested: a block in docs/ counts as much as one in the README
    for (const file of ['README.md', 'docs/guide.md', 'docs/reference.md', 'docs/trust.md', 'docs/offline.md', 'docs/agent.md']) {
      expect(BLOCKS.some((b) => b.file === file && b.marker !== undefined && !b.marker.startsWith('skip')), file).toBe(true);
    }
  });

  it('skips only the blocks of npm ci and npm test, the commands .ci/run runs', () => {
    expect(SKIPPED.map((s) => [s.block.file, s.reason, s.block.code.split('\n').map((l) => l.split(/\s+#/)[0]!.trim())])).toEqual([
      ['README.md', '.ci/run runs these', ['npm ci']],
      ['README.md', '.ci/run runs these', ['npm ci', 'npm test']],
    ]);
  });

  it('issue 14.1: a block in docs/ without a marker fails naming docs/<file>:<line>', () => {
    const problems = coverageProblems(parseBlocks(['# x', '', '```sh', 'secretstore list-secrets', '```', '```', 'a tree', '```'].join('\n'), 'docs/x.md'), '');
    expect(problems).toEqual([
      expect.stringMatching(/^docs\/x\.md:3: a ```sh block without a <!-- doctest: NAME --> marker/),
      expect.stringMatching(/^docs\/x\.md:6: a fence without a language/),
    ]);
  });

  it('issue 14.5: the docs stand alone: no link to DESIGN.md or ../shared', () => {
    for (const file of [...DOC_FILES, 'CHANGELOG.md']) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/DESIGN\.md|\.\.\/shared/);
    }
  });

  it('issue 14.1: the README is what a newcomer reads in ten minutes, and every relative link resolves', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme.length).toBeLessThan(16_000);
    for (const tool of ['sops', 'pass', 'git-crypt', 'sealed-secrets', 'AWS Secrets Manager']) expect(readme).toContain(`**${tool}**`);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    for (const file of DOC_FILES) {
      for (const [, target] of readFileSync(file, 'utf8').matchAll(/\]\(((?:\.\.\/|docs\/)?[\w./-]+\.md)(?:#[\w-]*)?\)/g)) {
        expect(existsSync(join(dirname(resolve(file)), target!)), `${file} links to ${target}`).toBe(true);
      }
    }
  });

  it('fails naming README.md:<line> for a command block without a marker, an unknown skip reason, an untagged fence', () => {
    const markdown = [
      '# x', // 1
      '```sh', // 2
      'secretstore list-secrets',
      '```',
      '<!-- doctest: skip too slow -->', // 5
      '```sh',
      'secretstore prune',
      '```',
      '```', // 9
      'a tree',
      '```',
      '<!-- doctest: skip .ci/run runs these -->', // 12
      '```sh',
      'npm run bench',
      '```',
      '```text', // 16
      'output',
      '```',
    ].join('\n');
    const problems = coverageProblems(parseBlocks(markdown), 'npm ci\nnpm test\n');
    expect(problems).toEqual([
      expect.stringMatching(/^README\.md:2: a ```sh block without a <!-- doctest: NAME --> marker/),
      expect.stringMatching(/^README\.md:6: "skip too slow" is not an allowed reason/),
      expect.stringMatching(/^README\.md:9: a fence without a language/),
      'README.md:13: skipped as run by .ci/run, but .ci/run has no line "npm run bench"',
    ]);
  });

  it('every section named in a test exists in README.md, and no section runs twice as dedicated', () => {
    for (const name of [...GUIDE_SECTIONS, ...DEDICATED]) expect(SECTIONS.has(name), name).toBe(true);
    expect(new Set([...GUIDE_SECTIONS, ...DEDICATED]).size).toBe(GUIDE_SECTIONS.length + DEDICATED.length);
  });
});

describe('docs/offline.md "Review and history": log, review and textconv on a branch', () => {
  it('log shows the branch\'s label moves, review sums them up with no findings, git diff shows sealed headers', async () => {
    const run = await runSection('history');
    const [, log, review, diff] = run.results;
    const current = versionWith(run, 'prod/api-key', 'AWSCURRENT');
    const lines = log!.stdout.split('\n');
    // the author: the signing writer (alice) once indexes are signed, else the commit author
    const [, day, author] = /^(\d{4}-\d\d-\d\d) (.+) prod\/api-key created$/.exec(lines[0]!) ?? [];
    expect(author).toBeDefined();
    const moves = JSON.parse(log!.stdout.slice(log!.stdout.indexOf('\n[') + 1)) as [string, string | null, string][];
    expect(moves.map(([label]) => label)).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    expect(moves[1]![2]).toBe(current);
    expect(lines).toContain(`${day!} ${author!} prod/api-key AWSCURRENT ${current.slice(0, 8)} -> ${moves[0]![2].slice(0, 8)}`);
    expect(review!.stdout).toContain(`prod/api-key AWSCURRENT ${current} -> ${moves[0]![2]}`);
    expect(review!.stdout).toMatch(/\nNo findings\.\n$/);
    expect(readFileSync(join(run.cwd, 'review.md'), 'utf8')).toMatch(/^### secretstore review of `HEAD\.\.propose-api-key`\n/);
    expect(diff!.stdout).toContain(`+version: ${moves[0]![2]}`);
    expect(diff!.stdout).not.toMatch(/payload|nonce/);
  });
});

describe('docs/trust.md "Recipients, writers and re-keying" and "Write-only writers (CI)"', () => {
  it('re-keys for ops (scoped to prod/) and removes bob; the write-only CI identity puts a value it cannot read', async () => {
    const run = await runSection('recipients');
    const config = readFileSync(join(run.cwd, '.secretstore.yaml'), 'utf8');
    expect(config).toMatch(/- name: ops\n {4}publicKey: secretstore1\S+\n {4}scope:\n {6}- prod\/\n {6}- staging\/\n/);
    expect(config).not.toContain('name: bob');
    const value = run.sh('secretstore get-secret-value --secret-id prod/api-key --query SecretString --output text');
    expect(value).toMatch(/^\S{32}\n$/); // the CI job's fresh password, not the example value
    expect(run.sh('secretstore --identity ../ops.identity get-secret-value --secret-id prod/api-key --query SecretString --output text')).toBe(value);
    expect(() => run.sh('secretstore --identity ../bob.identity get-secret-value --secret-id prod/api-key')).toThrow(/DecryptionFailure/);
    expect(() => run.sh('secretstore --identity ci.identity get-secret-value --secret-id prod/api-key')).toThrow(/no decryption key/);
  });
});

describe('docs/trust.md "Passphrase-protected identities"', () => {
  it('a protected identity through the variable, then askpass, then protect/change/unprotect keeps the keys', async () => {
    const run = await runSection('passphrase');
    const [variable, askpass] = run.results;
    const lines = variable!.stdout.trim().split('\n');
    // keygen prints the two public keys; grep finds the same two in the protected file's comments
    expect(lines.slice(2)).toEqual([`# public key: ${lines[0]!}`, `# writer key: ${lines[1]!}`]);
    const identity = readFileSync(join(run.cwd, '..', 'ci-job.identity'), 'utf8');
    expect(identity).not.toMatch(/SECRETSTORE-(SECRET|SIGNING)-KEY-1/i);
    expect(askpass!.stdout).toMatch(/^example-value\nsecretstore1\S+\tsecretstoresig1\S+\n$/);
    expect(readFileSync(join(run.cwd, '..', 'dana.identity'), 'utf8').match(/^SECRETSTORE-(SECRET|SIGNING)-KEY-1/gm)).toHaveLength(2);
  });
});

describe('docs/offline.md "Sync and merging"', () => {
  it('sync --prefer newest keeps the teammate\'s later value as AWSCURRENT, yours as AWSPREVIOUS; git pull with the driver agrees', async () => {
    const run = await runSection('sync');
    const [, synced] = run.results;
    expect(synced!.stdout).toContain('"Status": "Merged"');
    expect(synced!.stdout).toContain('decision: prod/api-key label AWSCURRENT: kept theirs');
    const desktop = join(run.cwd, '..', 'desktop');
    const current = versionWith(run, 'prod/api-key', 'AWSCURRENT', desktop);
    const previous = versionWith(run, 'prod/api-key', 'AWSPREVIOUS', desktop);
    // the teammate's clone, after its plain git pull: the same labels, plus its own beta
    expect(versionWith(run, 'prod/api-key', 'AWSCURRENT')).toBe(current);
    expect(versionWith(run, 'prod/api-key', 'AWSPREVIOUS')).toBe(previous);
    expect(versionWith(run, 'prod/api-key', 'beta')).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.sh('git status --porcelain')).toBe('');
  });
});

describe('docs/trust.md "In practice: trust, verify, sign"', () => {
  it('a clean store verifies (whole history and --range), trust shows the root, sign commits a hand edit in one signed change, the pre-push hook runs verify', async () => {
    const run = await runSection('verify');
    expect(run.results[0]!.stdout).toMatch(/^verify: \d+ commit\(s\), 1 secret\(s\), \d+ sealed file\(s\) \(\d+ opened, 0 header checked\): no findings\nverify: 1 commit\(s\) checked: no findings\n/);
    expect(run.results[0]!.stdout).not.toContain('FINDING');
    expect(run.sh('git log -1 --format=%s')).toBe('prod/api-key: description written by hand\n');
    expect(run.sh('secretstore describe-secret --secret-id prod/api-key --query Description --output text')).toBe('the payment provider key\n');
    expect(run.sh('.git/hooks/pre-push')).toContain('no findings');
    expect(run.sh('git status --porcelain')).toBe('');
  });
});

/** A copy of the package as a fresh clone has it (no dist/), sharing node_modules: `npm install -g .` builds there. */
function clone(base: string): string {
  const dir = join(base, 'clone');
  mkdirSync(dir);
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'CHANGELOG.md', '.secretstore.example', 'scripts', 'src']) {
    cpSync(resolve(file), join(dir, file), { recursive: true });
  }
  symlinkSync(realpathSync('node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('README Quickstart (doc tests)', () => {
  it('npm start runs the demo: keygen, init, create, put, get, and the git log', async () => {
    const run = await runSection('quickstart', { cwd: () => resolve('.') });
    const out = run.results[0]!.stdout;
    for (const step of ['keygen', 'init --name demo', 'create-secret', 'put-secret-value', 'get-secret-value', 'list-secret-version-ids', 'describe-secret']) {
      expect(out).toContain(`$ secretstore ${step}`);
    }
    expect(out).toContain(`"SecretString": ${JSON.stringify(FIRST)}`); // the AWSPREVIOUS read
    expect(out).toContain('An error occurred (ResourceExistsException)'); // same token, other value
    expect(out).toMatch(/^ {4}put-secret-value MyTestDatabaseSecret: new version EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE/m);
  });

  it('issue 14.14: the global install is a standalone, quiet copy of the packed tarball (not a link to the clone), under a publishable name', async () => {
    const run = await runSection('install', {
      cwd: clone,
      blockTimeoutMs: 600_000,
      // npm_config_prefix is where `npm install -g` puts things: a temp folder, so the test installs nothing globally.
      // The dependencies come from npm's cache, which `npm ci` filled.
      env: (base) => ({
        npm_config_prefix: join(base, 'prefix'),
        // The section's HOME is a temp folder: point npm at the real cache, which `npm ci` filled, and keep
        // the machine's CA bundle for anything it must still fetch (without it, fetches retry for minutes).
        npm_config_cache: join(process.env.HOME ?? homedir(), '.npm'),
        ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
        npm_config_prefer_offline: 'true',
        PATH: [join(base, 'prefix', 'bin'), join(base, 'bin'), dirname(process.execPath), process.env.PATH].join(delimiter),
      }),
    });
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string; bin: Record<string, string>; scripts: Record<string, string> };
    // `secretstore` on the npm registry is an unrelated package: ours is scoped, and keeps the command name.
    expect(pkg.name).toBe('@secretstore/cli');
    expect(Object.keys(pkg.bin)).toEqual(['secretstore']);
    // No install-time script: nothing for npm to warn about when installing the tarball.
    expect(Object.keys(pkg.scripts).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s))).toEqual([]);
    expect(run.results[0]!.stderr).not.toMatch(/warn/i);
    expect(run.results[0]!.stdout.startsWith(`secretstore ${pkg.version}\n`)).toBe(true); // quiet: the version is the first line
    expect(run.results[0]!.stdout + run.results[0]!.stderr).not.toMatch(/install-scripts/);
    const installed = join(run.base, 'prefix', 'lib', 'node_modules', '@secretstore', 'cli');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(run.sh('command -v secretstore').trim()).toBe(join(run.base, 'prefix', 'bin', 'secretstore'));
    // Standalone: it runs with the clone gone.
    rmSync(join(run.base, 'clone'), { recursive: true, force: true });
    expect(run.sh('secretstore --version', run.base)).toBe(`secretstore ${pkg.version}\n`);
    expect(run.sh('secretstore keygen', run.base).split('\n')[0]).toMatch(/^secretstore1[a-z0-9]+$/);
  }, 600_000); // npm pack builds the package (esbuild, then tsc): minutes on a loaded machine
});

describe('README "A first secret", "Daily tasks" and docs/reference.md (doc tests)', () => {
  it('the walk-through: create, put with a token from file://, read AWSPREVIOUS, list, describe, one commit each', async () => {
    const run = await runSection('using');
    expect(run.cwd).toBe(join(run.work, 'my-secrets'));
    const { stdout, stderr } = run.results[0]!;
    expect(stdout).toMatch(/^secretstore1[a-z0-9]+\nsecretstoresig1[a-z0-9]+\n/);
    expect(stdout).toContain(`"SecretString": ${JSON.stringify(FIRST)}`); // AWSPREVIOUS: the first value
    expect(stdout).toContain('"VersionId": "EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE"');
    expect(stderr).toContain('warning'); // the value typed on the command line
    expect(run.sh('secretstore get-secret-value --secret-id MyTestDatabaseSecret --query SecretString --output text')).toBe(`${NEW}\n`);
    expect(run.sh('git log --format=%s').trim().split('\n')).toEqual([
      expect.stringMatching(/^put-secret-value MyTestDatabaseSecret: new version EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE/),
      expect.stringMatching(/^create-secret MyTestDatabaseSecret: created with version /),
      expect.stringMatching(/^init: secretstore /),
    ]);
    expect(run.sh('git log -p')).not.toContain('EXAMPLE-');
  });

  it('Rotation: rotate-secret with the guide\'s committed command moves AWSCURRENT to the new version; rotate-due finds nothing due', async () => {
    const run = await runSection('rotation');
    const [block] = run.results;
    const rotated = JSON.parse(block!.stdout.slice(0, block!.stdout.indexOf('\n}') + 2)) as { Name: string; VersionId: string };
    expect(rotated.Name).toBe('prod/api-key');
    expect(versionWith(run, 'prod/api-key', 'AWSCURRENT')).toBe(rotated.VersionId);
    expect(JSON.parse(block!.stdout.slice(block!.stdout.indexOf('\n}') + 2))).toEqual({ Rotated: [], Failed: [] }); // rotate-due: nothing due
    expect(run.sh('git log --format=%s -1')).toMatch(/^rotate-secret prod\/api-key/);
    expect(run.sh('git status --porcelain')).toBe('');
  });

  describe.skipIf(!existsSync(AWS_CLI) && process.env.CI !== 'true')('As a local Secrets Manager endpoint', () => {
    it('the AWS CLI (Debian\'s, as in CI) reads the value through serve with a key from --init-credentials; SIGTERM stops it', async () => {
      const run = await runSection('serve');
      const answer = JSON.parse(run.results[0]!.stdout) as Record<string, unknown>;
      expect(answer).toMatchObject({ Name: 'MyTestDatabaseSecret', SecretString: NEW, VersionId: 'EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE', VersionStages: ['AWSCURRENT'] });
      // issue 14.13: the log is written outside the store's work tree, which stays clean.
      expect(run.sh('git status --porcelain')).toBe('');
      const log = readFileSync(join(run.cwd, '..', 'serve.log'), 'utf8');
      expect(log).toMatch(/serving .* on http:\/\/127\.0\.0\.1:4583/);
      expect(log).toMatch(/GetSecretValue/);
      expect(log).toContain('secretstore: stopped');
      expect(log).not.toContain('EXAMPLE-');
      expect(run.results[0]!.stderr).not.toMatch(/[A-Za-z0-9]{40}/); // the secret key went into variables only
    });
  });

  it('docs/recipes.md (issue 14.3): roll back, move to a new machine with a pinned root, a lost identity re-admitted, off-boarding', async () => {
    const run = await runSection('recipes');
    const [rollback, move, lost, offboard] = run.results.map((r) => r.stdout);
    expect(rollback).toMatch(/^[0-9a-f-]{36}\nrollback prod\/api-key: AWSCURRENT back to version /);
    expect(move).toBe('alice\nprod/api-key\n'); // the pinned root's signer, then a read in the new clone
    expect(lost).toBe('prod/api-key\n'); // Bob's new identity reads what the others could re-wrap for him
    expect(offboard.split('\n')[0]).toContain('prod/api-key'); // what Bob could read
    expect(offboard.split('\n')[1]).not.toContain('bob');
  });

  it('Rolling back (issue 14.3): the first rollback brings the first value back, the second undoes it', async () => {
    const run = await runSection('rollback');
    const [back, forward] = run.results[0]!.stdout.split(/\n(?=\{)/).map((o) => JSON.parse(o) as { VersionId: string; PreviousVersionId: string });
    expect(back!.PreviousVersionId).toBe('EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE');
    expect(forward).toEqual({ ...back, VersionId: back!.PreviousVersionId, PreviousVersionId: back!.VersionId });
    expect(run.sh('git log -2 --format=%s')).toMatch(/^rollback MyTestDatabaseSecret: AWSCURRENT back to version EXAMPLE2-/);
  });

  it('Policies and replication (issues 13.8, 13.9): recorded, reported as Failed, shown in review', async () => {
    const run = await runSection('policies');
    const { stdout, stderr } = run.results[0]!;
    expect(stderr).toBe('');
    expect(stdout).toContain('"PolicyValidationPassed": true');
    expect(stdout).toContain('"Action": "secretsmanager:GetSecretValue"');
    expect(stdout).toContain('eu-west-3\tFailed\n');
    expect(stdout).toContain('Resource policies (recorded, not enforced offline) (1):\n  MyTestDatabaseSecret: set\n');
    expect(stdout).toContain('Replica Regions (recorded, no replica is made offline) (1):\n  MyTestDatabaseSecret: +eu-west-3\n');
  });

  it('issue 14.7: the everyday verbs: set creates, get prints the value, get --field one field, ls the names, import one commit', async () => {
    const run = await runSection('everyday');
    const { stdout, stderr } = run.results[0]!;
    expect(stdout).toContain('EXAMPLE-TOKEN\nEXAMPLE-NEW-PASSWORD\napp/token\n');
    expect(stderr).toContain('created secret app/token');
    expect(stdout).toMatch(/"Created": \[\n\s+"app\/SMTP_PASSWORD",\n\s+"app\/API_KEY"\n\s+\]/); // the dry run
    expect(stdout).toContain('False\nCREATED\tapp/SMTP_PASSWORD\nCREATED\tapp/API_KEY\n');
    expect(run.sh('git log --format=%s -1')).toBe('import: 2 created, 0 updated, 0 unchanged\n');
    expect(run.sh('secretstore get app/API_KEY')).toBe('EXAMPLE-KEY\n');
    expect(run.sh('git status --porcelain')).toBe('');
    expect(run.results[1]!.stdout).toBe('connecting as david\n'); // exec: one variable per JSON key
  });

  it('As a library: the ts example type-checks against the built declarations and puts, then reads, a value', async () => {
    const run = await runSection('library');
    expect(run.results[0]!.stdout).toBe("[ 'AWSCURRENT' ] david\n");
    const value = JSON.parse(run.sh('secretstore get-secret-value --secret-id MyTestDatabaseSecret --query SecretString --output text')) as Record<string, string>;
    expect(value.username).toBe('david');
    expect(value.password).toHaveLength(32);
    expect(run.sh('git log --format=%s -1')).toMatch(/^put-secret-value MyTestDatabaseSecret: new version /);
  });

  it('Running programs with secrets: exec spreads the JSON keys and names the plain secret, with the prefix; env --format shell', async () => {
    const run = await runSection('exec');
    const [, block] = run.results;
    expect(block!.stdout).toBe(
      [
        'app at db.example.internal, with a key of 32 characters',
        "export HOST='db.example.internal'",
        "export USERNAME='app'",
        "export PASSWORD='EXAMPLE-DB-PASSWORD'",
        '',
      ].join('\n'),
    );
  });

  it('Editing a value: $EDITOR (a stand-in here) and a scripted sed edit each make one version', async () => {
    const run = await runSection('edit', {
      env: (base) => {
        // Stands in for a person in an editor: changes the username in the file it is given.
        writeFileSync(join(base, 'editor'), `#!/bin/sh\nsed -i 's/"username":"app"/"username":"app-readonly"/' "$1"\n`);
        chmodSync(join(base, 'editor'), 0o755);
        return { EDITOR: join(base, 'editor') };
      },
    });
    const puts = run.results[0]!.stdout.trim().split(/\n(?=\{)/).map((j) => JSON.parse(j) as { VersionId: string });
    expect(puts).toHaveLength(2);
    expect(versionWith(run, 'prod/db', 'AWSCURRENT')).toBe(puts[1]!.VersionId);
    expect(versionWith(run, 'prod/db', 'AWSPREVIOUS')).toBe(puts[0]!.VersionId);
    expect(JSON.parse(run.sh('secretstore get-secret-value --secret-id prod/db --query SecretString --output text'))).toEqual({
      host: 'db2.example.internal',
      username: 'app-readonly',
      password: 'EXAMPLE-DB-PASSWORD',
    });
    expect(run.sh('git log --format=%s -2').trim().split('\n')).toEqual([
      expect.stringMatching(/^put-secret-value prod\/db: new version /),
      expect.stringMatching(/^put-secret-value prod\/db: new version /),
    ]);
  });

  it('Help, completion: the bash completion script loads without a word on stderr and registers secretstore', async () => {
    const run = await runSection('completion');
    expect(run.results[0]!.stderr).toBe('');
    expect(run.sh('source <(secretstore completion bash) && complete -p secretstore')).toMatch(/-F _secretstore\b.* secretstore\n$/);
  });
});

describe('doc sections without a dedicated test (doc tests: each block exits 0)', () => {
  const rest = [...SECTIONS.keys()].filter((name) => !GUIDE_SECTIONS.includes(name) && !DEDICATED.includes(name));
  it('lists them', () => {
    expect(rest.every((name) => SECTIONS.has(name))).toBe(true);
  });
  for (const name of rest) {
    it(`${name} (${SECTIONS.get(name)!.blocks[0]!.file}:${SECTIONS.get(name)!.blocks[0]!.line})`, async () => {
      await runSection(name);
    });
  }
});
