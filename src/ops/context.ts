/**
 * What an operation may use. Operations are pure apart from these injected capabilities: they read
 * through `store` (lazily, one secret at a time), take time from `now` and randomness from
 * `newArnSuffix` and `randomInt`, and return a Plan (response + file changes + commit message) that
 * the shell applies.
 */
import type { SecretIndex, StoreConfig } from '../model/store.js';
import type { SecretSummary } from '../core/filters.js';
import type { SecretValue } from '../model/value.js';
import type { FileChange, Plan } from '../model/repository.js';

export type { FileChange, Plan };

export interface StoreView {
  readonly config: StoreConfig;
  /** One secret's index, validated against its version files; undefined when there is no such secret. */
  readSecret(name: string): Promise<SecretIndex | undefined>;
  /** The sealed file of one version, as text (its header says who can open it). */
  readSealedText(index: SecretIndex, versionId: string): Promise<string>;
  /** Decrypt one version of a secret (DecryptionFailure when it cannot be opened). */
  openVersion(index: SecretIndex, versionId: string): Promise<SecretValue>;
  /** The names of every secret in the store (prune), sorted. */
  listSecretNames(): Promise<string[]>;
  /**
   * Every secret's index without its per-version bookkeeping (list-secrets, batch-get by filters): the
   * only whole-store read. Reads index files only, never a sealed file.
   */
  listSecretSummaries(): Promise<SecretSummary[]>;
}

export interface OpContext {
  readonly store: StoreView;
  readonly now: Date;
  /**
   * Seal a value for the recipients whose scope covers the secret, bound to the secret and VersionId,
   * with the writer's keyed commitment to the value: the file's text. Needs no decryption key.
   */
  seal(secretArn: string, versionId: string, value: SecretValue): Promise<string>;
  /**
   * Whether version `versionId` holds `value` (an idempotent retry, spec 2.8): by decrypting when this
   * identity can, else by the version's keyed commitment when this identity's writer made it; otherwise
   * ResourceExistsException (it cannot tell).
   */
  sameValue(index: SecretIndex, versionId: string, value: SecretValue): Promise<boolean>;
  /** The repository files a rotation command names, pinned by content (src/store/rotation-pins.ts). */
  pinCommand(command: string): Promise<Readonly<Record<string, string>>>;
  /** Refuses a rotation command whose pinned files changed, or that names a file not pinned. */
  checkPins(secret: string, command: string, pins: Readonly<Record<string, string>> | undefined): Promise<void>;
  /** Six random characters from [A-Za-z0-9] for a new ARN. */
  newArnSuffix(): string;
  /** A uniformly random integer in [0, upperBound) from libsodium's CSPRNG (GetRandomPassword). */
  randomInt(upperBound: number): Promise<number>;
}

/** The parameter kinds the CLI knows how to read (from flags, files or stdin). */
export type ParamType =
  | 'string'
  | 'blob'
  | 'integer'
  | 'boolean'
  | 'strings'
  | 'tags'
  /** ListSecrets-style filters: `Key=name,Values=a,b ...` or JSON. */
  | 'filters'
  /** A small structure such as RotationRules: `A=1,B=x` shorthand or JSON. */
  | 'structure'
  /** A list of small structures of strings (AddReplicaRegions): `A=x,B=y A=z ...` shorthand or JSON. */
  | 'structures';

export interface Param {
  readonly member: string;
  readonly type: ParamType;
  readonly help: string;
  readonly required?: boolean;
  /** A value: never echoed, warned about when given literally on the command line. */
  readonly sensitive?: boolean;
  /** Generated (UUIDv4) by the CLI and the library when missing, as the AWS SDKs do. */
  readonly idempotencyToken?: boolean;
}

/** The help groups of `secretstore --help`, in the order they are shown (admin commands use them too). */
export type OperationGroup =
  | 'Secrets and values'
  | 'Labels and versions'
  | 'Discovery'
  | 'Deletion'
  | 'Tags'
  | 'Rotation'
  /** Replication and resource policies: recorded and reviewable offline, never enforced or made. */
  | 'Policies and replication'
  | 'Everyday use'
  | 'Store and keys'
  /** Recipients, writers, signatures (the README's "Teams and trust"). */
  | 'Teams and trust'
  /** Sharing through git remotes, and reading history (the README's "Offline teams"). */
  | 'Offline teams';

export interface Operation<I, O> {
  /** The API name, e.g. `PutSecretValue`. */
  readonly name: string;
  /** The CLI command, e.g. `put-secret-value`. */
  readonly command: string;
  readonly summary: string;
  readonly mutates: boolean;
  readonly params: readonly Param[];
  readonly example?: string;
  /** The heading the command is listed under in `secretstore --help` (as the AWS CLI groups its help). */
  readonly group?: OperationGroup;
  /**
   * Set when the shell must do more than apply one plan (rotate-secret runs a local rotation command
   * between transactions): the store client hands the call to `src/store/workflows.ts`.
   */
  readonly workflow?: true;
  /**
   * The list members of a paginated response. The CLI follows NextToken and joins these, as the AWS
   * CLI does, unless the caller pages by hand (`--max-results`, `--next-token`) or says `--no-paginate`.
   */
  readonly pageMembers?: readonly string[];
  /**
   * Set when the operation never reads the store (GetRandomPassword): a client may run it outside one
   * (`runStoreless` in `src/store/workflows.ts`).
   */
  readonly storeless?: true;
  run(ctx: OpContext, input: I): Promise<Plan<O>>;
}

/** The result of an operation that changes nothing. */
export function readOnly<T>(result: T): Plan<T> {
  return { result, changes: [], message: '' };
}
