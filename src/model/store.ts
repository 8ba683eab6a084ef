/** The store's configuration, `.secretstore.yaml`. */
export interface StoreConfig {
  readonly format: 1;
  /** Random id bound into every sealed file, so files cannot be moved between stores. */
  readonly storeId: string;
  readonly region: string;
  readonly account: string;
  readonly recipients: readonly RecipientEntry[];
  /**
   * Who may change the store: every change secretstore commits is signed by its writer, and reads
   * refuse a commit that changes the store unless a writer of its parent's configuration signed it.
   */
  readonly writers: readonly WriterEntry[];
  readonly policy: Policy;
}

/**
 * A secret name prefix list (`prod/`, `team-a/db`): an entry with a scope covers only the secrets whose
 * names start with one of them; without one it covers the whole store.
 */
export type Scope = readonly string[];

export interface RecipientEntry {
  readonly name: string;
  /** X25519, `secretstore1...`: new versions of the secrets in scope are sealed to it. */
  readonly publicKey: string;
  readonly scope?: Scope;
}

export interface WriterEntry {
  readonly name: string;
  /** Ed25519, `secretstoresig1...`: its signatures on changes to secrets in scope are trusted. */
  readonly writerKey: string;
  readonly scope?: Scope;
}

/** Whether an entry with this scope covers the secret `name`. */
export function inScope(scope: Scope | undefined, name: string): boolean {
  return scope === undefined || scope.some((prefix) => name.startsWith(prefix));
}

export interface Policy {
  /** Prune deprecated versions while a secret has more than this many (AWS: 100). */
  readonly pruneAbove: number;
  /** Never prune a version younger than this (AWS: 24 hours). */
  readonly minVersionAgeHours: number;
  /** A write that would leave more versions than this after pruning fails with LimitExceededException. */
  readonly versionQuota: number;
  readonly defaultRecoveryWindowInDays: number;
}

export const DEFAULT_POLICY: Policy = {
  pruneAbove: 100,
  minVersionAgeHours: 24,
  versionQuota: 500,
  defaultRecoveryWindowInDays: 30,
};

/** ISO-8601 UTC with milliseconds, as written in the index: `2026-11-29T12:00:00.000Z`. */
export type Timestamp = string;

export interface Tag {
  Key: string;
  Value: string;
}

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

/** Rotation settings (spec 3.15). Offline, the "Lambda" is a local command. */
export interface RotationConfig {
  readonly enabled: boolean;
  /** The rotation function: offline, a local command (kept in AWS's RotationLambdaARN slot). */
  readonly lambdaArn?: string;
  /**
   * The repository files the command runs, pinned by content (repository-relative path -> sha256): an
   * edited file is refused before anything runs (src/store/rotation-pins.ts).
   */
  readonly pins?: Readonly<Record<string, string>>;
  readonly rules?: RotationRules;
  readonly lastRotatedDate?: Timestamp;
  readonly nextRotationDate?: Timestamp;
}

/**
 * A Region a replica of the secret was asked for (spec 3.16). Offline no replica is ever made: the request
 * is recorded, and reported as a replication that failed.
 */
export interface ReplicaRegion {
  readonly region: string;
  readonly kmsKeyId?: string;
}

/** A secret's `secret.yaml`: plaintext metadata and the label index. */
export interface SecretIndex {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  readonly tags?: readonly Tag[];
  readonly createdDate: Timestamp;
  readonly lastChangedDate: Timestamp;
  /** Planned purge time while the secret is scheduled for deletion. */
  readonly deletedDate?: Timestamp;
  /** label -> VersionId: a label sits on one version by construction. */
  readonly labels: Readonly<Record<string, string>>;
  /** VersionId -> creation time, so listing and pruning never open a sealed file. */
  readonly versions: Readonly<Record<string, Timestamp>>;
  readonly rotation?: RotationConfig;
  /** Replica Regions asked for, in the order they were asked for (never a replica that exists). */
  readonly replicaRegions?: readonly ReplicaRegion[];
  /** The resource policy, as JSON text: recorded and reviewable, not enforced (spec 3.16). */
  readonly resourcePolicy?: string;
  /**
   * VersionIds reserved by rotate-secret for AWSPENDING that have no value (and no file) yet:
   * labels may point at them; GetSecretValue does not find them; a put with that token fills them.
   */
  readonly placeholders?: Readonly<Record<string, Timestamp>>;
}
