// Builds what the package ships:
//  - dist/secretstore.js: the entry with the agent client, bundled alone (CommonJS: Node starts it faster
//    than an ES module), so a command the agent answers loads one small file (src/cli/bin.ts);
//  - dist/program.cjs: the rest of the CLI in one CommonJS file, which the entry runs through a V8 code cache
//    (src/cli/code-cache.ts): compiling modules was most of a cold command's time;
//  - dist/vendor/*.cjs: dependencies only some commands use (the sumo libsodium for passphrases, the
//    server's SigV4 code, simple-git, jmespath), each bundled alone and required on first use, so the
//    program file (read on every cold start) stays small;
//  - dist/wasm/: libsodium's WebAssembly (see wasmFile);
//  - dist/lib/: the library compiled by tsc, with type declarations, for `import ... from 'secretstore'`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
// Every build gets its own id: an agent started by another build (an upgrade) is restarted by the client.
const buildId = `${version}+${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;

/** Leaf dependencies (none imports our code) that few commands use: one file each in dist/vendor/. */
const VENDOR = ['libsodium-wrappers-sumo', '@smithy/signature-v4', '@aws-crypto/sha256-js', 'simple-git', 'jmespath'];
const vendorFile = (name) => `vendor/${name.replace('/', '__')}.cjs`;

/**
 * libsodium.js carries its WebAssembly as 300 KB of base64 in its source and decodes it with a loop in
 * JavaScript at every start (~7 ms here), and that string also filled a third of the code cache. The build
 * writes the bytes to dist/wasm/ and the bundle reads them from there. If a libsodium release changes that
 * code, the pattern no longer matches and the build warns and keeps it as it is.
 */
const wasmFiles = new Map();
const wasmFile = (fromDir) => ({
  name: 'libsodium-wasm-file',
  setup(b) {
    b.onLoad({ filter: /[\\/]libsodium(-sumo)?[\\/]dist[\\/].*\.mjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const name = `wasm/${args.path.includes('libsodium-sumo') ? 'libsodium-sumo' : 'libsodium'}.wasm`;
      const patched = text.replace(/\(\w+=>\{for\(var [^{}]*?;return \w+\}\)\("(AGFzbQ[A-Za-z0-9+/=]+)"\)/, (_, base64) => {
        wasmFiles.set(name, Buffer.from(base64, 'base64'));
        return `require("node:fs").readFileSync(require("node:path").join(__dirname, ${JSON.stringify(`${fromDir}${name}`)}))`;
      });
      if (patched === text) console.warn(`build: ${args.path}: libsodium's embedded WebAssembly not found; kept as is (slower start)`);
      return { contents: patched, loader: 'js' };
    });
  },
});

/**
 * Imports of the vendored packages become a require of their dist/vendor/ file, made when the importing
 * module first runs (for import(): when it is called). A plain external would keep import() as it is.
 */
const vendored = {
  name: 'vendored',
  setup(b) {
    const filter = new RegExp(`^(${VENDOR.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'vendored' }));
    // An ES module re-exporting the file, so a default export stays the package's default (as Node's import gives it).
    b.onLoad({ filter: /.*/, namespace: 'vendored' }, (args) => {
      const file = JSON.stringify(`./${vendorFile(args.path)}`);
      return { contents: `import * as m from ${file}; export * from ${file}; export default m.default;`, loader: 'js' };
    });
    b.onResolve({ filter: /^\.\/vendor\//, namespace: 'vendored' }, (args) => ({ path: args.path, external: true }));
  },
};

const common = {
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  // The agent's build id (a client of another build restarts it), and `secretstore --version` without
  // reading package.json at run time (src/cli/version.ts).
  define: {
    __SECRETSTORE_BUILD__: JSON.stringify(buildId),
    __SECRETSTORE_VERSION__: JSON.stringify(version),
    'import.meta.url': '__secretstoreModuleUrl',
  },
  // The sources are ES modules, so strict: the directive must open the file, before the banner.
  banner: { js: '"use strict";\nvar __secretstoreModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
};

// Built in memory and written only when every part succeeded, so a failed build leaves the last good one.
const outputs = [];
const entry = await build({ ...common, entryPoints: { secretstore: 'src/cli/bin.ts' }, outdir: 'dist' });
const program = await build({ ...common, entryPoints: { program: 'src/cli/in-process.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' }, plugins: [vendored, wasmFile('')] });
outputs.push(...entry.outputFiles, ...program.outputFiles);
for (const name of VENDOR) {
  // Imported as our code imports it (the package's ES module build, where it has one), default export included.
  const vendor = (withDefault) =>
    build({
      ...common,
      stdin: { contents: `export * from '${name}';${withDefault ? ` export { default } from '${name}';` : ''}`, resolveDir: '.', loader: 'js' },
      outfile: `dist/${vendorFile(name)}`,
      plugins: [wasmFile('../')],
      logLevel: 'silent',
    });
  outputs.push(...(await vendor(true).catch(() => vendor(false))).outputFiles);
}
for (const file of outputs) {
  // The program runs through vm.Script, which has no loader for import(): every import must have become a require.
  if (/\bimport\(["'`]/.test(file.text) && !file.path.includes('/vendor/')) throw new Error(`build: ${file.path} still has a dynamic import() (${(file.text.match(/.{0,80}\bimport\(["'`].{0,40}/) ?? [""])[0]}); import Node built-ins statically`);
}
const entryText = entry.outputFiles[0].text;
for (const heavy of ['node_modules/commander', 'node_modules/yaml', 'src/cli/main.ts']) {
  if (entryText.includes(`// ${heavy}`)) throw new Error(`build: the entry must stay small, but it bundles ${heavy}`);
}

rmSync('dist/chunks', { recursive: true, force: true });
rmSync('dist/vendor', { recursive: true, force: true });
rmSync('dist/wasm', { recursive: true, force: true });
mkdirSync('dist/wasm', { recursive: true });
for (const [name, bytes] of wasmFiles) writeFileSync(`dist/${name}`, bytes);
for (const file of outputs) {
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.contents);
}
chmodSync('dist/secretstore.js', 0o755);
// The package is "type": "module" (the library); the CLI files in dist/ are CommonJS.
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { stdio: 'inherit' });
writeFileSync('dist/lib/package.json', '{ "type": "module" }\n');
