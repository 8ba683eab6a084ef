/**
 * Trust in `.secretstore.yaml` (issue #4): it lists the writers every other signature is checked against,
 * so a change to it must be signed by an unscoped writer of the configuration it replaces. Reads check it
 * against a per-clone pin of the last configuration this clone trusted (trust on first use, as ssh's
 * known_hosts): `<git dir>/secretstore-cache/trusted-config-<store>.yaml`.
 *
 * - Same unsigned text as the pin: trusted, at the cost of one small read and a hash.
 * - Otherwise it must be signed by an unscoped writer of the pinned configuration, or be reached from it
 *   through the history of the file (each commit signed by a writer of the one before: several changes
 *   since this clone last read the store). Then it becomes the pin.
 * - No pin (a fresh clone): a configuration signed by a writer it names itself is pinned; `secretstore
 *   verify` walks the whole history from the first commit.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, parseConfig } from '../core/codec.js';
import { checkSigned, sha256Hex, splitSigned } from '../core/signature.js';
import type { StoreConfig } from '../model/store.js';
import { refuseUntrusted, verifyWriter, type TrustOptions } from './trust.js';
import type { StoreLocation } from './types.js';

function pinFile(loc: StoreLocation): string {
  const id = createHash('sha256').update(loc.prefix).digest('hex').slice(0, 16);
  return join(loc.gitDir, 'secretstore-cache', `trusted-config-${id}.yaml`);
}

function readPin(loc: StoreLocation): string | undefined {
  try {
    return readFileSync(pinFile(loc), 'utf8');
  } catch {
    return undefined;
  }
}

/** Records `text` as the configuration this clone trusts (also after a write that signed it). */
export function pinConfig(loc: StoreLocation, text: string): void {
  const file = pinFile(loc);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(join(loc.gitDir, 'secretstore-cache'), { recursive: true });
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch {
    // A read-only git dir: the next read checks again.
  }
}

const unsignedHash = (text: string) => sha256Hex(splitSigned(text).unsigned);

/** Whether `text` is signed by an unscoped writer of `trusting` (a parsed configuration). */
function signedBy(text: string, config: StoreConfig, trusting: StoreConfig) {
  return checkSigned(splitSigned(text), { storeId: config.storeId, path: CONFIG_FILE, name: undefined }, trusting.writers, verifyWriter);
}

/**
 * Checks the configuration text `text` (already parsed as `config`) against the pin; refuses it
 * (InvalidRequestException) or, with allowUnsigned, warns. One read and a hash when nothing changed.
 */
export async function checkConfigTrust(loc: StoreLocation, text: string, config: StoreConfig, trust: TrustOptions): Promise<void> {
  const pin = readPin(loc);
  if (pin !== undefined && unsignedHash(pin) === unsignedHash(text)) return;
  let pinned: StoreConfig | undefined;
  try {
    pinned = pin === undefined ? undefined : parseConfig(pin, CONFIG_FILE);
  } catch {
    pinned = undefined; // a damaged pin is no pin
  }
  const verdict = signedBy(text, config, pinned ?? config);
  if (verdict.ok || (pinned !== undefined && (await reachedThroughHistory(loc, pin!, text)))) {
    pinConfig(loc, text);
    return;
  }
  const why = verdict.why.replace('the store configuration', pinned ? 'the store configuration this clone last trusted' : 'the store configuration');
  refuseUntrusted(trust, `${CONFIG_FILE} ${why}`);
}

/** Whether the committed history of the file leads from the pinned text to `text`, each step signed by a writer of the one before. */
async function reachedThroughHistory(loc: StoreLocation, pin: string, text: string): Promise<boolean> {
  const { openGit, readTexts } = await import('./git.js');
  const git = openGit(loc.repoRoot);
  const path = `${loc.prefix}${CONFIG_FILE}`;
  const commits = (await git.run(['log', '--reverse', '--format=%H', '--no-renames', '--', path]).catch(() => '')).split('\n').filter(Boolean);
  const texts = await readTexts(loc.repoRoot, commits.map((c) => `${c}:${path}`));
  const start = texts.map((t) => (t === undefined ? '' : unsignedHash(t))).lastIndexOf(unsignedHash(pin));
  if (start < 0) return false;
  let trusted = parseConfig(texts[start]!, CONFIG_FILE);
  const steps = [...(texts.slice(start + 1) as (string | undefined)[])];
  if (steps.length === 0 || steps[steps.length - 1] !== text) steps.push(text); // the work tree differs from the last commit
  for (const step of steps) {
    if (step === undefined) return false;
    try {
      const next = parseConfig(step, CONFIG_FILE);
      if (!signedBy(step, next, trusted).ok) return false;
      trusted = next;
    } catch {
      return false;
    }
  }
  return true;
}

/** `.secretstore.yaml` read, parsed and checked against the pin (see above). */
export async function readTrustedConfig(loc: StoreLocation, trust: TrustOptions): Promise<StoreConfig> {
  const { readConfigFile } = await import('./view.js');
  // One read: the text whose signature is checked is the text that was parsed.
  const { text, config } = await readConfigFile(loc.root); // says what is wrong when it is missing or damaged
  await checkConfigTrust(loc, text, config, trust);
  return config;
}

/**
 * The configuration a signer must be a writer of, when `text` (HEAD's) may itself be untrusted (a hand
 * edit committed without a signature, or one signed by an outsider): `text`'s if it passes the check,
 * else the one this clone pinned last; undefined when there is neither.
 */
export async function trustedBaseConfig(loc: StoreLocation, text: string): Promise<StoreConfig | undefined> {
  try {
    const config = parseConfig(text, CONFIG_FILE);
    await checkConfigTrust(loc, text, config, {});
    return config;
  } catch {
    const pin = readPin(loc);
    try {
      return pin === undefined ? undefined : parseConfig(pin, CONFIG_FILE);
    } catch {
      return undefined;
    }
  }
}
