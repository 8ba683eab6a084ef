/**
 * Model constraints of the Secrets Manager API, checked the way the service checks them: a violation is
 * a ValidationException in AWS's words. Sensitive members (values) are never quoted back.
 */
import { InvalidParameterException, InvalidRequestException, Messages, ValidationException } from '../errors.js';
import type { Tag } from '../model/api.js';
import { type SecretValue, valueByteLength } from '../model/value.js';

const NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/;
export const MAX_VALUE_BYTES = 65_536;

function constraint(member: string, rule: string, value?: string): never {
  const shown = value === undefined ? 'Value' : `Value '${value}'`;
  throw new ValidationException(`1 validation error detected: ${shown} at '${member}' failed to satisfy constraint: ${rule}`);
}

export function checkLength(member: string, value: string | undefined, min: number, max: number, sensitive = false): void {
  if (value === undefined) return;
  if (value.length < min) constraint(member, `Member must have length greater than or equal to ${min}`, sensitive ? undefined : value);
  if (value.length > max) constraint(member, `Member must have length less than or equal to ${max}`, sensitive ? undefined : value.slice(0, 80));
}

export function required<T>(member: string, value: T | undefined | null): T {
  if (value === undefined || value === null) constraint(member, 'Member must not be null');
  return value;
}

export function checkSecretName(name: string | undefined): string {
  // required: RegExp.test(undefined) tests the text "undefined", which is a valid name
  const n = required('name', name);
  checkLength('name', n, 1, 512);
  if (!NAME_CHARS.test(n)) throw new ValidationException(Messages.invalidName);
  return n;
}

export function checkSecretId(secretId: string | undefined): string {
  const id = required('secretId', secretId);
  checkLength('secretId', id, 1, 2048);
  const name = id.startsWith('arn:') ? id.slice(id.lastIndexOf(':') + 1) : id;
  if (!NAME_CHARS.test(name)) throw new ValidationException(Messages.invalidName);
  return id;
}

/** ClientRequestToken / VersionId: 32-64 printable characters. */
export function checkToken(member: string, token: string | undefined): void {
  if (token === undefined) return;
  checkLength(member, token, 32, 64);
  if (!/^[\x20-\x7e]+$/.test(token)) constraint(member, 'Member must contain only printable ASCII characters', undefined);
}

export function checkCount(member: string, list: readonly unknown[] | undefined, min: number, max: number): void {
  if (list === undefined) return;
  if (list.length < min) constraint(member, `Member must have length greater than or equal to ${min}`);
  if (list.length > max) constraint(member, `Member must have length less than or equal to ${max}`);
}

/** Value-creating calls need a token; the CLI and library make one, raw callers must send one. */
export function requireToken(token: string | undefined): string {
  if (token === undefined) throw new InvalidRequestException(Messages.tokenRequired);
  checkToken('clientRequestToken', token);
  return token;
}

export function checkLabel(member: string, label: string): void {
  checkLength(member, label, 1, 256);
}

/** Exactly one of SecretString / SecretBinary, within the size limits; undefined when neither is given. */
export function valueFrom(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue | undefined {
  const { SecretString: text, SecretBinary: bytes } = input;
  if (text !== undefined && bytes !== undefined) throw new InvalidParameterException(Messages.bothValues);
  const value: SecretValue | undefined =
    text !== undefined ? { type: 'string', text } : bytes !== undefined ? { type: 'binary', bytes } : undefined;
  if (value === undefined) return undefined;
  const member = value.type === 'string' ? 'secretString' : 'secretBinary';
  const size = valueByteLength(value);
  if (size < 1) constraint(member, 'Member must have length greater than or equal to 1');
  if (size > MAX_VALUE_BYTES) constraint(member, `Member must have length less than or equal to ${MAX_VALUE_BYTES}`);
  return value;
}

export function requireValue(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue {
  const value = valueFrom(input);
  if (value === undefined) throw new InvalidRequestException(Messages.neitherValue);
  return value;
}

export const MAX_TAGS = 50;

/** AWS tagging rules (spec 3.12): `aws:` keys belong to AWS, in any case; they can be neither set nor removed. */
export function checkTagKey(member: string, key: string | undefined): string {
  const k = required(member, key);
  checkLength(member, k, 1, 128);
  if (k.toLowerCase().startsWith('aws:')) throw new InvalidParameterException(`Tag key ${k} uses the reserved prefix aws:, which is for AWS use only.`);
  return k;
}

/** Tags as create-secret and tag-resource take them: each key and value checked, a missing Value is ''. */
export function checkTags(tags: readonly Tag[] | undefined): { Key: string; Value: string }[] | undefined {
  if (tags === undefined) return undefined;
  if (tags.length > MAX_TAGS) constraint('tags', `Member must have length less than or equal to ${MAX_TAGS}`);
  return tags.map((tag, i) => {
    const Key = checkTagKey(`tags.${i + 1}.member.key`, tag.Key);
    const Value = tag.Value ?? '';
    checkLength(`tags.${i + 1}.member.value`, Value, 0, 256);
    return { Key, Value };
  });
}

export function checkMaxResults(value: number | undefined, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1) constraint('maxResults', 'Member must have value greater than or equal to 1', String(value));
  if (value > max) constraint('maxResults', `Member must have value less than or equal to ${max}`, String(value));
}
