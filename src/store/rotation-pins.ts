/**
 * Rotation commands run code from the repository, so what they run is pinned in the signed index: when
 * `rotate-secret` sets a command, every word of it that names a regular file inside the repository is
 * recorded with the sha256 of its content (`rotation.pins`, repository-relative paths). Before any step
 * runs, each pinned file must still hold that content, and the command may name no other repository
 * file; otherwise nothing runs. A command naming no repository file is pinned by its text alone (it is in
 * the signed index). Files a script reads or sources itself are its author's business (docs/trust.md).
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import type { SecretIndex } from '../model/store.js';
import type { StoreLocation } from '../model/repository.js';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The words of a command, with shell quotes taken off (a close reading, not a shell: enough to find file names). */
function words(command: string): string[] {
  return (command.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^(["'])(.*)\1$/, '$2'));
}

/** Repository-relative paths of the words that name a regular file inside the repository (not under .git). */
export function repositoryFiles(loc: StoreLocation, command: string): string[] {
  const found = new Set<string>();
  for (const word of words(command)) {
    if (word === '' || word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    const abs = resolve(loc.root, word);
    const rel = relative(loc.repoRoot, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep)[0] === '.git') continue;
    const st = lstatSync(abs, { throwIfNoEntry: false });
    // A link is pinned as the file it is: a later change of its target shows as a changed file.
    if (st && (st.isFile() || st.isSymbolicLink())) found.add(rel.split(sep).join('/'));
  }
  return [...found].sort();
}

function hashOf(loc: StoreLocation, path: string): string | undefined {
  const abs = resolve(loc.repoRoot, path);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (!st?.isFile()) return undefined; // gone, a folder, or a link now
  return sha256(readFileSync(abs));
}

/** The pins of a command: each repository file it names, with the sha256 of its content now. */
export function pinCommand(loc: StoreLocation, command: string): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const path of repositoryFiles(loc, command)) {
    const hash = hashOf(loc, path);
    if (hash === undefined) {
      throw new InvalidRequestException(`the rotation command names ${path}, which is not a regular file (a link?); name the file itself`);
    }
    pins[path] = hash;
  }
  return pins;
}

/** Refuses to run a rotation command whose pinned files changed, or that names a repository file not pinned. */
export function checkPins(loc: StoreLocation, secret: string, command: string, pins: Readonly<Record<string, string>> = {}): void {
  const repin = `a writer who has checked it re-pins it with: secretstore rotate-secret --secret-id ${secret} --rotation-lambda-arn '${command.replace(/'/g, "'\\''")}'`;
  for (const path of repositoryFiles(loc, command)) {
    if (!(path in pins)) throw new InvalidRequestException(`the rotation command of secret ${secret} names ${path}, which is not pinned in its index; refusing to run it: ${repin}`);
  }
  for (const [path, hash] of Object.entries(pins)) {
    if (hashOf(loc, path) !== hash) {
      throw new InvalidRequestException(`the rotation command of secret ${secret} runs ${path}, which changed since it was pinned; refusing to run it: ${repin}`);
    }
  }
}

/** For verify: the pinned files (repository-relative) whose committed content is not the pinned one, and why. */
export async function pinProblems(
  index: SecretIndex,
  committed: (repoPath: string) => Promise<Uint8Array | undefined>,
): Promise<{ file: string; why: string }[]> {
  const problems: { file: string; why: string }[] = [];
  for (const [file, hash] of Object.entries(index.rotation?.pins ?? {})) {
    const bytes = await committed(file);
    if (bytes === undefined) problems.push({ file, why: 'it is not committed' });
    else if (sha256(bytes) !== hash) problems.push({ file, why: 'its committed content is not the pinned one (edited without re-pinning)' });
  }
  return problems;
}
