/**
 * Secret names and VersionIds to file paths.
 *
 * The mapping must read well in review (`prod/db/password` stays `secrets/prod/db/password/`), be
 * injective, never escape `secrets/`, never let two names share a folder on a case-insensitive file
 * system, and keep every path component within file-name limits. Each `/`-separated part of a name
 * (and each VersionId) becomes one component:
 *
 * - lower-case parts made of name characters stay as they are;
 * - a part with upper-case letters is folded to lower case and gets `~` plus a base-32 mask of the
 *   upper-case positions (`MyDb` -> `mydb~9`), so `MyDb` and `mydb` never collide;
 * - a part that is empty, starts with `.`, holds characters outside the name alphabet (VersionIds may),
 *   or equals a reserved name (`versions`, `secret.yaml`, Windows device names) is written as `~` plus
 *   the base-32 of its bytes;
 * - a component longer than 200 characters is cut into 200-character pieces, each but the last ending
 *   in `~`, so no file name exceeds common 255-byte limits.
 * `~` never occurs in a name, so the three forms cannot be confused with each other.
 */

const PLAIN = /^[a-z0-9_+=.@-]+$/;
const NAME_ALPHABET = /^[A-Za-z0-9_+=.@-]+$/;
const RESERVED = /^(versions|secret\.yaml|con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/;
const MAX_COMPONENT = 200;
const BASE32 = '0123456789abcdefghijklmnopqrstuv';

export const SECRETS_DIR = 'secrets';
export const INDEX_FILE = 'secret.yaml';
export const VERSIONS_DIR = 'versions';
export const SEALED_EXT = '.sealed';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

function upperCaseMask(part: string): string {
  let mask = 0n;
  for (const ch of part) mask = (mask << 1n) | (ch >= 'A' && ch <= 'Z' ? 1n : 0n);
  return mask.toString(32);
}

function encodeComponent(part: string): string {
  const folded = part.toLowerCase();
  let component: string;
  if (part === '' || part.startsWith('.') || !NAME_ALPHABET.test(part) || RESERVED.test(folded)) {
    component = '~' + base32(new TextEncoder().encode(part));
  } else if (PLAIN.test(part)) {
    component = part;
  } else {
    component = `${folded}~${upperCaseMask(part)}`;
  }
  return splitLong(component);
}

function splitLong(component: string): string {
  if (component.length <= MAX_COMPONENT) return component;
  const pieces: string[] = [];
  for (let i = 0; i < component.length; i += MAX_COMPONENT) pieces.push(component.slice(i, i + MAX_COMPONENT));
  return pieces.join('~/');
}

/** The folder of a secret, relative to the store root, e.g. `secrets/prod/db/password`. */
export function secretDir(name: string): string {
  return [SECRETS_DIR, ...name.split('/').map(encodeComponent)].join('/');
}

export function indexPath(name: string): string {
  return `${secretDir(name)}/${INDEX_FILE}`;
}

export function versionsDir(name: string): string {
  return `${secretDir(name)}/${VERSIONS_DIR}`;
}

export function versionFileName(versionId: string): string {
  // VersionIds are at most 64 characters, so this is always a single component.
  return encodeComponent(versionId) + SEALED_EXT;
}

export function versionPath(name: string, versionId: string): string {
  return `${versionsDir(name)}/${versionFileName(versionId)}`;
}
