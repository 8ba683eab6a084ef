/**
 * Loads the program (dist/program.cjs, src/cli/in-process.ts) with a V8 code cache, so a cold command does
 * not parse and compile a megabyte of JavaScript on every run: most of a cold get's time was compiling
 * modules. Node 20 has no compile cache for modules (module.enableCompileCache is Node 22), so the program is
 * one CommonJS file run through `vm.Script`, whose `cachedData` V8 checks and takes or rejects.
 *
 * The cache is built lazily, never by an install step: a command that finds no usable cache for itself runs
 * as before and then writes the code V8 compiled during that run (bytecode of the functions it used), one
 * file per command name, so a get's cache holds what a get runs. It lives in
 * `$XDG_CACHE_HOME/secretstore/code` (default `~/.cache/...`), under a folder named for the program file's
 * size and CRC-32 and the Node version, so an upgrade or a rebuild never meets a stale cache (older folders
 * are removed when a new one is written). The folder must be this user's and closed to others (cached code
 * runs as this user), each file carries a CRC-32 of its bytes, and V8 checks its own version and flags:
 * anything that fails is ignored and rewritten, never an error. `SECRETSTORE_CODE_CACHE=off` turns it off.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Script } from 'node:vm';
import type * as InProcess from './in-process.js';
import { debugFromEnv } from '../debug.js';

// Required when the program is loaded, not when the entry starts: a command the agent answers never needs
// them, and loading Node's own modules is a good part of a client's time.
const nodeRequire = createRequire(import.meta.url);

export type Program = typeof InProcess;

const MAGIC = 'ssc1';
/** Node's own CommonJS wrapper, so the file runs as `require` would run it. */
const WRAP = ['(function (exports, require, module, __filename, __dirname) { ', '\n});'] as const;

type Crc32 = (data: Uint8Array) => number;

function cacheRoot(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const base = env.XDG_CACHE_HOME || join((nodeRequire('node:os') as typeof import('node:os')).homedir(), '.cache');
    return join(base, 'secretstore', 'code');
  } catch {
    return undefined; // no home folder (os.homedir() throws in some containers): no cache
  }
}

/** Ours and not writable by anyone else (group or others), or the cache is not used. */
function privateFolder(path: string): boolean {
  const st = lstatSync(path);
  return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

/** The command's file name, or undefined when the command line names none worth a cache of its own. */
function cacheName(command: string | undefined): string | undefined {
  return command !== undefined && /^[a-z][a-z0-9-]{0,63}$/.test(command) ? command : command === undefined ? 'none' : undefined;
}

interface Loaded {
  readonly program: Program;
  /** Call once the command has finished: writes the cache if this run had none it could use. */
  readonly finished: (exitCode: number) => void;
}

/** Loads `file` (dist/program.cjs) for `command`, with the cache when there is a usable one. */
export function loadProgram(file: string, env: NodeJS.ProcessEnv, command: string | undefined, argv: readonly string[]): Loaded {
  const { Script } = nodeRequire('node:vm') as typeof import('node:vm');
  // zlib.crc32 came with Node 20.15; without it there is no cache (its files could not be checked).
  const crc32 = (nodeRequire('node:zlib') as { crc32?: Crc32 }).crc32;
  const source = readFileSync(file);
  const root = env.SECRETSTORE_CODE_CACHE === 'off' || crc32 === undefined ? undefined : cacheRoot(env);
  const name = cacheName(command);
  const folder = root === undefined || name === undefined ? undefined : join(root, `${source.length}-${crc32!(source).toString(16)}-${process.version}-${process.arch}`);
  const cacheFile = folder === undefined ? undefined : join(folder, `${name}.bin`);
  const cached = cacheFile === undefined ? undefined : readCache(folder!, cacheFile, crc32!);
  const script = new Script(WRAP[0] + source.toString('utf8') + WRAP[1], { filename: file, ...(cached ? { cachedData: cached } : {}) });
  // The --debug log's first line, as the program's own log (src/debug.ts) would print it.
  const debug = debugFromEnv(env) || argv.includes('--debug') ? (line: string) => process.stderr.write(`[debug] ${line}\n`) : undefined;
  const state = cacheFile === undefined ? 'off' : cached === undefined ? 'none yet' : script.cachedDataRejected ? 'rejected by V8' : 'used';
  debug?.(`code cache: ${state}${cacheFile === undefined ? '' : ` (${cacheFile})`}`);
  const module = { exports: {} as Program };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  // Help and failed runs compile little of what the command really runs: their cache would stay poor.
  const worthKeeping = !argv.includes('--help') && !argv.includes('-h');
  return {
    program: module.exports,
    finished: (exitCode) => {
      if (cacheFile === undefined || state === 'used' || exitCode !== 0 || !worthKeeping) return;
      if (writeCache(root!, folder!, cacheFile, script, crc32!)) debug?.(`code cache: written (${cacheFile})`);
    },
  };
}

function readCache(folder: string, file: string, crc32: Crc32): Buffer | undefined {
  try {
    if (!privateFolder(folder)) return undefined;
    const bytes = readFileSync(file);
    if (bytes.length < 8 || bytes.toString('latin1', 0, 4) !== MAGIC) return undefined;
    const data = bytes.subarray(8);
    return bytes.readUInt32LE(4) === crc32(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(root: string, folder: string, file: string, script: Script, crc32: Crc32): boolean {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    if (!privateFolder(folder) || !privateFolder(root)) return false;
    // Caches of other builds and Node versions are of no more use.
    for (const entry of readdirSync(root)) if (join(root, entry) !== folder && /^\d+-[0-9a-f]+-v/.test(entry)) rmSync(join(root, entry), { recursive: true, force: true });
    const data = script.createCachedData();
    const header = Buffer.alloc(8);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(crc32(data), 4);
    // Whole or not at all: a reader never sees half a file.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.concat([header, data]), { mode: 0o600 });
    renameSync(temp, file);
    return true;
  } catch {
    // A cache that cannot be written is only a slower next start.
    return false;
  }
}
