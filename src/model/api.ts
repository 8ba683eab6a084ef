/**
 * Request and response shapes of the operations, with the AWS SDK's member names and types
 * (`SecretBinary` as bytes, dates as `Date`), so code written for `@aws-sdk/client-secrets-manager`
 * reads the same against a store.
 */
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
  /** Accepted and ignored: replication has no meaning offline. */
  AddReplicaRegions?: unknown[];
  ForceOverwriteReplicaSecret?: boolean;
}

export interface CreateSecretResponse {
  ARN: string;
  Name: string;
  VersionId?: string;
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
