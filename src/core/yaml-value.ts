/**
 * A YAML text's value, or why it has none. The yaml library reports syntax in `doc.errors`, but an alias
 * without its anchor (`*a`) or an alias bomb (more aliases than `maxAliasCount`) only throws, as a
 * ReferenceError, from `toJS()`; every reader of a store file goes through here so both are a damaged file.
 */
import { parseDocument, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';

export type YamlValue = { readonly value: unknown } | { readonly problem: string };

export function yamlValue(text: string, options?: ParseOptions & DocumentOptions & SchemaOptions): YamlValue {
  const doc = parseDocument(text, options);
  if (doc.errors.length > 0) return { problem: `not valid YAML (${doc.errors[0]!.message.split('\n')[0]!})` };
  try {
    return { value: doc.toJS() };
  } catch {
    return { problem: 'its YAML aliases cannot be resolved (an alias without its anchor, or too many aliases)' };
  }
}
