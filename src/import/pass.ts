/**
 * Reading a `pass` store for `secretstore import pass`: every `*.gpg` entry under the store folder, each
 * decrypted by `pass show NAME` itself (so gpg-agent, pinentry and the store's own settings apply). A value
 * travels only through the child's stdout pipe: never in an argument, a temp file or an error message.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { InvalidParameterException, InvalidRequestException } from '../errors.js';
import { valueOfBytes, type ImportEntry } from './sources.js';

/** The store folder: the one given, else $PASSWORD_STORE_DIR, else ~/.password-store (as pass finds it). */
export function passStoreDir(dir: string | undefined, env: NodeJS.ProcessEnv): string {
  return dir ?? env.PASSWORD_STORE_DIR ?? join(env.HOME ?? homedir(), '.password-store');
}

/** The entry names (`prod/db` for `prod/db.gpg`), sorted; pass's own folders (.git, .extensions) left out. */
export async function passEntries(dir: string): Promise<string[]> {
  let files: string[];
  try {
    files = (await readdir(dir, { recursive: true })) as string[];
  } catch (err) {
    throw new InvalidParameterException(`cannot read the pass store ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return files
    .filter((f) => f.endsWith('.gpg') && !f.split(sep).some((part) => part.startsWith('.')))
    .map((f) => relative('.', f.slice(0, -'.gpg'.length)).split(sep).join('/'))
    .sort();
}

/** `pass show NAME`: its stdout as bytes, read from the pipe. */
function passShow(name: string, dir: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('pass', ['show', name], { env: { ...env, PASSWORD_STORE_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new InvalidRequestException(e.code === 'ENOENT' ? 'import pass needs the pass command on PATH' : `pass show ${name}: ${e.message}`)),
    );
    child.on('close', (code) => {
      const bytes = Buffer.concat(out);
      if (code === 0) return resolve(bytes);
      bytes.fill(0);
      reject(new InvalidRequestException(`pass show ${name} failed (exit ${code}): ${err.trim().split('\n')[0] ?? ''}`));
    });
  });
}

/**
 * Every entry of the store as an import entry named `prefix` + its pass name. The whole entry is the value
 * (password line and any lines after it), without its trailing newline, as `set` stores stdin.
 */
export async function readPassStore(dir: string, env: NodeJS.ProcessEnv, prefix = ''): Promise<ImportEntry[]> {
  const names = await passEntries(dir);
  const entries: ImportEntry[] = [];
  // A few at a time: each is a gpg process, and gpg-agent serves them in parallel.
  for (let i = 0; i < names.length; i += 4) {
    const batch = names.slice(i, i + 4);
    const values = await Promise.all(batch.map((name) => passShow(name, dir, env)));
    batch.forEach((name, j) => {
      entries.push({ name: `${prefix}${name}`, value: valueOfBytes(values[j]!, false) });
      values[j]!.fill(0);
    });
  }
  return entries;
}
