import type { GetSecretValueResponse } from './api.js';
/**
 * Request and response shapes of ListSecrets and BatchGetSecretValue (spec 3.6, 3.4), with the member
 * names of `@aws-sdk/client-secrets-manager` (`SecretBinary` as bytes, dates as `Date`).
 */
import type { Tag } from './api.js';
import type { RotationDescription } from './rotation.js';
import type { ReplicationStatusType } from './replication.js';

/** The SDK's `FilterNameStringType`, in the model's order. */
export type FilterNameStringType = 'description' | 'name' | 'tag-key' | 'tag-value' | 'primary-region' | 'owning-service' | 'all';

/**
 * One filter: the secret must match one of `Values` (OR); several filters must all match (AND). A value
 * starting with `!` matches the secrets that the rest of the value does not match.
 */
export interface Filter {
  Key?: FilterNameStringType;
  /** 1-10 values, each at most 512 characters of `[a-zA-Z0-9 :_@/+=.\-!]`, optionally after a leading `!`. */
  Values?: string[];
}

export type SortByType = 'created-date' | 'last-accessed-date' | 'last-changed-date' | 'name';
export type SortOrderType = 'asc' | 'desc';

export interface ListSecretsRequest {
  /** Also list secrets scheduled for deletion (default false). */
  IncludePlannedDeletion?: boolean;
  /** 1-100 (default 100). */
  MaxResults?: number;
  NextToken?: string;
  /** At most 10. */
  Filters?: Filter[];
  /** Default `asc`. */
  SortOrder?: SortOrderType;
  /** Default `created-date` (ties: then by name). */
  SortBy?: SortByType;
}

/**
 * One secret in a listing: the fields of DescribeSecret under the same presence rules, except that the
 * label map is called `SecretVersionsToStages` (DescribeSecret: `VersionIdsToStages`).
 */
export interface SecretListEntry extends RotationDescription {
  ARN: string;
  Name: string;
  Description?: string;
  KmsKeyId?: string;
  LastChangedDate: Date;
  /** Never present: reads are not recorded (a documented deviation). */
  LastAccessedDate?: Date;
  /** Present while the secret is scheduled for deletion: the planned purge time. */
  DeletedDate?: Date;
  Tags?: Tag[];
  /** Every version that carries a label, with its labels; absent when there is none. */
  SecretVersionsToStages?: Record<string, string[]>;
  CreatedDate: Date;
  /** The store's Region; present when replica Regions were asked for. */
  PrimaryRegion?: string;
  /**
   * The replica Regions asked for, each `Status: Failed` (no replica is made offline). AWS's list entries
   * carry only PrimaryRegion; secretstore reports these too, so a listing does not hide the failure.
   */
  ReplicationStatus?: ReplicationStatusType[];
}

export interface ListSecretsResponse {
  SecretList: SecretListEntry[];
  NextToken?: string;
}

export interface BatchGetSecretValueRequest {
  /** 1-20 names or ARNs; exactly one of SecretIdList and Filters. */
  SecretIdList?: string[];
  /** As ListSecrets' filters; only secrets that are not scheduled for deletion are read. */
  Filters?: Filter[];
  /** 1-20 (default 20); only together with Filters. */
  MaxResults?: number;
  NextToken?: string;
}

/** One secret's AWSCURRENT value, as GetSecretValue answers it. */
export type SecretValueEntry = GetSecretValueResponse;

/** A secret that could not be read; the others still are. */
export interface APIErrorType {
  /** The id as given in SecretIdList; with Filters, the secret's name. */
  SecretId: string;
  /** The exception GetSecretValue would have raised, e.g. `ResourceNotFoundException`. */
  ErrorCode: string;
  Message: string;
}

export interface BatchGetSecretValueResponse {
  SecretValues: SecretValueEntry[];
  /** Present when more secrets match the filters. */
  NextToken?: string;
  Errors: APIErrorType[];
}
