/**
 * Doc tests for the task guide (docs/guide.md, "# Guide: everyday tasks"): every ```sh block there runs
 * exactly as written, with `bash -euo pipefail`, so the guide cannot rot. The harness and the marker
 * convention (`<!-- doctest: NAME [after PREREQ] -->`) are in test/helpers/doctest.ts; here each section's
 * results are checked. The README and the other docs are checked in test/readme.test.ts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUIDE_SECTIONS, READING_ORDER, SECTIONS, SOPS_VALUE, docText, runReading, runSection, versionWith } from './helpers/doctest.js';

describe('the README guide (doc tests)', () => {
  it('has the five sections, every block of the guide in one of them, and no value typed on a command line', () => {
    const guide = docText('docs/guide.md');
    expect(guide.startsWith('# Guide: everyday tasks\n')).toBe(true);
    for (const heading of ['Set up a team store', 'Rotate a value', 'Review a pull request', 'Work offline', 'Move from sops or pass']) {
      expect(guide).toContain(`\n## ${heading}\n`);
    }
    const inGuide = [...SECTIONS.values()].filter((s) => s.blocks.some((b) => b.file === 'docs/guide.md'));
    expect(inGuide.map((s) => s.name)).toEqual(GUIDE_SECTIONS);
    // A guide section lies wholly in the guide; every sh block of the guide belongs to one (the coverage
    // test in readme.test.ts also fails on any unmarked command block).
    const guideBlocks = inGuide.flatMap((s) => s.blocks);
    expect(guideBlocks.every((b) => b.file === 'docs/guide.md')).toBe(true);
    expect(guideBlocks.length).toBe(guide.split('\n```sh\n').length - 1);
    for (const { code, line } of guideBlocks) {
      for (const m of code.matchAll(/--secret-(?:string|binary)\s+(\S+)/g)) {
        expect(m[1], `docs/guide.md:${line}: a value on the command line`).toMatch(/^(-|file:\/\/\S+|fileb:\/\/\S+)$/);
      }
    }
    // issue 14.4: read top to bottom in one shell, the guide goes on from the README's first secret: it
    // makes no second default identity and assumes no branch called main.
    expect(SECTIONS.get('setup')!.after).toBe('using');
    expect(guide).not.toMatch(/^secretstore keygen(?! -o \.\.\/)/m);
    expect(guideBlocks.map((b) => b.code).join('\n')).not.toMatch(/\bmain\b/);
  });

  it('Set up a team store: keygen -o, init, Bob added with recipients add (re-keyed in the same commit) and writers add', async () => {
    const run = await runSection('setup');
    expect(run.cwd).toBe(join(run.work, 'team-secrets'));
    const [alice, bob, added, reads] = run.results;
    expect(alice!.stdout).toMatch(/^# public key: secretstore1[a-z0-9]+\n# writer key: secretstoresig1[a-z0-9]+\n/);
    expect(bob!.stdout).toBe('');
    const [bobKey, bobWriter] = readFileSync(join(run.work, 'bob.pub'), 'utf8').split('\n');
    expect(bobKey).toMatch(/^secretstore1[a-z0-9]+$/);
    expect(bobWriter).toMatch(/^secretstoresig1[a-z0-9]+$/);
    expect(added!.stdout).toBe('alice\tbob\n');

    const config = readFileSync(join(run.cwd, '.secretstore.yaml'), 'utf8');
    expect(config).toMatch(/recipients:\n {2}- name: alice\n {4}publicKey: secretstore1\S+\n {2}- name: bob\n/);
    expect(config).toContain(`    publicKey: ${bobKey}\n`);
    expect(config).toContain(`    writerKey: ${bobWriter}\n`);
    expect(run.sh('git log --format=%s').trim().split('\n')).toEqual([
      'writers add bob',
      'recipients add bob: re-wrapped 1 version(s) of 1 secret(s)',
      expect.stringMatching(/^create-secret prod\/api-key: created with version /),
      expect.stringMatching(/^init: secretstore [0-9a-f]{32}$/),
    ]);
    expect(run.sh('git status --porcelain')).toBe('');

    // The version created before Bob joined was re-wrapped for him: he reads it with his own file.
    expect(reads!.stdout).toBe('AWSCURRENT\n');
    const aliceValue = run.sh('secretstore get-secret-value --secret-id prod/api-key --query SecretString --output text');
    const bobValue = run.sh('secretstore --identity ../bob.identity get-secret-value --secret-id prod/api-key --query SecretString --output text');
    expect(bobValue).toBe(aliceValue);
    expect(aliceValue).toMatch(/^\S{32}\n$/); // a 32-character password, stored without a newline
  });

  it('Rotate a value: by hand through a pipe, then rotate-secret with a committed local rotation command', async () => {
    const run = await runSection('rotate');
    const [byHand, rotate] = run.results;
    const put = JSON.parse(byHand!.stdout.slice(0, byHand!.stdout.lastIndexOf('}') + 1)) as { VersionId: string };
    expect(byHand!.stdout.slice(byHand!.stdout.lastIndexOf('}') + 1)).toMatch(
      new RegExp(`^\\nAWSCURRENT\\t${put.VersionId}\\nAWSPREVIOUS\\t[0-9a-f-]{36}\\n$`),
    );

    const rotated = JSON.parse(rotate!.stdout.slice(0, rotate!.stdout.lastIndexOf('}') + 1)) as { Name: string; VersionId: string };
    expect(rotated.Name).toBe('prod/api-key');
    const subjects = rotate!.stdout.slice(rotate!.stdout.lastIndexOf('}') + 1).trim().split('\n');
    expect(subjects.map((s) => s.split(' ')[0])).toEqual(['rotate-secret', 'update-secret-version-stage', 'update-secret-version-stage', 'put-secret-value', 'rotate-secret']);

    expect(versionWith(run, 'prod/api-key', 'AWSCURRENT')).toBe(rotated.VersionId);
    const value = run.sh('secretstore get-secret-value --secret-id prod/api-key --query SecretString --output text');
    const previous = run.sh('secretstore get-secret-value --secret-id prod/api-key --version-stage AWSPREVIOUS --query SecretString --output text');
    expect(previous).toMatch(/^[A-Za-z0-9]{40}\n$/); // the by-hand value: 40 characters, no punctuation
    expect(value).toMatch(/^\S{32}\n$/);
    expect(value).not.toBe(previous);
    const described = JSON.parse(run.sh('secretstore describe-secret --secret-id prod/api-key')) as Record<string, unknown>;
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: './rotate-api-key.sh', RotationRules: { AutomaticallyAfterDays: 30 } });
    // init, create, add bob, put, by-hand put, the script, then the five rotation commits.
    expect(Number(run.sh('git rev-list --count HEAD').trim())).toBe(11);
    // the script's finishSecret removed AWSPENDING
    expect(JSON.parse(run.sh(`secretstore list-secret-version-ids --secret-id prod/api-key --query "Versions[?contains(VersionStages, 'AWSPENDING')]"`))).toEqual([]);
    expect(run.sh('git status --porcelain')).toBe('');
  });

  it('Review a pull request: plain git shows one commit per change, the label move, and no rewritten version', async () => {
    const run = await runSection('review');
    const [, read] = run.results;
    const branchTip = run.sh('git rev-parse rotate-api-key').trim();
    const current = versionWith(run, 'prod/api-key', 'AWSCURRENT'); // on main, before the merge
    run.sh('git switch -q rotate-api-key');
    const proposed = versionWith(run, 'prod/api-key', 'AWSCURRENT');
    run.sh('git switch -q main');
    expect(proposed).not.toBe(current);

    const out = read!.stdout;
    expect(out.match(/^commit [0-9a-f]{40}$/gm)).toEqual([`commit ${branchTip}`]);
    expect(out).toContain(`put-secret-value prod/api-key: new version ${proposed}`);
    expect(out).toContain(`AWSCURRENT: ${current} -> ${proposed}`);
    // --stat: the added version file (git shortens the path to .../<id>.sealed when the count needs the width)
    expect(out).toMatch(new RegExp(`(?:versions|\\.\\.\\.)/${proposed}\\.sealed +\\| +\\d+ \\++$`, 'm'));
    expect(out).toContain(`-  AWSCURRENT: ${current}\n`);
    expect(out).toContain(`+  AWSCURRENT: ${proposed}\n`);
    expect(out).toMatch(/^\+ {2}AWSPREVIOUS: \S+$/m);
    expect(out).toMatch(new RegExp(`^\\+ {2}${proposed}: \\d{4}-\\d\\d-\\d\\dT`, 'm'));
    // The last two commands print nothing: the diff part of the output ends with the secret.yaml hunk.
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^[ +-] {2}\S+: \S+$/);
    expect(run.sh('git diff --name-only main...rotate-api-key').trim().split('\n').sort()).toEqual([
      'secrets/prod/api-key/secret.yaml',
      `secrets/prod/api-key/versions/${proposed}.sealed`,
    ]);
  });

  it('Work offline: commits made in a clone without the remote rebase onto a teammate push and reach every clone', async () => {
    const run = await runSection('offline');
    const [, offline] = run.results;
    expect(offline!.stdout.trim().split('\n')).toHaveLength(2); // two unpushed commits on the laptop
    expect(run.cwd).toBe(join(run.work, 'team-secrets'));
    const laptop = join(run.work, 'laptop');
    const remote = join(run.work, 'team-secrets.git');

    const names = run.results.at(-1)!.stdout.trim().split(/\s+/).sort();
    expect(names).toEqual(['prod/api-key', 'prod/queue-password', 'prod/webhook-secret']);
    const heads = [run.cwd, laptop, remote].map((dir) => run.sh('git rev-parse HEAD', dir).trim());
    expect(new Set(heads).size).toBe(1);
    // setup's four commits, the teammate's one, the laptop's two (rebased): a straight line of seven.
    expect(run.sh('git rev-list --count HEAD').trim()).toBe('7');
    expect(run.sh('git rev-list --merges --count HEAD').trim()).toBe('0');
    for (const dir of [run.cwd, laptop]) {
      expect(run.sh('git status --porcelain', dir)).toBe('');
    }
    const read = (dir: string) => run.sh("secretstore get-secret-value --secret-id prod/api-key --query '[VersionId,SecretString]' --output json", dir);
    expect(read(run.cwd)).toBe(read(laptop));
  });

  it('Move from sops or pass: values piped from the tools (stand-ins here) read back exactly', async () => {
    const run = await runSection('migrate');
    const value = (id: string) => run.sh(`secretstore get-secret-value --secret-id ${id} --query SecretString --output json`);
    expect(JSON.parse(value('prod/db-password'))).toBe('EXAMPLE-PASS-DB-PASSWORD');
    expect(JSON.parse(value('prod/smtp-password'))).toBe('EXAMPLE-PASS-SMTP-PASSWORD');
    expect(JSON.parse(value('prod/api-key'))).toBe('EXAMPLE-PASS-API-KEY');
    expect(JSON.parse(JSON.parse(value('prod/app')) as string)).toEqual(SOPS_VALUE);
    const described = JSON.parse(run.sh('secretstore describe-secret --secret-id prod/db-password')) as Record<string, unknown>;
    expect(described.Description).toBe('imported from pass');
    expect(run.results.at(-1)!.stdout).toBe('prod/app gives USERNAME=app and a PASSWORD of 21 characters\n');
    // setup's four commits, then three creates and one put: one commit each, and no value in git.
    expect(run.sh('git rev-list --count HEAD').trim()).toBe('8');
    expect(run.sh('git log -p')).not.toMatch(/EXAMPLE-(PASS|SOPS)/);
    expect(run.sh('git status --porcelain')).toBe('');
  });
});

describe('issue 14.4: the docs read top to bottom in one shell', () => {
  it('every example of the README, then the guide, reference, trust, offline and agent pages, runs in one folder, in that order, on a default branch called trunk', async () => {
    expect(READING_ORDER.every((file) => existsSync(file))).toBe(true);
    const run = await runReading(
      // The quickstart and install run in the clone, not in a reader's folder; serve listens on a fixed port,
      // which its own doc test (readme.test.ts, in another worker) may hold at the same time.
      ['quickstart', 'install', 'serve'],
      {
        env: (base) => {
          const gitconfig = join(base, 'gitconfig-trunk');
          writeFileSync(gitconfig, '[user]\n\tname = Guide Reader\n\temail = reader@example.invalid\n[init]\n\tdefaultBranch = trunk\n');
          // The reader in the editor (reference "Editing a value"): changes the username.
          writeFileSync(join(base, 'editor'), `#!/bin/sh\nsed -i 's/"username":"app"/"username":"app-readonly"/' "$1"\n`);
          chmodSync(join(base, 'editor'), 0o755);
          return { GIT_CONFIG_GLOBAL: gitconfig, EDITOR: join(base, 'editor') };
        },
        blockTimeoutMs: 180_000,
      },
    );
    // Not one ResourceExistsException on the way (a second keygen, a second store in the same folder).
    expect(run.results.map((r) => r.stderr).join('')).not.toContain('ResourceExistsException');
    expect(run.sh('git symbolic-ref --short HEAD', join(run.work, 'team-secrets')).trim()).toBe('trunk');
    expect(run.sh('git status --porcelain', join(run.work, 'my-secrets'))).toBe('');
  }, 1_200_000);
});
