/**
 * Request and response shapes of the operations, with the AWS SDK's member names and types
 * (`SecretBinary` as bytes, dates as `Date`), so code written for `@aws-sdk/client-secrets-manager`
 * reads the same against a store.
 */
import type { ReplicaRegionType, ReplicationStatusType } from './replication.js';
export interface Tag {
  Key?: string;
  Value?: string;
}

export interface CreateSecretRequest {
  Name: string;
  ClientRequestToken?: string;
  Description?: string;
  KmsKeyId?: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
  Tags?: Tag[];
  /** Recorded and reported as replications that failed: no replica is made offline (spec 3.16). */
  AddReplicaRegions?: ReplicaRegionType[];
  /** Accepted; there is no replica to overwrite offline. */
  ForceOverwriteReplicaSecret?: boolean;
}

export interface CreateSecretResponse {
  ARN: string;
  Name: string;
  VersionId?: string;
  /** Present when AddReplicaRegions was given: each Region with `Status: Failed`. */
  ReplicationStatus?: ReplicationStatusType[];
}

export interface PutSecretValueRequest {
  SecretId: string;
  ClientRequestToken?: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
  VersionStages?: string[];
  /** Accepted for compatibility with rotation functions; carries no meaning offline. */
  RotationToken?: string;
}

export interface PutSecretValueResponse {
  ARN: string;
  Name: string;
  VersionId: string;
  VersionStages: string[];
}

export interface GetSecretValueRequest {
  SecretId: string;
  VersionId?: string;
  VersionStage?: string;
}

export interface GetSecretValueResponse {
  ARN: string;
  Name: string;
  VersionId: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
  VersionStages?: string[];
  CreatedDate: Date;
}

export interface DescribeSecretRequest {
  SecretId: string;
}

export interface DescribeSecretResponse {
  ARN: string;
  Name: string;
  Description?: string;
  KmsKeyId?: string;
  LastChangedDate: Date;
  DeletedDate?: Date;
  Tags?: Tag[];
  VersionIdsToStages?: Record<string, string[]>;
  CreatedDate: Date;
  /** The store's Region; present when replica Regions were asked for. */
  PrimaryRegion?: string;
  /** The replica Regions asked for, each `Status: Failed` (no replica is made offline). */
  ReplicationStatus?: ReplicationStatusType[];
}

export interface ListSecretVersionIdsRequest {
  SecretId: string;
  MaxResults?: number;
  NextToken?: string;
  IncludeDeprecated?: boolean;
}

export interface SecretVersionsListEntry {
  VersionId: string;
  VersionStages?: string[];
  CreatedDate: Date;
  KmsKeyIds: string[];
}

export interface ListSecretVersionIdsResponse {
  Versions: SecretVersionsListEntry[];
  NextToken?: string;
  ARN: string;
  Name: string;
}
