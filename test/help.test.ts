import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, runCli, type TestStore } from './helpers/store.js';
import { operations } from '../src/ops/table.js';

let t: TestStore;
let bin: string;
beforeAll(() => {
  t = makeStore();
  for (const name of ['prod/db', 'prod/api-key', 'staging/db']) {
    expect(t.cli(['create-secret', '--name', name, '--secret-string', '-'], { input: 'x' }).status).toBe(0);
  }
  // `secretstore` on PATH for the completion scripts: the built CLI.
  bin = join(t.base, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'secretstore'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'secretstore'), 0o755);
});
afterAll(() => t.cleanup());

const GROUPS = ['Secrets and values', 'Labels and versions', 'Discovery', 'Deletion', 'Tags', 'Rotation', 'Policies and replication', 'Everyday use', 'Store and keys', 'Teams and trust', 'Offline teams'];
const ADMIN = ['get', 'set', 'ls', 'import', 'version', 'rollback', 'keygen', 'init', 'prune', 'rotate-due', 'serve', 'exec', 'env', 'completion', 'identity', 'log', 'review', 'textconv', 'recipients', 'writers', 'sync', 'install-hooks', 'verify', 'sign', 'trust', 'offboard', 'agent'];

/** The command names listed under each heading of `secretstore --help` (options excluded). */
function commandsByGroup(help: string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of help.split('\n')) {
    const heading = /^(\S.*):$/.exec(line);
    if (heading) {
      current = heading[1] === 'Options' || heading[1] === 'Example' ? undefined : [];
      if (current) groups.set(heading[1]!, current);
      continue;
    }
    const item = /^ {2}([a-z][\w-]*)/.exec(line);
    if (item && current) current.push(item[1]!);
  }
  return groups;
}

describe('secretstore --help', () => {
  const help = () => t.cli(['--help']);

  it('groups the commands as the AWS CLI does, each command listed exactly once', () => {
    const r = help();
    expect(r.status).toBe(0);
    const groups = commandsByGroup(r.stdout);
    expect([...groups.keys()].slice(0, GROUPS.length)).toEqual(GROUPS);
    const listed = [...groups.values()].flat();
    const expected = [...Object.values(operations).map((op) => op.command), ...ADMIN];
    for (const name of expected) expect(listed.filter((n) => n === name), name).toHaveLength(1);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).not.toContain('hook');
    expect(listed).not.toContain('__complete');
    expect(listed).not.toContain('merge-driver');
    expect(groups.get('Secrets and values')).toEqual(
      expect.arrayContaining(['create-secret', 'put-secret-value', 'get-secret-value', 'batch-get-secret-value', 'update-secret']),
    );
    expect(groups.get('Labels and versions')).toEqual(['list-secret-version-ids', 'update-secret-version-stage', 'rollback']);
    expect(groups.get('Discovery')).toEqual(['describe-secret', 'list-secrets']);
    expect(groups.get('Deletion')).toEqual(['delete-secret', 'restore-secret']);
    expect(groups.get('Tags')).toEqual(['tag-resource', 'untag-resource']);
    expect(groups.get('Rotation')!.sort()).toEqual(['cancel-rotate-secret', 'get-random-password', 'rotate-due', 'rotate-secret']);
    expect(groups.get('Policies and replication')).toEqual([
      'replicate-secret-to-regions',
      'remove-regions-from-replication',
      'put-resource-policy',
      'get-resource-policy',
      'delete-resource-policy',
      'validate-resource-policy',
    ]);
    expect(groups.get('Everyday use')).toEqual(expect.arrayContaining(['get', 'set', 'ls', 'import', 'exec', 'env', 'completion']));
    expect(groups.get('Everyday use')!.slice(0, 4)).toEqual(['get', 'set', 'ls', 'import']);
    expect(groups.get('Store and keys')).toEqual(['keygen', 'init', 'prune', 'serve', 'version', 'identity']);
    expect(groups.get('Teams and trust')).toEqual(['recipients', 'writers', 'verify', 'sign', 'trust', 'offboard']);
    expect(groups.get('Offline teams')).toEqual(['sync', 'install-hooks', 'log', 'review', 'textconv']);
    // One line each: a summary, not the whole description.
    expect(r.stdout).toMatch(/^ {2}exec \[options\] \[command\.\.\.\] +Run COMMAND with the secrets in its environment$/m);
  });

  it("every command's --help shows an example", () => {
    const listed = [...commandsByGroup(help().stdout).values()].flat();
    expect(listed.length).toBeGreaterThan(20);
    for (const name of listed) {
      const r = t.cli([name, '--help']);
      expect(r.status, name).toBe(0);
      expect(r.stdout, name).toMatch(/^Example:\n {2}\S/m);
    }
  });
});

describe('suggestions', () => {
  it('an unknown command suggests the closest one, exit 252', () => {
    const r = t.cli(['get-secret-valu']);
    expect(r.status).toBe(252);
    expect(r.stderr).toContain("unknown command 'get-secret-valu'");
    expect(r.stderr).toContain('(Did you mean get-secret-value?)');
  });

  it('an unknown flag suggests the closest one, exit 252', () => {
    const r = t.cli(['get-secret-value', '--secret-idd', 'x']);
    expect(r.status).toBe(252);
    expect(r.stderr).toContain("unknown option '--secret-idd'");
    expect(r.stderr).toContain('(Did you mean --secret-id?)');
  });
});

describe('secretstore completion', () => {
  /** Sources the bash script and runs its function on `words` with the cursor on the last word. */
  function completeBash(words: readonly string[]): string[] {
    const script = t.cli(['completion', 'bash']).stdout;
    const file = join(t.base, 'completion.bash');
    writeFileSync(file, script);
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync(
      'bash',
      ['--norc', '--noprofile', '-c', `source '${file}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _secretstore; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { cwd: t.dir, env: { ...t.env, PATH: `${bin}:${t.env.PATH}` }, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash: completes command names, flags and secret names for --secret-id', () => {
    expect(completeBash(['secretstore', 'get-sec'])).toEqual(['get-secret-value']);
    expect(completeBash(['secretstore', 'get-secret-value', '--secret-i'])).toEqual(['--secret-id']);
    expect(completeBash(['secretstore', 'get-secret-value', '--secret-id', 'p']).sort()).toEqual(['prod/api-key', 'prod/db']);
    expect(completeBash(['secretstore', 'exec', '--secret-id', 'st'])).toEqual(['staging/db']);
    expect(completeBash(['secretstore', '--output', 'y'])).toEqual(['yaml']);
  });

  it('issue 14.7: bash completes secret names as the argument of get, set and ls, and their flags after -', () => {
    expect(completeBash(['secretstore', 'get', 'p']).sort()).toEqual(['prod/api-key', 'prod/db']);
    expect(completeBash(['secretstore', 'set', 'st'])).toEqual(['staging/db']);
    expect(completeBash(['secretstore', 'ls', 'prod/a'])).toEqual(['prod/api-key']);
    expect(completeBash(['secretstore', 'get', '--fi'])).toEqual(['--field']);
    expect(completeBash(['secretstore', 'imp'])).toEqual(['import']);
  });

  it('__complete secret-ids prints names from the index files, and nothing (exit 0) outside a store', () => {
    expect(t.cli(['__complete', 'secret-ids', '--', 'prod/']).stdout).toBe('prod/api-key\nprod/db\n');
    // No identity needed: nothing is decrypted.
    expect(t.cli(['--identity', join(t.base, 'missing'), '__complete', 'secret-ids']).stdout.split('\n').filter(Boolean)).toHaveLength(3);
    const outside = mkdtempSync(join(tmpdir(), 'secretstore-nostore-'));
    try {
      const r = runCli(['__complete', 'secret-ids', 'p'], t.env, outside);
      expect(r).toMatchObject({ status: 0, stdout: '', stderr: '' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  for (const shell of ['zsh', 'fish'] as const) {
    const installed = spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0 || process.env.CI === 'true';
    it.skipIf(!installed)(`${shell}: the script loads without syntax errors`, () => {
      const r = t.cli(['completion', shell]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('__complete secret-ids');
      const file = join(t.base, `completion.${shell}`);
      writeFileSync(file, r.stdout);
      const check = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    });
  }

  it('an unknown shell is a usage error', () => {
    expect(t.cli(['completion', 'tcsh']).status).toBe(252);
  });
});

describe('--debug', () => {
  const VALUE = 'DEBUG-CANARY-7f3a9c-VALUE';

  it('logs the store, the identity, git commands with their durations and the operation, never the value', () => {
    const r = t.cli(['--debug', 'put-secret-value', '--secret-id', 'prod/db', '--secret-string', '-'], { input: VALUE });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain(VALUE);
    expect(r.stderr).not.toContain(VALUE);
    expect(r.stderr).toContain(`[debug] store ${t.dir}`);
    expect(r.stderr).toContain(`[debug] identity ${t.identity}`);
    expect(r.stderr).toMatch(/^\[debug\] git commit-tree .* \(\d+(\.\d+)? ms\)$/m);
    expect(r.stderr).toMatch(/^\[debug\] git update-ref .* \(\d+(\.\d+)? ms\)$/m);
    expect(r.stderr).toContain('[debug] operation PutSecretValue {"SecretId":"prod/db","SecretString":"<redacted>"}');
    expect(r.stderr).toMatch(/^\[debug\] operation PutSecretValue \(\d+(\.\d+)? ms\)$/m);
    // The value did go in.
    expect(t.cli(['get-secret-value', '--secret-id', 'prod/db']).json()).toMatchObject({ SecretString: VALUE });
  });

  it('SECRETSTORE_DEBUG=1 turns on the same log (and stack traces); without either, nothing', () => {
    const r = t.cli(['describe-secret', '--secret-id', 'prod/db'], { env: { SECRETSTORE_DEBUG: '1' } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('[debug] operation DescribeSecret {"SecretId":"prod/db"}');
    const failed = t.cli(['describe-secret', '--secret-id', 'no/such'], { env: { SECRETSTORE_DEBUG: '1' } });
    expect(failed.status).toBe(254);
    expect(failed.stderr).toMatch(/ResourceNotFoundException[\s\S]*\n\s+at /);
    expect(t.cli(['describe-secret', '--secret-id', 'prod/db']).stderr).toBe('');
  });

  it('redacts values given in --cli-input-json too', () => {
    const r = t.cli(['--debug', 'put-secret-value', '--cli-input-json', JSON.stringify({ SecretId: 'prod/db', SecretString: VALUE })]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('"SecretString":"<redacted>"');
    expect(r.stderr).not.toContain(VALUE);
  });
});
