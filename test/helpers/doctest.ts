/**
 * The docs' doc tests: every command block in README.md and docs/*.md runs, exactly as written, so the docs
 * cannot drift from the CLI. One harness for every file (test/readme.test.ts, test/readme-guide.test.ts).
 * Section names are shared by all the files: a section may start in one file and go on in another (in
 * DOC_FILES order: README.md, then docs/*.md by name), and `after OTHER` may name a section of any file.
 *
 * Markers (an HTML comment on the line right above the fence, invisible on GitHub):
 * - `<!-- doctest: NAME -->` runs the block. Blocks with the same NAME form one section and run in document
 *   order, each starting in the folder where the previous one ended (as in one terminal; variables do not
 *   carry over, and `-u` catches a block that relies on one).
 * - `<!-- doctest: NAME after OTHER -->` on a section's first block runs section OTHER first (and whatever
 *   OTHER runs after), in the same folder and environment.
 * - `<!-- doctest: skip REASON -->` does not run the block; REASON must be one of SKIP_REASONS.
 *
 * Command blocks are fenced `sh` (also `bash`, `shell`, `console`, `zsh`, `fish`: those need a marker too)
 * and `ts` (compiled against the built library, type-checked with tsc, then run with node). Every other
 * fence must name a language that says it is not a command (`text`, `yaml`, `diff`, `json`): see
 * coverageProblems().
 *
 * Each section gets a fresh temp folder: its own HOME and XDG_CONFIG_HOME, a git identity pinned through
 * GIT_CONFIG_GLOBAL (init.defaultBranch=main), `secretstore` on PATH as a wrapper around the built CLI,
 * Debian's AWS CLI (/usr/bin/aws, which .ci/run installs) as `aws` ahead of any other, and stand-ins for
 * `pass` and `sops` that print fixed values in the real tools' usual output shape. sh blocks run with
 * `bash --norc -euo pipefail`.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, expect } from 'vitest';
import { CLI } from './store.js';

export const README_PATH = resolve('README.md');
export const README = readFileSync(README_PATH, 'utf8');
/** Every file whose blocks are doc tests, relative to the project, in the order their sections run. */
export const DOC_FILES: readonly string[] = [
  'README.md',
  ...readdirSync(resolve('docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
/** The text of a doc file (a path from DOC_FILES). */
export function docText(file: string): string {
  return readFileSync(resolve(file), 'utf8');
}

/** Fence languages that hold commands or code: each such block needs a marker. */
export const COMMAND_LANGUAGES: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console', 'zsh', 'fish', 'ts', 'typescript', 'js', 'javascript']);
/** Fence languages that say "not a command": output samples, file contents, diffs. */
export const OTHER_LANGUAGES: ReadonlySet<string> = new Set(['text', 'yaml', 'diff', 'json']);
/** The languages the harness knows how to run. */
const RUNNABLE_LANGUAGES: ReadonlySet<string> = new Set(['sh', 'ts']);

/**
 * The only reasons a command block may go untested here. Keep this list short: a block that needs a terminal
 * can run under a pseudo-terminal, one that needs a placeholder can get a setup block.
 */
export const SKIP_REASONS: Readonly<Record<string, string>> = {
  // `npm ci` and `npm test` are CI itself: a doc test would run the suite inside the suite. The coverage
  // test checks that each command of such a block is a line of .ci/run.
  '.ci/run runs these': 'each command is a line of .ci/run, which CI runs',
};

export interface Block {
  /** The file it is in, relative to the project (README.md, docs/x.md), for failure messages. */
  readonly file: string;
  /** The fence's language tag ('' when it has none). */
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence in its file, for failure messages. */
  readonly line: number;
  /** The marker above the fence, as written (without `<!-- doctest:` and `-->`), if any. */
  readonly marker?: string;
}
export interface Section {
  readonly name: string;
  readonly after?: string;
  readonly blocks: Block[];
}
export interface Skipped {
  readonly block: Block;
  readonly reason: string;
}

const MARKER = /^<!-- doctest: (.*) -->$/;
const RUN = /^([a-z][a-z0-9-]*)(?: after ([a-z][a-z0-9-]*))?$/;
const SKIP = /^skip (.+)$/;

/** Every fenced block of a markdown text, with the marker right above it, if any. */
export function parseBlocks(markdown: string, file = 'README.md'): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) {
      if (lines[i]!.startsWith('<!-- doctest') && lines[i + 1]?.startsWith('```') !== true) {
        throw new Error(`${file}:${i + 1}: a doctest marker must sit right above a fence`);
      }
      continue;
    }
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed fence`);
    const marker = MARKER.exec(lines[i - 1] ?? '')?.[1];
    if (marker === undefined && lines[i - 1]?.includes('doctest')) throw new Error(`${file}:${i}: malformed doctest marker: ${lines[i - 1]}`);
    blocks.push({ file, lang: fence[1]!, code: lines.slice(i + 1, end).join('\n'), line: i + 1, ...(marker === undefined ? {} : { marker }) });
    i = end;
  }
  return blocks;
}

/** The marked blocks by section name, in document order, and the skipped ones. */
export function parseDocTests(blocks: readonly Block[]): { sections: Map<string, Section>; skipped: Skipped[] } {
  const sections = new Map<string, Section>();
  const skipped: Skipped[] = [];
  for (const block of blocks) {
    if (block.marker === undefined) continue;
    const skip = SKIP.exec(block.marker);
    if (skip) {
      skipped.push({ block, reason: skip[1]! });
      continue;
    }
    const run = RUN.exec(block.marker);
    if (!run) throw new Error(`${block.file}:${block.line - 1}: malformed doctest marker: ${block.marker}`);
    if (!RUNNABLE_LANGUAGES.has(block.lang)) throw new Error(`${block.file}:${block.line}: doctest cannot run a \`\`\`${block.lang} block (only sh and ts)`);
    const [, name, after] = run as unknown as [string, string, string | undefined];
    const section = sections.get(name);
    if (section) {
      if (after) throw new Error(`${block.file}:${block.line - 1}: only a section's first block may say "after"`);
      section.blocks.push(block);
    } else {
      sections.set(name, { name, ...(after ? { after } : {}), blocks: [block] });
    }
  }
  return { sections, skipped };
}

/** Every block of every doc file, README.md first. */
export const BLOCKS = DOC_FILES.flatMap((file) => parseBlocks(docText(file), file));
export const { sections: SECTIONS, skipped: SKIPPED } = parseDocTests(BLOCKS);

/** What makes CI red: `<file>:<line>: why` (README.md:12, docs/x.md:40) for each command block without a test, each unknown fence. */
export function coverageProblems(blocks: readonly Block[] = BLOCKS, ciScript = readFileSync(resolve('.ci/run'), 'utf8')): string[] {
  const problems: string[] = [];
  const ciLines = new Set(ciScript.split('\n').map((l) => l.trim()));
  for (const block of blocks) {
    const at = `${block.file}:${block.line}`;
    if (COMMAND_LANGUAGES.has(block.lang)) {
      if (block.marker === undefined) problems.push(`${at}: a \`\`\`${block.lang} block without a <!-- doctest: NAME --> marker (or <!-- doctest: skip REASON -->)`);
      const skip = block.marker === undefined ? null : SKIP.exec(block.marker);
      if (skip) {
        if (!(skip[1]! in SKIP_REASONS)) problems.push(`${at}: "skip ${skip[1]}" is not an allowed reason (${Object.keys(SKIP_REASONS).join('; ')})`);
        else {
          for (const command of commandsOf(block.code)) {
            if (!ciLines.has(command)) problems.push(`${at}: skipped as run by .ci/run, but .ci/run has no line "${command}"`);
          }
        }
      }
    } else if (!OTHER_LANGUAGES.has(block.lang)) {
      problems.push(
        `${at}: a fence ${block.lang ? `of language "${block.lang}"` : 'without a language'}: tag commands sh (with a doctest marker), anything else ${[...OTHER_LANGUAGES].join('/')}`,
      );
    } else if (block.marker !== undefined) {
      problems.push(`${at}: a doctest marker on a \`\`\`${block.lang} block, which is not run`);
    }
  }
  return problems;
}

/** The commands of a shell block: its lines without comments and blank lines. */
function commandsOf(code: string): string[] {
  return code
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').replace(/^#.*$/, '').trim())
    .filter((l) => l !== '');
}

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
export const SOPS_VALUE = { username: 'app', password: 'EXAMPLE-SOPS-PASSWORD' };
const SOPS_STANDIN = `#!/bin/sh
# A stand-in for sops(1): \`sops -d FILE\` prints the decrypted JSON (fixed here).
[ "$1" = -d ] || [ "$1" = --decrypt ] || { echo "sops stand-in: only -d is supported" >&2; exit 1; }
printf '{\\n\\t"username": "app",\\n\\t"password": "EXAMPLE-SOPS-PASSWORD"\\n}\\n'
`;

export const AWS_CLI = '/usr/bin/aws';

export interface BlockResult {
  readonly block: Block;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SectionRun {
  /** The temp folder holding home/, bin/ and work/. */
  readonly base: string;
  /** Where the first block started (work/, unless the test chose another folder). */
  readonly work: string;
  /** The folder the last block ended in. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** This section's own blocks (not its prerequisites'), in order. */
  readonly results: BlockResult[];
  /** Runs a command (bash) in `dir` (default: where the last block ended) with the section's environment. */
  sh(command: string, dir?: string): string;
}

export interface RunOptions {
  /** Where the first block starts, instead of a fresh work/ folder (e.g. the checkout, for `npm start`). */
  readonly cwd?: (base: string) => string;
  /** Variables added to the section's environment (PATH is put together by the harness unless given). */
  readonly env?: (base: string) => NodeJS.ProcessEnv;
  /** How long one block may run (default 60 s): a block that builds and packs the package needs longer on a loaded machine. */
  readonly blockTimeoutMs?: number;
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
  // The AWS CLI that CI has (Debian's v2), whatever else is on PATH (a developer's pyenv v1, say).
  if (existsSync(AWS_CLI)) symlinkSync(AWS_CLI, join(bin, 'aws'));
  const gitconfig = join(base, 'gitconfig');
  writeFileSync(gitconfig, '[user]\n\tname = Guide Reader\n\temail = reader@example.invalid\n[init]\n\tdefaultBranch = main\n');
  const home = join(base, 'home');
  mkdirSync(home, { recursive: true });
  // A private runtime folder per section, as a login session has: the agent's socket goes there.
  mkdirSync(join(base, 'run'), { mode: 0o700 });
  return {
    // node and npm: the ones running the tests.
    PATH: [bin, dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(delimiter),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_RUNTIME_DIR: join(base, 'run'),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    TMPDIR: tmpdir(),
    // npm and the AWS CLI: nothing from the network, no pager.
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

/**
 * Runs a process to its end without blocking the event loop: a section can take a minute, and a test
 * worker that blocks that long misses its own messages to vitest.
 */
function run(file: string, args: readonly string[], opts: SpawnOptions, timeout = 60_000): Promise<Ran> {
  return new Promise((done) => {
    // Its own process group, so that what a block leaves running (a server, after a failure) is ended with it.
    const child = spawn(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], timeout, detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: Error | undefined;
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => (error = e));
    child.on('exit', () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // nothing left running: the usual case
      }
    });
    child.on('close', (status) =>
      done({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ...(error ? { error } : {}) }),
    );
  });
}

// stdin is /dev/null: a socket there (Node's default pipe) makes Debian's bash source /etc/bash.bashrc,
// as if started by sshd; --norc rules that out too, so blocks run with nothing but what they say.
const BASH = ['--norc', '-euo', 'pipefail', '-c'];

function bash(command: string, cwd: string, env: NodeJS.ProcessEnv, timeout?: number): Promise<Ran> {
  return run('bash', [...BASH, command], { cwd, env }, timeout);
}

/**
 * A ```ts block: type-checked with tsc against the built library's declarations (as a user's project
 * would see `import ... from '@secretstore/cli'`), then its JavaScript run with node in `cwd`.
 */
async function typescript(code: string, line: number, base: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const modules = join(base, 'node_modules');
  if (!existsSync(modules)) {
    mkdirSync(modules);
    mkdirSync(join(modules, '@secretstore'));
    symlinkSync(resolve('.'), join(modules, '@secretstore', 'cli')); // the package as installed: package.json's exports
  }
  const file = join(base, `doc-${line}.mts`);
  writeFileSync(file, code);
  const tsc = await run(
    process.execPath,
    [
      resolve('node_modules/typescript/bin/tsc'),
      ...['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ...['--types', 'node', '--typeRoots', resolve('node_modules/@types'), file],
    ],
    { cwd: base, env },
  );
  if (tsc.status !== 0) return tsc;
  const js = join(base, `doc-${line}.mjs`);
  writeFileSync(js, transformSync(code, { loader: 'ts', format: 'esm', target: 'node20' }).code);
  return run(process.execPath, [js], { cwd, env });
}

/** A section's blocks with those of its prerequisites (`after`) first, and how many of them are its own. */
function chain(name: string, seen: string[] = []): Block[] {
  const section = SECTIONS.get(name);
  if (!section) throw new Error(`the docs have no doctest section "${name}"${seen.length ? ` (wanted by "${seen.at(-1)}")` : ''}`);
  if (seen.includes(name)) throw new Error(`doctest sections run after each other in a circle: ${[...seen, name].join(' -> ')}`);
  return [...(section.after ? chain(section.after, [...seen, name]) : []), ...section.blocks];
}

/** Runs a section's blocks (and its prerequisites') in a fresh folder; fails the test on a block that fails. */
export async function runSection(name: string, opts: RunOptions = {}): Promise<SectionRun> {
  return runBlocks(name, chain(name), SECTIONS.get(name)!.blocks.length, opts);
}

/**
 * The order a reader follows the docs in: the README, then the pages in the order its "Documentation" list
 * gives them. Issue 14.4: read top to bottom in one shell, every example works.
 */
export const READING_ORDER: readonly string[] = ['README.md', 'docs/guide.md', 'docs/reference.md', 'docs/trust.md', 'docs/offline.md', 'docs/agent.md'];

/**
 * Runs every doc-test block of the docs in READING_ORDER, one after the other in one folder, as a reader who
 * follows along in one terminal would (no section's `after` chain: only what the docs before it did).
 * `except` names sections a reader would run elsewhere (the quickstart and install run in the clone).
 */
export async function runReading(except: readonly string[], opts: RunOptions = {}): Promise<SectionRun> {
  const blocks = READING_ORDER.flatMap((file) =>
    BLOCKS.filter((b) => b.file === file && b.marker !== undefined && RUN.test(b.marker) && !except.includes(RUN.exec(b.marker)![1]!)),
  );
  return runBlocks('reading', blocks, blocks.length, opts);
}

/** Runs blocks in order in a fresh folder, each where the one before ended; the last `own` are the results. */
async function runBlocks(name: string, blocks: readonly Block[], own: number, opts: RunOptions): Promise<SectionRun> {
  const base = mkdtempSync(join(tmpdir(), `secretstore-readme-${name}-`));
  bases.push(base);
  const env = { ...environment(base), ...opts.env?.(base) };
  const work = opts.cwd?.(base) ?? join(base, 'work');
  mkdirSync(work, { recursive: true });
  const cwdFile = join(base, 'cwd');
  let cwd = work;
  const results: BlockResult[] = [];
  for (const [i, block] of blocks.entries()) {
    const mine = i >= blocks.length - own;
    // The block as written, then where it ended: the next block starts there.
    const r = block.lang === 'ts' ? await typescript(block.code, block.line, base, cwd, env) : await bash(`${block.code}\npwd > ${JSON.stringify(cwdFile)}`, cwd, env, opts.blockTimeoutMs);
    const where = `${block.file}:${block.line} (doctest ${mine ? name : `before ${name}`})`;
    expect(r.error, where).toBeUndefined();
    expect(r.status, `${where} exited ${r.status}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`).toBe(0);
    if (block.lang === 'sh') cwd = readFileSync(cwdFile, 'utf8').trim();
    // SECRETSTORE_GUIDE_SHOW=1 prints what each block printed, to read the docs' output while editing them.
    if (process.env.SECRETSTORE_GUIDE_SHOW) console.log(`=== ${where}\n${block.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`);
    if (mine) results.push({ block, status: r.status, stdout: r.stdout, stderr: r.stderr });
  }
  return {
    base,
    work,
    cwd,
    env,
    results,
    sh: (command, dir = cwd) => {
      const r = spawnSync('bash', [...BASH, command], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      if (r.status !== 0) throw new Error(`${command} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** The VersionId that carries `stage` on a secret, read through the CLI in the section's environment. */
export function versionWith(run: SectionRun, secretId: string, stage: string, dir?: string): string {
  return run
    .sh(`secretstore list-secret-version-ids --secret-id ${secretId} --output text --query "Versions[?contains(VersionStages, '${stage}')].VersionId | [0]"`, dir)
    .trim();
}

/** The sections of docs/guide.md ("# Guide: everyday tasks"), checked by test/readme-guide.test.ts (the rest by test/readme.test.ts). */
export const GUIDE_SECTIONS: readonly string[] = ['setup', 'rotate', 'review', 'offline', 'migrate'];
