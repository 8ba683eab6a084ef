/**
 * Request and response shapes of replication (spec 3.16), with the member names of
 * `@aws-sdk/client-secrets-manager`. Offline no replica is ever made: every Region asked for is recorded
 * and reported with `Status: Failed`.
 */

/** A Region to replicate to, and the KMS key the replica would use (metadata offline). */
export interface ReplicaRegionType {
  Region?: string;
  KmsKeyId?: string;
}

export type StatusType = 'InSync' | 'Failed' | 'InProgress';

export interface ReplicationStatusType {
  Region: string;
  KmsKeyId: string;
  /** Always `Failed` offline. */
  Status: StatusType;
  StatusMessage: string;
}

export interface ReplicateSecretToRegionsRequest {
  SecretId: string;
  AddReplicaRegions: ReplicaRegionType[];
  /** Accepted; there is no replica to overwrite offline. */
  ForceOverwriteReplicaSecret?: boolean;
}

export interface ReplicateSecretToRegionsResponse {
  /** The ARN of the primary secret. */
  ARN: string;
  /** Every Region recorded for the secret, after this call. */
  ReplicationStatus: ReplicationStatusType[];
}

export interface RemoveRegionsFromReplicationRequest {
  SecretId: string;
  RemoveReplicaRegions: string[];
}

export interface RemoveRegionsFromReplicationResponse {
  ARN: string;
  /** The Regions still recorded after this call. */
  ReplicationStatus: ReplicationStatusType[];
}
