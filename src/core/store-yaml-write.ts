/**
 * A fast writer for the YAML our encoders write (`secret.yaml`, `.secretstore.yaml`, sealed files): the
 * mirror of the fast reader (src/core/store-yaml.ts). It writes exactly the text the `yaml` package's
 * `stringify(value, { lineWidth: 0 })` writes (core schema, block style, two-space indent, lists indented
 * under their key), or returns `undefined` for anything it does not fully know: a string that would be
 * quoted, folded or written as a block (empty, multi-line, with `: ` or ` #`, reading as a number, a
 * boolean or null, starting with an indicator...), a long key, null, undefined, a non-integer number, an
 * object met twice (the package writes an anchor and an alias), a list directly in a list, anything but
 * plain objects and arrays. The caller then asks the `yaml` package, which stays the authority. A put
 * writes an index and a sealed file; the general stringifier costs it about a millisecond per hundred
 * versions, this writer a small fraction of that.
 * test/properties/store-yaml-write.test.ts checks it byte for byte against the package.
 */
import { readsAsPlainString } from './store-yaml.js';

/** The fast reader's alphabet (printable ASCII and most of the Basic Multilingual Plane), without line breaks or edge spaces. */
const PLAIN_TEXT = /^[\x21-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd](?:[\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*[\x21-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd])?$/;
/** The package writes these (document markers) as a block or quoted, depending on where they stand. */
const MARKER = /^(?:---|\.\.\.)/;
/** Longer keys are written as explicit (`? key`) keys by the package. */
const MAX_KEY = 1000;

const DECLINE = Symbol('decline');

/** Most of an index: VersionIds (UUIDs) and timestamps (toISOString), plain whatever their digits; one test instead of five. */
const COMMON = /^(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/;

function plainString(text: string): boolean {
  return COMMON.test(text) || (PLAIN_TEXT.test(text) && !MARKER.test(text) && readsAsPlainString(text));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A scalar on its line, or DECLINE. */
function scalar(value: unknown): string | typeof DECLINE {
  switch (typeof value) {
    case 'string':
      return plainString(value) ? value : DECLINE;
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : DECLINE;
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return DECLINE;
  }
}

class Writer {
  readonly out: string[] = [];
  /** Objects written so far: one met again would be an alias in the package's text. */
  private readonly seen = new Set<object>();

  /** A map's entries; the first line starts with `first` (a list item's `- `), the others with `indent`. */
  map(value: Record<string, unknown>, indent: string, first = indent): boolean {
    if (this.seen.has(value)) return false;
    this.seen.add(value);
    let lead = first;
    for (const key of Object.keys(value)) {
      if (key.length > MAX_KEY || !plainString(key)) return false;
      this.out.push(lead, key, ':');
      lead = indent;
      if (!this.value(value[key], indent + '  ', false)) return false;
    }
    return true;
  }

  /** What follows `key:` or `-`: ` scalar`, ` {}`, ` []`, or the nested block on the next lines. */
  private value(value: unknown, indent: string, inList: boolean): boolean {
    if (Array.isArray(value)) {
      if (inList) return false;
      if (value.length === 0) return this.empty(value, '[]');
      this.out.push('\n');
      return this.list(value, indent);
    }
    if (isRecord(value)) {
      if (Object.keys(value).length === 0) return this.empty(value, '{}');
      if (inList) return this.map(value, indent, ' ');
      this.out.push('\n');
      return this.map(value, indent);
    }
    const text = scalar(value);
    if (text === DECLINE) return false;
    this.out.push(' ', text, '\n');
    return true;
  }

  private empty(value: object, text: string): boolean {
    if (this.seen.has(value)) return false;
    this.seen.add(value);
    this.out.push(' ', text, '\n');
    return true;
  }

  private list(value: readonly unknown[], indent: string): boolean {
    if (this.seen.has(value)) return false;
    this.seen.add(value);
    for (const item of value) {
      this.out.push(indent, '-');
      if (!this.value(item, indent + '  ', true)) return false;
    }
    return true;
  }
}

/**
 * The text `yaml`'s `stringify(value, { lineWidth: 0 })` (core schema) writes for `value`, or undefined
 * when `value` holds anything this writer does not fully know (the caller then asks the package).
 */
export function writeStoreYaml(value: Record<string, unknown>): string | undefined {
  if (!isRecord(value) || Object.keys(value).length === 0) return undefined;
  const writer = new Writer();
  return writer.map(value, '') ? writer.out.join('') : undefined;
}
