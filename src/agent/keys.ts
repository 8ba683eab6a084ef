/**
 * The agent's identity keys, as gpg-agent caches passphrases: one entry per identity file, keyed by its
 * absolute path and checked against the file's stat stamp (mtime, ctime, size, inode) on every use, so a
 * `keygen --force` or `identity protect` is noticed. An entry is dropped (its keys zeroed with
 * sodium.memzero, through `dispose`) when it has not been used for `ttlMs` (default 10 minutes, refreshed
 * on use, as gpg-agent's default-cache-ttl), when the file changed, and when the agent exits. Keys live in
 * memory only; nothing here logs.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IdentityKeys } from '../crypto/identity-file.js';

interface Entry {
  readonly stamp: string;
  readonly keys: Promise<IdentityKeys>;
  settled?: IdentityKeys;
  timer?: NodeJS.Timeout;
}

function stampOf(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly dispose: (keys: IdentityKeys) => void,
  ) {}

  /** The keys of the file at `path` (relative to the request's folder): cached, or read with `read`. */
  get(path: string, read: () => Promise<IdentityKeys>): Promise<IdentityKeys> {
    const file = resolve(path);
    const stamp = stampOf(file);
    const cached = this.entries.get(file);
    if (cached && cached.stamp === stamp) {
      this.touch(file, cached);
      return cached.keys;
    }
    if (cached) this.drop(file);
    // A file that cannot be stat'ed is not cached: reading it says what is wrong.
    if (stamp === undefined) return read();
    const entry: Entry = { stamp, keys: read() };
    this.entries.set(file, entry);
    entry.keys.then(
      (keys) => {
        entry.settled = keys;
        if (this.entries.get(file) !== entry) this.dispose(keys); // dropped while it was being read
      },
      () => {
        if (this.entries.get(file) === entry) this.drop(file); // a wrong passphrase is asked again next time
      },
    );
    this.touch(file, entry);
    return entry.keys;
  }

  /** The identity files held (paths only). */
  paths(): string[] {
    return [...this.entries.keys()];
  }

  /** Zeroes and forgets every key (agent stop, exit). */
  clear(): void {
    for (const file of [...this.entries.keys()]) this.drop(file);
  }

  private touch(file: string, entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.drop(file), this.ttlMs);
    entry.timer.unref();
  }

  private drop(file: string): void {
    const entry = this.entries.get(file);
    if (!entry) return;
    this.entries.delete(file);
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.settled) this.dispose(entry.settled);
  }
}
