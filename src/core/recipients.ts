/**
 * Who can read and who may write: pure edits of `.secretstore.yaml`'s recipients and writers, and the
 * recipient set a secret's versions are sealed to. Keys arrive already parsed (canonical text), so two
 * spellings of one key compare equal.
 */
import { InvalidParameterException, InvalidRequestException, ResourceExistsException, ResourceNotFoundException } from '../errors.js';
import { inScope, type RecipientEntry, type Scope, type StoreConfig, type WriterEntry } from '../model/store.js';
import { optional } from './codec.js';

/** The recipients whose scope covers secret `name`: exactly who new versions of it are sealed to. */
export function recipientsFor(config: Pick<StoreConfig, 'recipients'>, name: string): RecipientEntry[] {
  return config.recipients.filter((r) => inScope(r.scope, name));
}

/** The recipients of `name`, refusing a secret nobody could read. */
export function requireRecipientsFor(config: Pick<StoreConfig, 'recipients'>, name: string): RecipientEntry[] {
  const covering = recipientsFor(config, name);
  if (covering.length === 0) {
    throw new InvalidRequestException(
      `no recipient in .secretstore.yaml has a scope covering secret ${name}, so nobody could read it; add one (secretstore recipients add --scope ...)`,
    );
  }
  return covering;
}

/** Same members, in any order. */
export function sameKeySet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((k) => right.has(k));
}

/**
 * `init`'s default recipient name: git's user.name, else the local part of user.email, else the login
 * name, whichever first gives a valid name once spaces become `-` and other characters a name cannot
 * hold are dropped ("Ann Example" -> "Ann-Example").
 */
export function defaultRecipientName(candidates: { gitName?: string; gitEmail?: string; loginName: string }): string {
  const tries = [candidates.gitName, candidates.gitEmail?.split('@')[0], candidates.loginName];
  for (const raw of tries) {
    const name = (raw ?? '').trim().replace(/\s+/g, '-').replace(/[^\w.@+-]/g, '').slice(0, 64);
    if (name !== '') return name;
  }
  return 'me';
}

function checkName(name: string): string {
  if (!/^[\w.@+-]{1,64}$/.test(name)) {
    throw new InvalidParameterException('a name must be 1 to 64 letters, digits or . _ @ + -');
  }
  return name;
}

export function checkScope(scope: readonly string[] | undefined): Scope | undefined {
  if (scope === undefined) return undefined;
  if (scope.length === 0 || scope.some((p) => p === '')) {
    throw new InvalidParameterException('--scope takes one or more non-empty secret name prefixes');
  }
  return [...new Set(scope)];
}

interface Entry {
  readonly name: string;
  readonly scope?: Scope;
}

function addEntry<E extends Entry>(list: readonly E[], entry: E, key: keyof E & string, what: string): E[] {
  checkName(entry.name);
  if (list.some((e) => e.name === entry.name)) throw new ResourceExistsException(`a ${what} named ${entry.name} already exists`);
  const same = list.find((e) => e[key] === entry[key]);
  if (same) throw new ResourceExistsException(`that key is already the ${what} ${same.name}`);
  return [...list, entry];
}

function findEntry<E extends Entry>(list: readonly E[], name: string, what: string): E {
  const found = list.find((e) => e.name === name);
  if (!found) throw new ResourceNotFoundException(`there is no ${what} named ${name}`);
  return found;
}

export function addRecipient(config: StoreConfig, name: string, publicKey: string, scope?: Scope): StoreConfig {
  const entry: RecipientEntry = { name, publicKey, ...optional('scope', checkScope(scope)) };
  return { ...config, recipients: addEntry(config.recipients, entry, 'publicKey', 'recipient') };
}

export function removeRecipient(config: StoreConfig, name: string): { config: StoreConfig; removed: RecipientEntry } {
  const removed = findEntry(config.recipients, name, 'recipient');
  const recipients = config.recipients.filter((r) => r !== removed);
  if (recipients.length === 0) throw new InvalidRequestException(`${name} is the last recipient; removing it would leave nobody able to read the store`);
  return { config: { ...config, recipients }, removed };
}

/** `scope` undefined: the whole store. */
export function setRecipientScope(config: StoreConfig, name: string, scope?: Scope): StoreConfig {
  const entry = findEntry(config.recipients, name, 'recipient');
  const { scope: _old, ...rest } = entry;
  const updated: RecipientEntry = { ...rest, ...optional('scope', checkScope(scope)) };
  return { ...config, recipients: config.recipients.map((r) => (r === entry ? updated : r)) };
}

export function addWriter(config: StoreConfig, name: string, writerKey: string, scope?: Scope): StoreConfig {
  const entry: WriterEntry = { name, writerKey, ...optional('scope', checkScope(scope)) };
  return { ...config, writers: addEntry(config.writers, entry, 'writerKey', 'writer') };
}

export function removeWriter(config: StoreConfig, name: string): StoreConfig {
  const removed = findEntry(config.writers, name, 'writer');
  const writers = config.writers.filter((w) => w !== removed);
  if (writers.length === 0) throw new InvalidRequestException(`${name} is the last writer; removing it would leave no trusted writer to sign changes`);
  return { ...config, writers };
}
