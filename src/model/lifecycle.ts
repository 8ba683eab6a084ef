/**
 * Request and response shapes of the lifecycle operations (label moves, metadata updates, deletion,
 * restore, tags), with the member names of `@aws-sdk/client-secrets-manager` and dates as `Date`.
 */
import type { Tag } from './api.js';

export interface UpdateSecretVersionStageRequest {
  SecretId: string;
  /** The label to move. */
  VersionStage: string;
  /** The version that holds the label now; required when the label is attached elsewhere than MoveToVersionId. */
  RemoveFromVersionId?: string;
  /** The version that receives the label. */
  MoveToVersionId?: string;
}

export interface UpdateSecretVersionStageResponse {
  ARN: string;
  Name: string;
}

export interface UpdateSecretRequest {
  SecretId: string;
  /** VersionId of the new version; used only with a value. */
  ClientRequestToken?: string;
  /** Replaces the description; an empty string removes it. */
  Description?: string;
  /** Stored as metadata (an empty string reverts to the default); sealing always uses the store's recipients. */
  KmsKeyId?: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
}

export interface UpdateSecretResponse {
  ARN: string;
  Name: string;
  /** Present only when the call created (or idempotently replayed) a version. */
  VersionId?: string;
}

export interface DeleteSecretRequest {
  SecretId: string;
  /** 7-30 days; default `policy.defaultRecoveryWindowInDays` (30). */
  RecoveryWindowInDays?: number;
  ForceDeleteWithoutRecovery?: boolean;
}

export interface DeleteSecretResponse {
  ARN: string;
  Name: string;
  /** When the secret is (or was, for a forced delete) purged. */
  DeletionDate: Date;
}

export interface RestoreSecretRequest {
  SecretId: string;
}

export interface RestoreSecretResponse {
  ARN: string;
  Name: string;
}

export interface TagResourceRequest {
  SecretId: string;
  Tags: Tag[];
}

/** TagResource and UntagResource answer with no members, as AWS does. */
export type TagResourceResponse = Record<string, never>;

export interface UntagResourceRequest {
  SecretId: string;
  TagKeys: string[];
}

export type UntagResourceResponse = Record<string, never>;

/** `secretstore rollback` (a convenience beyond the AWS API): AWSCURRENT back to an earlier version. */
export interface RollbackRequest {
  SecretId: string;
  /** The version to make current; default: the one holding AWSPREVIOUS. */
  ToVersionId?: string;
}

export interface RollbackResponse {
  ARN: string;
  Name: string;
  /** The version that holds AWSCURRENT now. */
  VersionId: string;
  /** The version that held it before, which now holds AWSPREVIOUS. */
  PreviousVersionId: string;
}
