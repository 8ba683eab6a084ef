/**
 * A fast reader for the YAML our own encoders write (`secret.yaml`, `.secretstore.yaml`, sealed files):
 * block maps and lists indented by spaces, one scalar per line, plain or single-line quoted scalars, and
 * the empty `{}` / `[]`. It returns exactly what the `yaml` package's core schema would (`toJS()`), or
 * `undefined` when the text holds anything else: comments after content, flow collections, block
 * scalars, anchors, tags, tabs, document markers, floats... Those texts are read by the `yaml` package
 * (src/core/yaml-value.ts), which stays the authority; this reader only saves a get or a list from
 * loading and running the general parser for the files it writes itself.
 * test/properties/store-yaml.test.ts checks the two agree on every file the encoders write and on
 * random edits of them.
 */

/** One line: its indent, and the text after it (never empty, never starting or ending with a space). */
interface Line {
  readonly indent: number;
  readonly text: string;
}

const DECLINE = Symbol('decline');
type Read<T> = T | typeof DECLINE;

/**
 * A plain scalar we accept: no indicator at its start (`-`, `?` and `:` only before a non-space), no `: `
 * or ` #` inside, no `:` or space at its end.
 */
const BAD_START = /^(?:[,[\]{}#&*!|>'"%@`\s]|[-?:](?!\S))/;
function plain(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return text !== '' && last !== 0x3a && last !== 0x20 && !text.includes(': ') && !text.includes(' #') && !BAD_START.test(text);
}
/** Plain scalars that may be numbers start with one of these. */
const MAYBE_NUMBER = /^[-+.0-9]/;
/** The core schema's non-string plain scalars (yaml/dist/schema/core). */
const NULL = /^(?:~|[Nn]ull|NULL)$/;
const TRUE = /^(?:[Tt]rue|TRUE)$/;
const FALSE = /^(?:[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
/** The integers whose value we are sure of: no sign games, no leading zeros, exact in a double. */
const PLAIN_INT = /^(?:0|-?[1-9][0-9]{0,14})$/;
const OTHER_NUMBER = /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** The escapes JSON and YAML read alike. */
const DOUBLE_QUOTED = /^"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"$/;
const SINGLE_QUOTED = /^'(?:[^']|'')*'$/;

/**
 * A character no line of ours holds (ours: printable ASCII and Unicode but C1 controls, line separators,
 * the BOM and anything beyond the Basic Multilingual Plane; checked once over the whole text), or a line
 * ending in a space.
 */
const UNSAFE = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]| \n| $/;

function lines(text: string): Line[] | undefined {
  if (UNSAFE.test(text)) return undefined;
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let indent = 0;
    while (raw.charCodeAt(indent) === 0x20) indent++;
    if (indent === raw.length) return undefined;
    if (raw.charCodeAt(indent) === 0x23 /* # */) {
      // A comment is ours only before the content begins (the header line every file starts with).
      if (out.length > 0 || indent > 0) return undefined;
      continue;
    }
    out.push({ indent, text: indent === 0 ? raw : raw.slice(indent) });
  }
  return out;
}

function scalar(text: string): Read<unknown> {
  if (text.startsWith('"')) return DOUBLE_QUOTED.test(text) ? (JSON.parse(text) as string) : DECLINE;
  if (text.startsWith("'")) return SINGLE_QUOTED.test(text) ? text.slice(1, -1).replaceAll("''", "'") : DECLINE;
  if (text === '{}') return {};
  if (text === '[]') return [];
  if (!plain(text)) return DECLINE;
  switch (text.charCodeAt(0)) {
    case 0x7e /* ~ */:
    case 0x6e /* n */:
    case 0x4e /* N */:
      return NULL.test(text) ? null : text;
    case 0x74 /* t */:
    case 0x54 /* T */:
      return TRUE.test(text) ? true : text;
    case 0x66 /* f */:
    case 0x46 /* F */:
      return FALSE.test(text) ? false : text;
    default:
      if (!MAYBE_NUMBER.test(text)) return text;
      if (INT.test(text)) return PLAIN_INT.test(text) ? Number(text) : DECLINE;
      if (OTHER_NUMBER.test(text)) return DECLINE;
  }
  return text;
}

/**
 * Whether `text` reads back as itself written plain (no quotes): the test the fast writer
 * (src/core/store-yaml-write.ts) applies to every key and string, on top of its own narrower alphabet.
 */
export function readsAsPlainString(text: string): boolean {
  return scalar(text) === text;
}

/** The index just after the quoted scalar `text` starts with, or -1. */
function closingQuote(text: string): number {
  const quote = text[0]!;
  for (let at = 1; at < text.length; at++) {
    const c = text[at];
    if (quote === '"' && c === '\\') at++;
    else if (c === quote) {
      if (quote === "'" && text[at + 1] === "'") at++;
      else return at + 1;
    }
  }
  return -1;
}

/** `key: rest` or `key:` → [key, rest]; keys are plain or quoted strings. */
function keyOf(text: string): Read<[string, string]> {
  let end: number;
  if (text.startsWith('"') || text.startsWith("'")) {
    end = closingQuote(text);
    if (end < 0) return DECLINE;
    if (text[end] !== ':') return DECLINE;
  } else {
    end = text.indexOf(': ');
    if (end < 0) end = text.endsWith(':') ? text.length - 1 : -1;
    if (end <= 0) return DECLINE;
  }
  const key = scalar(text.slice(0, end));
  if (typeof key !== 'string' || key === '__proto__') return DECLINE;
  const rest = text.slice(end + 1);
  if (rest === '') return [key, ''];
  if (!rest.startsWith(' ')) return DECLINE;
  return [key, rest.slice(1)];
}

class Reader {
  at = 0;
  constructor(private readonly all: readonly Line[]) {}

  /** A block map whose keys sit at `indent`; `first` is an already-cut first line (after `- `). */
  map(indent: number, first?: string): Read<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    let text = first;
    for (;;) {
      if (text === undefined) {
        const line = this.all[this.at];
        if (line === undefined || line.indent < indent) return out;
        if (line.indent > indent || line.text.startsWith('- ') || line.text === '-') return DECLINE;
        text = line.text;
        this.at++;
      }
      const entry = keyOf(text);
      text = undefined;
      if (entry === DECLINE) return DECLINE;
      const [key, rest] = entry;
      if (Object.hasOwn(out, key)) return DECLINE;
      const value = rest === '' ? this.nested(indent) : scalar(rest);
      if (value === DECLINE) return DECLINE;
      out[key] = value;
    }
  }

  /** What follows `key:` with nothing after it: a deeper map, a list (at the key's indent or deeper), or null. */
  private nested(parent: number): Read<unknown> {
    const line = this.all[this.at];
    if (line === undefined || line.indent < parent) return null;
    if (line.text.startsWith('- ')) return this.list(line.indent);
    if (line.indent === parent) return null;
    return this.map(line.indent);
  }

  private list(indent: number): Read<unknown[]> {
    const out: unknown[] = [];
    for (;;) {
      const line = this.all[this.at];
      if (line === undefined || line.indent < indent) return out;
      if (line.indent > indent || !line.text.startsWith('- ')) {
        // the list ends where its parent map goes on; anything else is a shape we do not write
        return line.indent === indent && out.length > 0 ? out : DECLINE;
      }
      this.at++;
      const item = line.text.slice(2);
      if (item.startsWith(' ') || item.startsWith('- ')) return DECLINE;
      const value = keyOf(item) === DECLINE ? scalar(item) : this.map(indent + 2, item);
      if (value === DECLINE) return DECLINE;
      out.push(value);
    }
  }
}

/**
 * The value of `text` as the `yaml` package's core schema reads it, or undefined when the text is not in
 * the forms our encoders write (the caller then asks the `yaml` package).
 */
export function readStoreYaml(text: string): Record<string, unknown> | undefined {
  const all = lines(text);
  if (all === undefined || all.length === 0 || all[0]!.indent !== 0) return undefined;
  const reader = new Reader(all);
  const value = reader.map(0);
  return value === DECLINE || reader.at !== all.length ? undefined : value;
}
