/**
 * YAML <-> model for the two plaintext files. Keys are written in a fixed order (labels by name,
 * versions by creation time) so an operation changes only the lines it must: a put shows up in review
 * as one added version line and one or two moved label lines. Everything read is validated; a damaged
 * file is an InternalServiceError naming the file and the problem, never a crash or a wrong value.
 */
import { InternalServiceError } from '../errors.js';
import { setLabel } from './labels.js';
import { readStoreYaml } from './store-yaml.js';
import { writeStoreYaml } from './store-yaml-write.js';
import { yamlLibrary, yamlValue, yamlValueAsync, type YamlValue } from './yaml-value.js';
import {
  DEFAULT_POLICY,
  type Policy,
  type RotationConfig,
  type ReplicaRegion,
  type RotationRules,
  type Scope,
  type SecretIndex,
  type StoreConfig,
  type Tag,
} from '../model/store.js';

export const CONFIG_FILE = '.secretstore.yaml';

const YAML_OPTIONS = { lineWidth: 0, schema: 'core' } as const;

/** Names quoted from a damaged file may hold any character: control characters are shown escaped, so the message stays one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The encoder's own form (toISOString's) of an instant that exists: returned as it is, without a Date
 * round trip (most timestamps of every file; days past the 28th take the long way, as V8 rolls 02-30 over).
 */
const CANONICAL = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** A timestamp in its canonical form (toISOString), or undefined when `v` is none. */
export function isoTimestamp(v: string): string | undefined {
  if (CANONICAL.test(v)) return v;
  const when = Date.parse(v);
  return Number.isNaN(when) ? undefined : new Date(when).toISOString();
}

class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly file: string,
  ) {}

  fail(why: string): never {
    throw new InternalServiceError(`${this.file} is damaged: ${oneLine(why)}`);
  }
  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string' || v === '') this.fail(`'${key}' must be a non-empty string`);
    return v;
  }
  optionalString(key: string): string | undefined {
    return this.obj[key] === undefined ? undefined : this.string(key);
  }
  timestamp(key: string): string {
    return isoTimestamp(this.string(key)) ?? this.fail(`'${key}' is not a timestamp`);
  }
  optionalTimestamp(key: string): string | undefined {
    return this.obj[key] === undefined ? undefined : this.timestamp(key);
  }
  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }
  raw(key: string): unknown {
    return this.obj[key];
  }
  boolean(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(`'${key}' must be true or false`);
    return v;
  }
  optionalMap(key: string): Record<string, unknown> | undefined {
    return this.obj[key] === undefined ? undefined : this.map(key);
  }
  map(key: string): Record<string, unknown> {
    const v = this.obj[key] ?? {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`'${key}' must be a map`);
    return v as Record<string, unknown>;
  }
  list(key: string): unknown[] | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(`'${key}' must be a list`);
    return v;
  }
  integer(key: string, fallback: number): number {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(`'${key}' must be a whole number`);
    return v;
  }
  only(keys: readonly string[]): void {
    const extra = Object.keys(this.obj).filter((k) => !keys.includes(k));
    if (extra.length > 0) this.fail(`unknown field '${extra[0]}'`);
  }
}

/**
 * Stores made before signed commits (docs/trust.md) end `secret.yaml` and `.secretstore.yaml` with a
 * per-file `signature:` block. It is read as legacy: the text before it is the file's content, the block
 * is ignored (it proves nothing any more), and `secretstore trust migrate` removes it.
 */
export function unsignedText(text: string): string {
  let at = -1;
  for (const m of text.matchAll(/^signature:/gm)) at = m.index;
  return at < 0 ? text : text.slice(0, at);
}

/**
 * Synchronous readers (parseSecretIndex, parseConfig) need the `yaml` package loaded for a file the fast
 * reader declines (src/core/yaml-value.ts); the async ones (parseSecretIndexAsync, parseConfigAsync)
 * load it when the file needs it, and are what the read path uses.
 */
function parseObject(text: string, file: string): Record<string, unknown> {
  return objectOf(yamlValue(unsignedText(text), YAML_OPTIONS), file);
}

async function parseObjectAsync(text: string, file: string): Promise<Record<string, unknown>> {
  return objectOf(await yamlValueAsync(unsignedText(text), YAML_OPTIONS), file);
}

function objectOf(read: YamlValue, file: string): Record<string, unknown> {
  if ('problem' in read) throw new InternalServiceError(`${file} is damaged: ${oneLine(read.problem)}; restore it from git (git checkout -- ${file}) or fix it by hand`);
  const { value } = read;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InternalServiceError(`${file} is damaged: expected a YAML map`);
  }
  return value as Record<string, unknown>;
}

const INDEX_KEYS = [
  'name', 'arn', 'description', 'kmsKeyId', 'createdDate', 'lastChangedDate', 'deletedDate', 'tags', 'rotation', 'replicaRegions',
  'resourcePolicy', 'labels', 'versions', 'placeholders',
] as const;

const ROTATION_KEYS = ['enabled', 'lambdaArn', 'pins', 'rules', 'lastRotatedDate', 'nextRotationDate'] as const;

function parseTimestamps(f: Fields, key: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, created] of Object.entries(f.map(key))) {
    out[id] = (typeof created === 'string' ? isoTimestamp(created) : undefined) ?? f.fail(`${what} ${id} has no valid creation time`);
  }
  return out;
}

function parseRotation(value: unknown, file: string): RotationConfig | undefined {
  if (value === undefined) return undefined;
  const r: Fields = new Fields((value ?? {}) as Record<string, unknown>, `${file} rotation`);
  r.only(ROTATION_KEYS);
  const enabled = r.boolean('enabled');
  // Copied, as every part of a parsed index is: it never shares an object with what it was read from (see remember).
  const rules = r.optionalMap('rules') as RotationRules | undefined;
  return {
    enabled,
    ...optional('lambdaArn', r.optionalString('lambdaArn')),
    ...optional('pins', parsePins(r.optionalMap('pins'), file)),
    ...optional('rules', rules && { ...rules }),
    ...optional('lastRotatedDate', r.optionalTimestamp('lastRotatedDate')),
    ...optional('nextRotationDate', r.optionalTimestamp('nextRotationDate')),
  };
}

/** rotation.pins: repository-relative path -> sha256 hex of the file a rotation command runs. */
function parsePins(value: Record<string, unknown> | undefined, file: string): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  for (const [path, hash] of Object.entries(value)) {
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new InternalServiceError(`${file} is damaged: rotation pin ${path} is not a sha256`);
  }
  return { ...value } as Record<string, string>;
}

function parseReplicaRegions(f: Fields, file: string): ReplicaRegion[] | undefined {
  return f.list('replicaRegions')?.map((r, i) => {
    const entry: Fields = new Fields((r ?? {}) as Record<string, unknown>, `${file} replicaRegions[${i}]`);
    entry.only(['region', 'kmsKeyId']);
    return { region: entry.string('region'), ...optional('kmsKeyId', entry.optionalString('kmsKeyId')) };
  });
}

export function parseSecretIndex(text: string, file: string): SecretIndex {
  return secretIndexOf(parseObject(text, file), file);
}

/** The index, or undefined when its text is not in the encoder's forms (then parseSecretIndexAsync reads it). */
export function parseSecretIndexFast(text: string, file: string): SecretIndex | undefined {
  const value = readStoreYaml(unsignedText(text));
  return value === undefined ? undefined : secretIndexOf(value, file);
}

export async function parseSecretIndexAsync(text: string, file: string): Promise<SecretIndex> {
  return secretIndexOf(await parseObjectAsync(text, file), file);
}

function secretIndexOf(obj: Record<string, unknown>, file: string): SecretIndex {
  const f: Fields = new Fields(obj, file);
  f.only(INDEX_KEYS);
  const versions = parseTimestamps(f, 'versions', 'version');
  const placeholders = f.has('placeholders') ? parseTimestamps(f, 'placeholders', 'placeholder') : undefined;
  for (const id of Object.keys(placeholders ?? {})) if (id in versions) f.fail(`placeholder ${id} is also a version`);
  const labels: Record<string, string> = {};
  for (const [label, id] of Object.entries(f.map('labels'))) {
    if (typeof id !== 'string') f.fail(`label ${label} must name a VersionId`);
    if (!(id in versions) && !(placeholders && id in placeholders)) {
      f.fail(`label ${label} points at version ${id}, which is not listed under versions`);
    }
    setLabel(labels, label, id);
  }
  if (Object.keys(versions).length > 0 && !('AWSCURRENT' in labels)) f.fail('no version carries AWSCURRENT');
  if (labels.AWSCURRENT !== undefined && labels.AWSCURRENT === labels.AWSPREVIOUS) {
    f.fail('AWSCURRENT and AWSPREVIOUS are on the same version');
  }
  const tags = f.list('tags')?.map((t): Tag => {
    const tag = t as Record<string, unknown>;
    if (typeof tag?.Key !== 'string' || typeof tag.Value !== 'string') f.fail('tags must be {Key, Value} strings');
    return { Key: tag.Key, Value: tag.Value };
  });
  return {
    name: f.string('name'),
    arn: f.string('arn'),
    ...optional('description', f.optionalString('description')),
    ...optional('kmsKeyId', f.optionalString('kmsKeyId')),
    ...optional('tags', tags),
    createdDate: f.timestamp('createdDate'),
    lastChangedDate: f.timestamp('lastChangedDate'),
    ...optional('deletedDate', f.optionalTimestamp('deletedDate')),
    ...optional('rotation', parseRotation(f.raw('rotation'), file)),
    ...optional('replicaRegions', parseReplicaRegions(f, file)),
    ...optional('resourcePolicy', f.optionalString('resourcePolicy')),
    labels,
    versions,
    ...optional('placeholders', placeholders),
  };
}

/** `{}` when the value is undefined, so optional keys are absent rather than `undefined`. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Versions oldest first (ties by id): the order of the index file and of pruning. */
export function versionsByAge(index: Pick<SecretIndex, 'versions'>): string[] {
  // Plain code-unit order: ISO timestamps sort correctly that way, and localeCompare would start ICU (~8 ms).
  // Each key is built once, not twice per comparison (a put sorts its index twice: to prune and to write).
  const keyed = Object.keys(index.versions).map((id) => ({ id, key: `${index.versions[id]!} ${id}` }));
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((e) => e.id);
}

/** The label index as the object its YAML text writes: keys in the file's fixed order, labels by name, versions by age. */
export function secretIndexDocument(index: SecretIndex): Record<string, unknown> {
  const labels = Object.fromEntries(Object.keys(index.labels).sort().map((l) => [l, index.labels[l]]));
  const versions = Object.fromEntries(versionsByAge(index).map((id) => [id, index.versions[id]]));
  return {
    name: index.name,
    arn: index.arn,
    ...optional('description', index.description),
    ...optional('kmsKeyId', index.kmsKeyId),
    createdDate: index.createdDate,
    lastChangedDate: index.lastChangedDate,
    ...optional('deletedDate', index.deletedDate),
    ...optional('tags', index.tags),
    ...optional('rotation', index.rotation),
    ...optional('replicaRegions', index.replicaRegions?.map((r) => ({ region: r.region, ...optional('kmsKeyId', r.kmsKeyId) }))),
    // Multi-line JSON is written as a YAML block, so a policy change diffs (and reviews) line by line.
    ...optional('resourcePolicy', index.resourcePolicy),
    labels,
    versions,
    ...optional('placeholders', index.placeholders),
  };
}

const INDEX_HEADER = '# secretstore label index: plaintext on purpose, so label moves are reviewable\n';

export function serializeSecretIndex(index: SecretIndex): string {
  const document = secretIndexDocument(index);
  // The fast writer writes the package's text for the forms it knows; anything else goes to the package.
  const fast = writeStoreYaml(document);
  if (fast === undefined) return INDEX_HEADER + yamlLibrary().stringify(document, YAML_OPTIONS);
  const text = INDEX_HEADER + fast;
  remember(text, document);
  return text;
}

/**
 * Indexes this process wrote, as a read of their text returns them, by text: the next put to a secret
 * reads the index the last one wrote, and a long-lived client (serve, the agent, a library user) takes it
 * from here instead of reading and parsing the blob (src/store/commit-view.ts files them by blob id).
 * Only texts of the fast writer, whose document is exactly what reading the text gives; the last few kept.
 */
const written = new Map<string, SecretIndex>();
const WRITTEN_MAX = 64;

function remember(text: string, document: Record<string, unknown>): void {
  let index: SecretIndex;
  try {
    index = secretIndexOf(document, 'the index being written');
  } catch {
    return; // an index a read would refuse is read (and refused) from its text
  }
  written.set(text, index);
  if (written.size > WRITTEN_MAX) written.delete(written.keys().next().value!);
}

/** The indexes written since the last call, each with its text, as a read of that text parses it. */
export function takeWrittenIndexes(): [text: string, index: SecretIndex][] {
  const out = [...written];
  written.clear();
  return out;
}

function accountOf(f: Fields): string {
  const account = f.string('account');
  if (!/^[0-9]{12}$/.test(account)) f.fail("'account' must be 12 digits, quoted");
  return account;
}

const CONFIG_KEYS = ['format', 'storeId', 'region', 'account', 'recipients', 'writers', 'policy'] as const;

function parseScope(entry: Fields): Scope | undefined {
  const scope = entry.list('scope');
  if (scope === undefined) return undefined;
  if (scope.length === 0 || scope.some((p) => typeof p !== 'string' || p === '')) {
    entry.fail("'scope' must be a non-empty list of secret name prefixes");
  }
  return scope as string[];
}

/** A list of named entries (recipients, writers), each with one key field and an optional scope. */
function parseEntries<K extends string>(
  f: Fields,
  list: string,
  keyField: K,
  file: string,
): ({ name: string; scope?: Scope } & Record<K, string>)[] {
  return (f.list(list) ?? []).map((r, i) => {
    const entry: Fields = new Fields((r ?? {}) as Record<string, unknown>, `${file} ${list}[${i}]`);
    entry.only(['name', keyField, 'scope']);
    return { name: entry.string('name'), [keyField]: entry.string(keyField), ...optional('scope', parseScope(entry)) } as {
      name: string;
      scope?: Scope;
    } & Record<K, string>;
  });
}

export function parseConfig(text: string, file: string): StoreConfig {
  return configOf(parseObject(text, file), file);
}

export async function parseConfigAsync(text: string, file: string): Promise<StoreConfig> {
  return configOf(await parseObjectAsync(text, file), file);
}

function configOf(obj: Record<string, unknown>, file: string): StoreConfig {
  const f: Fields = new Fields(obj, file);
  f.only(CONFIG_KEYS);
  if (f.integer('format', 0) !== 1) f.fail(`unsupported format ${String(f.integer('format', 0))} (this secretstore reads format 1)`);
  const recipients = parseEntries(f, 'recipients', 'publicKey', file);
  const writers = parseEntries(f, 'writers', 'writerKey', file);
  const p: Fields = new Fields(f.map('policy'), `${file} policy`);
  p.only(Object.keys(DEFAULT_POLICY));
  const policy: Policy = {
    pruneAbove: p.integer('pruneAbove', DEFAULT_POLICY.pruneAbove),
    minVersionAgeHours: p.integer('minVersionAgeHours', DEFAULT_POLICY.minVersionAgeHours),
    versionQuota: p.integer('versionQuota', DEFAULT_POLICY.versionQuota),
    defaultRecoveryWindowInDays: p.integer('defaultRecoveryWindowInDays', DEFAULT_POLICY.defaultRecoveryWindowInDays),
  };
  return {
    format: 1,
    storeId: f.string('storeId'),
    region: f.string('region'),
    account: accountOf(f),
    recipients,
    writers,
    policy,
  };
}

export function serializeConfig(config: StoreConfig): string {
  const body = yamlLibrary().stringify(
    {
      format: config.format,
      storeId: config.storeId,
      region: config.region,
      account: config.account,
      recipients: config.recipients,
      ...(config.writers.length > 0 ? { writers: config.writers } : {}),
      policy: config.policy,
    },
    YAML_OPTIONS,
  );
  return (
    '# secretstore store configuration; see .secretstore.example in the secretstore package for every field\n' + body
  );
}
