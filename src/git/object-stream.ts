/**
 * Whole-store reads (list-secrets at 10,000 secrets): one `git ls-tree -r` for the paths, then every
 * object at once through one `git cat-file --batch --buffer`. The long-lived reader (objects.ts) has git
 * flush after each answer, so a single read is answered at once; for 10,000 objects that is 10,000
 * writes, wake-ups and promises. Here all names are written at once, git answers in full buffers, and
 * each object is handed on as it arrives, so parsing overlaps git's work. Nothing is kept.
 */
import { spawn } from 'node:child_process';
import { debugGit } from '../debug.js';
import { GitCommandError, gitEnv } from './env.js';
import { batchHeader } from './objects.js';

/** A one-shot git process: its stdout in chunks to `data`, settled when it exits (rejected on failure). */
function runGit(repoRoot: string, source: NodeJS.ProcessEnv, args: readonly string[], input: string, data: (chunk: Buffer) => void): Promise<void> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: repoRoot, env: gitEnv(source), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let failed: Error | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        if (!failed) data(chunk);
      } catch (err) {
        failed = err as Error; // the consumer's error (a damaged index) is the answer; git is stopped
        child.kill();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.on('error', () => undefined); // a process that died: `close` says why
    child.on('error', (err) => reject(new GitCommandError(args, null, err.message)));
    child.on('close', (code) => {
      debugGit(args, started, code === 0 ? undefined : code);
      if (failed) reject(failed);
      else if (code !== 0) reject(new GitCommandError(args, code, stderr));
      else resolve();
    });
    child.stdin.end(input);
  });
}

/** Every blob (and link) below `tree`: path relative to it, mode and object id, in git's order. */
export async function listTree(repoRoot: string, source: NodeJS.ProcessEnv, tree: string): Promise<{ path: string; mode: string; oid: string }[]> {
  const chunks: Buffer[] = [];
  await runGit(repoRoot, source, ['ls-tree', '-r', '-z', tree], '', (chunk) => chunks.push(chunk));
  const out: { path: string; mode: string; oid: string }[] = [];
  for (const line of Buffer.concat(chunks).toString('utf8').split('\0')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const [mode, , oid] = line.slice(0, tab).split(' ') as [string, string, string];
    out.push({ path: line.slice(tab + 1), mode, oid });
  }
  return out;
}

/**
 * Reads `oids` in order, calling `each(i, content)` as each arrives (`undefined`: git has no such
 * object). An error thrown by `each` stops the read and rejects with it.
 */
export async function streamObjects(
  repoRoot: string,
  source: NodeJS.ProcessEnv,
  oids: readonly string[],
  each: (i: number, content: Buffer | undefined) => void,
): Promise<void> {
  if (oids.length === 0) return;
  let buffer: Buffer = Buffer.alloc(0);
  let next = 0;
  await runGit(repoRoot, source, ['cat-file', '--batch', '--buffer'], `${oids.join('\n')}\n`, (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    let at = 0;
    for (;;) {
      const eol = buffer.indexOf(0x0a, at);
      if (eol < 0) break;
      const header = batchHeader(buffer.toString('latin1', at, eol));
      if (header === undefined) {
        each(next++, undefined);
        at = eol + 1;
        continue;
      }
      const end = eol + 1 + header.size;
      if (buffer.length < end + 1) break; // the rest of this object is still coming
      each(next++, buffer.subarray(eol + 1, end));
      at = end + 1;
    }
    buffer = buffer.subarray(at);
  });
  if (next !== oids.length) throw new GitCommandError(['cat-file'], 0, `git cat-file answered ${next} of ${oids.length} objects`);
}
