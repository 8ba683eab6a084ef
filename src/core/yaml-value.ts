/**
 * A YAML text's value, or why it has none. The store's own files are read by the fast reader
 * (src/core/store-yaml.ts); what it declines goes to the `yaml` package, which is loaded only then (or
 * before any write), so a get or a list of ordinary files never loads it.
 *
 * The yaml library reports syntax in `doc.errors`, but an alias without its anchor (`*a`) or an alias
 * bomb (more aliases than `maxAliasCount`) only throws, as a ReferenceError, from `toJS()`; every reader
 * of a store file goes through here so both are a damaged file.
 */
import type { DocumentOptions, ParseOptions, SchemaOptions } from 'yaml';
import { readStoreYaml } from './store-yaml.js';

export type YamlValue = { readonly value: unknown } | { readonly problem: string };
type Options = ParseOptions & DocumentOptions & SchemaOptions;
type YamlLibrary = typeof import('yaml');

let library: YamlLibrary | undefined;
let loading: Promise<YamlLibrary> | undefined;
let fallbacks = 0;

/** Loads the `yaml` package (once). Every path that may read a file the fast reader declines, or writes one, awaits it first. */
export function loadYaml(): Promise<YamlLibrary> {
  // A bundled CommonJS package may arrive as the namespace's default export.
  loading ??= import('yaml').then((m) => (library = 'parseDocument' in m ? m : (m as { default: YamlLibrary }).default));
  return loading;
}

/** For modules that import the package anyway (src/core/yaml-eager.ts). */
export function provideYaml(m: YamlLibrary): void {
  library ??= m;
  loading ??= Promise.resolve(m);
}

/** The loaded package; a path that did not load it first is a bug, said so rather than misread. */
export function yamlLibrary(): YamlLibrary {
  if (library === undefined) throw new Error('internal error: the yaml package was needed before it was loaded (await loadYaml() first)');
  return library;
}

/** Whether this process loaded the `yaml` package for the store's files, and how many texts the fast reader declined. */
export function yamlUse(): { loaded: boolean; fallbacks: number } {
  return { loaded: library !== undefined, fallbacks };
}

/** Options that leave reading as the fast reader does it: the core schema (the default) and output-only ones. */
const NEUTRAL: Readonly<Record<string, unknown>> = { schema: 'core', lineWidth: 0 };

/** The fast reader reads what the core schema reads; other options go to the package. */
function fast(text: string, options?: Options): unknown {
  const plain = Object.entries(options ?? {}).every(([key, value]) => key in NEUTRAL && NEUTRAL[key] === value);
  return plain ? readStoreYaml(text) : undefined;
}

function parsed(text: string, options?: Options): YamlValue {
  fallbacks++;
  const doc = yamlLibrary().parseDocument(text, options);
  if (doc.errors.length > 0) return { problem: `not valid YAML (${doc.errors[0]!.message.split('\n')[0]!})` };
  try {
    return { value: doc.toJS() };
  } catch {
    return { problem: 'its YAML aliases cannot be resolved (an alias without its anchor, or too many aliases)' };
  }
}

/** Synchronous: the caller has awaited loadYaml(), or reads only files the fast reader takes (see yamlReady). */
export function yamlValue(text: string, options?: Options): YamlValue {
  const value = fast(text, options);
  return value === undefined ? parsed(text, options) : { value };
}

/** As yamlValue, loading the package first when the text needs it. */
export async function yamlValueAsync(text: string, options?: Options): Promise<YamlValue> {
  const value = fast(text, options);
  if (value !== undefined) return { value };
  await loadYaml();
  return parsed(text, options);
}

/** Loads the package when `text` needs it, so a synchronous reader that follows can parse it. */
export async function yamlReady(text: string, options?: Options): Promise<void> {
  if (library === undefined && fast(text, options) === undefined) await loadYaml();
}
