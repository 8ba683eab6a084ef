/**
 * Doc tests for the README's task guide ("## Guide: everyday tasks"): every ```sh block preceded by a
 * `<!-- doctest: NAME [after PREREQ] -->` comment runs exactly as written, with `bash -euo pipefail`, so
 * the guide cannot rot. Blocks with the same NAME form one section and run in README order, each starting
 * in the folder where the previous one ended (as in one terminal; variables do not carry over, and `-u`
 * catches a block that relies on one). `after PREREQ` on a section's first block runs PREREQ's blocks first.
 *
 * Each section gets a fresh temp folder: its own HOME and XDG_CONFIG_HOME, a git identity pinned through
 * GIT_CONFIG_GLOBAL (init.defaultBranch=main), `secretstore` on PATH as a wrapper around the built CLI,
 * and stand-ins for `pass` and `sops` that print fixed values in the real tools' usual output shape.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/store.js';

interface Block {
  readonly code: string;
  /** 1-based line of the ```sh fence in README.md, for failure messages. */
  readonly line: number;
}
interface Section {
  readonly after?: string;
  readonly blocks: Block[];
}

const MARKER = /^<!-- doctest: ([a-z][a-z0-9-]*)(?: after ([a-z][a-z0-9-]*))? -->$/;

/** The marked blocks of a markdown text, by section name, in order. A marker must sit right above a ```sh fence. */
function parseDocTests(markdown: string): Map<string, Section> {
  const lines = markdown.split('\n');
  const sections = new Map<string, Section>();
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!);
    if (!m) {
      if (lines[i]!.includes('doctest')) throw new Error(`README.md:${i + 1}: malformed doctest marker: ${lines[i]}`);
      continue;
    }
    const [, name, after] = m as unknown as [string, string, string | undefined];
    if (lines[i + 1] !== '```sh') throw new Error(`README.md:${i + 1}: a doctest marker must be followed by a \`\`\`sh fence`);
    const end = lines.indexOf('```', i + 2);
    if (end < 0) throw new Error(`README.md:${i + 2}: unclosed \`\`\`sh fence`);
    const block = { code: lines.slice(i + 2, end).join('\n'), line: i + 2 };
    const section = sections.get(name);
    if (section) {
      if (after) throw new Error(`README.md:${i + 1}: only a section's first block may say "after"`);
      section.blocks.push(block);
    } else {
      sections.set(name, { ...(after ? { after } : {}), blocks: [block] });
    }
    i = end;
  }
  return sections;
}

const README = readFileSync(resolve('README.md'), 'utf8');
const SECTIONS = parseDocTests(README);

// The real tools' usual output: `pass show` prints the password on the first line and the entry's other
// lines after it; `sops -d` prints the decrypted file.
const PASS_STANDIN = `#!/bin/sh
# A stand-in for pass(1): fixed entries, printed as \`pass show NAME\` prints them.
[ "$1" = show ] || { echo "pass stand-in: only 'show' is supported" >&2; exit 1; }
case "$2" in
  prod/db-password) printf 'EXAMPLE-PASS-DB-PASSWORD\\nusername: app\\nurl: db.example.invalid\\n' ;;
  prod/smtp-password) printf 'EXAMPLE-PASS-SMTP-PASSWORD\\n' ;;
  prod/api-key) printf 'EXAMPLE-PASS-API-KEY\\n' ;;
  *) echo "Error: $2 is not in the password store." >&2; exit 1 ;;
esac
`;
const SOPS_VALUE = { username: 'app', password: 'EXAMPLE-SOPS-PASSWORD' };
const SOPS_STANDIN = `#!/bin/sh
# A stand-in for sops(1): \`sops -d FILE\` prints the decrypted JSON (fixed here).
[ "$1" = -d ] || [ "$1" = --decrypt ] || { echo "sops stand-in: only -d is supported" >&2; exit 1; }
printf '{\\n\\t"username": "app",\\n\\t"password": "EXAMPLE-SOPS-PASSWORD"\\n}\\n'
`;

interface BlockResult {
  readonly block: Block;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface SectionRun {
  readonly work: string;
  /** The folder the last block ended in. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** This section's own blocks (not its prerequisite's), in order. */
  readonly results: BlockResult[];
  /** Runs a command (bash) in `dir` (default: where the last block ended) with the section's environment. */
  sh(command: string, dir?: string): string;
}

const bases: string[] = [];
afterAll(() => {
  for (const base of bases) rmSync(base, { recursive: true, force: true });
});

function environment(base: string): NodeJS.ProcessEnv {
  const bin = join(base, 'bin');
  mkdirSync(bin, { recursive: true });
  const script = (name: string, text: string) => {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  };
  script('secretstore', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
  script('pass', PASS_STANDIN);
  script('sops', SOPS_STANDIN);
  const gitconfig = join(base, 'gitconfig');
  writeFileSync(gitconfig, '[user]\n\tname = Guide Reader\n\temail = reader@example.invalid\n[init]\n\tdefaultBranch = main\n');
  const home = join(base, 'home');
  mkdirSync(home, { recursive: true });
  return {
    PATH: [bin, process.env.PATH ?? '/usr/bin:/bin'].join(delimiter),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
    LANG: 'C.UTF-8',
    TMPDIR: tmpdir(),
  };
}

function bash(command: string, cwd: string, env: NodeJS.ProcessEnv) {
  // stdin is /dev/null: a socket there (Node's default pipe) makes Debian's bash source /etc/bash.bashrc,
  // as if started by sshd; --norc rules that out too, so blocks run with nothing but what they say.
  return spawnSync('bash', ['--norc', '-euo', 'pipefail', '-c', command], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
}

function runSection(name: string): SectionRun {
  const section = SECTIONS.get(name);
  if (!section) throw new Error(`README.md has no doctest section "${name}"`);
  const prereq = section.after ? SECTIONS.get(section.after) : undefined;
  if (section.after && !prereq) throw new Error(`doctest section "${name}" runs after "${section.after}", which README.md does not have`);
  const base = mkdtempSync(join(tmpdir(), `secretstore-guide-${name}-`));
  bases.push(base);
  const env = environment(base);
  const work = join(base, 'work');
  mkdirSync(work);
  const cwdFile = join(base, 'cwd');
  let cwd = work;
  const results: BlockResult[] = [];
  for (const [i, block] of [...(prereq?.blocks ?? []), ...section.blocks].entries()) {
    const own = i >= (prereq?.blocks.length ?? 0);
    // The block as written, then where it ended: the next block starts there.
    const r = bash(`${block.code}\npwd > ${JSON.stringify(cwdFile)}`, cwd, env);
    const where = `README.md:${block.line} (doctest ${own ? name : `${section.after}, before ${name}`})`;
    expect(r.error, where).toBeUndefined();
    expect(r.status, `${where} exited ${r.status}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`).toBe(0);
    cwd = readFileSync(cwdFile, 'utf8').trim();
    // SECRETSTORE_GUIDE_SHOW=1 prints what each block printed, to read the guide's output while editing it.
    if (process.env.SECRETSTORE_GUIDE_SHOW) console.log(`=== ${where}\n${block.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`);
    if (own) results.push({ block, status: r.status, stdout: r.stdout, stderr: r.stderr });
  }
  return {
    work,
    cwd,
    env,
    results,
    sh: (command, dir = cwd) => {
      const r = bash(command, dir, env);
      if (r.status !== 0) throw new Error(`${command} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

function versionWith(run: SectionRun, secretId: string, stage: string, dir?: string): string {
  return run
    .sh(`secretstore list-secret-version-ids --secret-id ${secretId} --output text --query "Versions[?contains(VersionStages, '${stage}')].VersionId | [0]"`, dir)
    .trim();
}

describe('the README guide (doc tests)', () => {
  it('has the five sections, each block marked in the guide, and no value typed on a command line', () => {
    expect([...SECTIONS.keys()]).toEqual(['setup', 'rotate', 'review', 'offline', 'migrate', 'verify']);
    const guide = README.slice(README.indexOf('## Guide: everyday tasks'), README.indexOf('## The store format'));
    expect(guide.length).toBeGreaterThan(0);
    for (const heading of ['Set up a team store', 'Rotate a value', 'Review a pull request', 'Work offline', 'Move from sops or pass']) {
      expect(guide).toContain(`\n### ${heading}\n`);
    }
    // Every marker is inside the guide, and every sh block of the guide is marked.
    expect(README.split('<!-- doctest:').length - 1).toBe(guide.split('<!-- doctest:').length - 1);
    expect(guide.split('```sh').length - 1).toBe(guide.split('<!-- doctest:').length - 1);
    for (const { blocks } of SECTIONS.values()) {
      for (const { code, line } of blocks) {
        for (const m of code.matchAll(/--secret-(?:string|binary)\s+(\S+)/g)) {
          expect(m[1], `README.md:${line}: a value on the command line`).toMatch(/^(-|file:\/\/\S+|fileb:\/\/\S+)$/);
        }
      }
    }
  });

  it('Set up a team store: keygen -o, init, a second recipient added by hand; only new versions are sealed to Bob', () => {
    const run = runSection('setup');
    expect(run.cwd).toBe(join(run.work, 'team-secrets'));
    const [alice, bob, , sealed] = run.results;
    expect(alice!.stdout).toMatch(/^secretstore1[a-z0-9]+\nsecretstoresig1[a-z0-9]+\n/);
    expect(bob!.stdout).toBe('');
    const bobKey = readFileSync(join(run.work, 'bob.pub'), 'utf8').split('\n')[0]!;
    expect(bobKey).toMatch(/^secretstore1[a-z0-9]+$/);

    const config = readFileSync(join(run.cwd, '.secretstore.yaml'), 'utf8');
    expect(config).toMatch(/recipients:\n {2}- name: alice\n {4}publicKey: secretstore1\S+\n {2}- name: bob\n/);
    expect(config).toContain(`    publicKey: ${bobKey}\n`);
    expect(run.sh('git log --format=%s').trim().split('\n')).toEqual([
      expect.stringMatching(/^put-secret-value prod\/api-key: new version /),
      'recipients: add bob',
      expect.stringMatching(/^create-secret prod\/api-key: created with version /),
      expect.stringMatching(/^init: secretstore [0-9a-f]{32}$/),
    ]);
    expect(run.sh('git status --porcelain')).toBe('');

    // Bob reads the version put after he joined, not the one from before.
    expect(sealed!.stdout).toBe('AWSCURRENT\nAWSPREVIOUS was sealed before Bob joined: DecryptionFailure, as expected\n');
    expect(sealed!.stderr).toContain('An error occurred (DecryptionFailure) when calling the GetSecretValue operation');
    const aliceValue = run.sh('secretstore get-secret-value --secret-id prod/api-key --query SecretString --output text');
    const bobValue = run.sh('secretstore --identity ../bob.identity get-secret-value --secret-id prod/api-key --query SecretString --output text');
    expect(bobValue).toBe(aliceValue);
    expect(aliceValue).toMatch(/^\S{32}\n$/); // a 32-character password, stored without a newline
  });

  it('Rotate a value: by hand through a pipe, then rotate-secret with a committed local rotation command', () => {
    const run = runSection('rotate');
    const [byHand, rotate] = run.results;
    const put = JSON.parse(byHand!.stdout.slice(0, byHand!.stdout.lastIndexOf('}') + 1)) as { VersionId: string };
    expect(byHand!.stdout.slice(byHand!.stdout.lastIndexOf('}') + 1)).toMatch(
      new RegExp(`^\\nAWSCURRENT\\t${put.VersionId}\\nAWSPREVIOUS\\t[0-9a-f-]{36}\\n$`),
    );

    const rotated = JSON.parse(rotate!.stdout.slice(0, rotate!.stdout.lastIndexOf('}') + 1)) as { Name: string; VersionId: string };
    expect(rotated.Name).toBe('prod/api-key');
    const subjects = rotate!.stdout.slice(rotate!.stdout.lastIndexOf('}') + 1).trim().split('\n');
    expect(subjects.map((s) => s.split(' ')[0])).toEqual(['rotate-secret', 'update-secret-version-stage', 'put-secret-value', 'rotate-secret']);

    expect(versionWith(run, 'prod/api-key', 'AWSCURRENT')).toBe(rotated.VersionId);
    const value = run.sh('secretstore get-secret-value --secret-id prod/api-key --query SecretString --output text');
    const previous = run.sh('secretstore get-secret-value --secret-id prod/api-key --version-stage AWSPREVIOUS --query SecretString --output text');
    expect(previous).toMatch(/^[A-Za-z0-9]{40}\n$/); // the by-hand value: 40 characters, no punctuation
    expect(value).toMatch(/^\S{32}\n$/);
    expect(value).not.toBe(previous);
    const described = JSON.parse(run.sh('secretstore describe-secret --secret-id prod/api-key')) as Record<string, unknown>;
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: './rotate-api-key.sh', RotationRules: { AutomaticallyAfterDays: 30 } });
    // init, create, add bob, put, by-hand put, the script, then the four rotation commits.
    expect(Number(run.sh('git rev-list --count HEAD').trim())).toBe(10);
    expect(run.sh('git status --porcelain')).toBe('');
  });

  it('Review a pull request: plain git shows one commit per change, the label move, and no rewritten version', () => {
    const run = runSection('review');
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
    expect(out).toMatch(new RegExp(`versions/${proposed}\\.sealed +\\| +\\d+ \\++$`, 'm')); // --stat: the added version file
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

  it('Work offline: commits made in a clone without the remote rebase onto a teammate push and reach every clone', () => {
    const run = runSection('offline');
    const [, offline] = run.results;
    expect(offline!.stdout.trim().split('\n')).toHaveLength(2); // two unpushed commits on the laptop
    expect(run.cwd).toBe(join(run.work, 'team-secrets'));
    const laptop = join(run.work, 'laptop');
    const remote = join(run.work, 'team-secrets.git');

    const names = run.results.at(-1)!.stdout.trim().split(/\s+/).sort();
    expect(names).toEqual(['prod/api-key', 'prod/smtp-password', 'prod/webhook-secret']);
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

  it('Move from sops or pass: values piped from the tools (stand-ins here) read back exactly', () => {
    const run = runSection('migrate');
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

  it('Signed changes and verify: a clean store verifies, sign commits one signed change, the pre-push hook runs verify', () => {
    const run = runSection('verify');
    expect(run.results[0]!.stdout).toMatch(/^verify: 1 secret\(s\), 2 sealed file\(s\) \(2 opened, 0 header checked\): no findings\n/);
    expect(run.results[0]!.stdout).toContain('prod/api-key\n');
    expect(run.sh('git log -1 --format=%s')).toBe('prod/api-key: labels fixed by hand\n');
    expect(run.sh('.git/hooks/pre-push')).toContain('no findings');
    expect(run.sh('git status --porcelain')).toBe('');
  });
});
