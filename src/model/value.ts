/** A secret value as the core sees it: exactly one of the two kinds Secrets Manager has. */
export type SecretValue =
  | { readonly type: 'string'; readonly text: string }
  | { readonly type: 'binary'; readonly bytes: Uint8Array };

/** Byte length used for the 65,536-byte limit: UTF-8 bytes of a string, raw bytes of a binary. */
export function valueByteLength(value: SecretValue): number {
  return value.type === 'string' ? Buffer.byteLength(value.text, 'utf8') : value.bytes.length;
}

export function sameValue(a: SecretValue, b: SecretValue): boolean {
  if (a.type === 'string' && b.type === 'string') return a.text === b.text;
  if (a.type === 'binary' && b.type === 'binary') return Buffer.from(a.bytes).equals(Buffer.from(b.bytes));
  return false;
}
