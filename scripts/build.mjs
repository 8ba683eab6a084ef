// Builds the two things the package ships:
//  - dist/secretstore.js (+ dist/chunks/): the CLI bundled, because Node's start-up (~100 ms) dominates
//    every command and resolving hundreds of module files would add to it;
//  - dist/lib/: the library compiled by tsc, with type declarations, for `import ... from 'secretstore'`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// Every build gets its own id: an agent started by another build (an upgrade) is restarted by the client.
const buildId = `${JSON.parse(readFileSync('package.json', 'utf8')).version}+${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;
// Built in memory and written only when it succeeded, so a failed build leaves the last good one.
const bundle = await build({
  write: false,
  entryPoints: { secretstore: 'src/cli/bin.ts' },
  outdir: 'dist',
  // Code that only some commands need (libsodium, simple-git) sits in chunks loaded on first use,
  // so a describe-secret never compiles the cipher and a read never loads the git client.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Bundled CommonJS dependencies still call require(); give the ES module one.
  banner: { js: "import { createRequire as __secretstoreRequire } from 'node:module'; const require = __secretstoreRequire(import.meta.url);" },
  legalComments: 'none',
  // The agent's build id (a client of another build restarts it), and `secretstore --version` without
  // reading package.json at run time (src/cli/version.ts).
  define: {
    __SECRETSTORE_BUILD__: JSON.stringify(buildId),
    __SECRETSTORE_VERSION__: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version),
  },
  logLevel: 'warning',
});
rmSync('dist/chunks', { recursive: true, force: true });
for (const file of bundle.outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.contents);
}
chmodSync('dist/secretstore.js', 0o755);

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { stdio: 'inherit' });
