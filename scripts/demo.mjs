// `npm start`: the main job on a throwaway store. Makes an identity and a git repository in a temp
// folder, runs the README's walk-through with the real CLI, and shows what landed in git.
// Values reach the CLI through stdin or file://, never through argv.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve('dist/secretstore.js');
// A fresh clone after `npm ci` has no build yet (`npm pack` and `npm test` build; nothing else does).
if (!existsSync(cli)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const base = mkdtempSync(join(tmpdir(), 'secretstore-demo-'));
const repo = join(base, 'team-secrets');
const env = {
  ...process.env,
  XDG_CONFIG_HOME: join(base, 'config'),
  SECRETSTORE_IDENTITY: join(base, 'config', 'secretstore', 'identity'),
  GIT_AUTHOR_NAME: 'Demo User', GIT_AUTHOR_EMAIL: 'demo@example.invalid',
  GIT_COMMITTER_NAME: 'Demo User', GIT_COMMITTER_EMAIL: 'demo@example.invalid',
};

function step(title, args, input) {
  const shown = args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  console.log(`\n$ secretstore ${shown}${input === undefined ? '' : '   # value on stdin'}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: repo, env, input, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.stderr.trim()) console.log(r.stderr.trim().replace(/^/gm, '  (stderr) '));
  if (r.status !== 0 && !title.startsWith('expect-error')) throw new Error(`${args[0]} failed with exit code ${r.status}`);
}

try {
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  console.log(`A throwaway store in ${repo}`);
  step('keygen', ['keygen']);
  step('init', ['init', '--name', 'demo']);
  step('create', ['create-secret', '--name', 'MyTestDatabaseSecret', '--description', 'The demo database', '--secret-string', '-'],
    '{"username":"david","password":"EXAMPLE-PASSWORD"}');
  writeFileSync(join(base, 'new.json'), '{"username":"david","password":"EXAMPLE-NEW-PASSWORD"}');
  step('put', ['put-secret-value', '--secret-id', 'MyTestDatabaseSecret',
    '--client-request-token', 'EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE', '--secret-string', `file://${join(base, 'new.json')}`]);
  step('get previous', ['get-secret-value', '--secret-id', 'MyTestDatabaseSecret', '--version-stage', 'AWSPREVIOUS']);
  step('list', ['list-secret-version-ids', '--secret-id', 'MyTestDatabaseSecret', '--include-deprecated']);
  step('describe', ['describe-secret', '--secret-id', 'MyTestDatabaseSecret']);
  step('expect-error: same token, other value', ['put-secret-value', '--secret-id', 'MyTestDatabaseSecret',
    '--client-request-token', 'EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE', '--secret-string', '-'], 'something else');
  console.log('\n$ git log --stat   # one commit per change, label moves in the message, no values');
  console.log(execFileSync('git', ['log', '--stat'], { cwd: repo, encoding: 'utf8' }));
  console.log('$ git show HEAD -- "*secret.yaml"   # the label index diff a reviewer sees');
  console.log(execFileSync('git', ['show', '--format=', 'HEAD', '--', '*secret.yaml'], { cwd: repo, encoding: 'utf8' }));
} finally {
  rmSync(base, { recursive: true, force: true });
}
