/**
 * Request and response shapes of the resource-policy operations (spec 3.16), with the member names of
 * `@aws-sdk/client-secrets-manager`. Offline a policy is recorded in the secret's index and shown in
 * review; it is not enforced (recipients, writers and scopes are).
 */

export interface PutResourcePolicyRequest {
  SecretId: string;
  /** A JSON policy document, at most 20,480 characters. */
  ResourcePolicy: string;
  /** Refuse a policy that grants access to everyone (`PublicPolicyException`); default false, as in AWS. */
  BlockPublicPolicy?: boolean;
}

export interface PutResourcePolicyResponse {
  ARN: string;
  Name: string;
}

export interface GetResourcePolicyRequest {
  SecretId: string;
}

export interface GetResourcePolicyResponse {
  ARN: string;
  Name: string;
  /** Present when a policy is stored. */
  ResourcePolicy?: string;
}

export interface DeleteResourcePolicyRequest {
  SecretId: string;
}

export interface DeleteResourcePolicyResponse {
  ARN: string;
  Name: string;
}

export interface ValidateResourcePolicyRequest {
  /** When given, the secret must exist (ResourceNotFoundException otherwise). */
  SecretId?: string;
  ResourcePolicy: string;
}

export interface ValidationErrorsEntry {
  CheckName: string;
  ErrorMessage: string;
}

export interface ValidateResourcePolicyResponse {
  PolicyValidationPassed: boolean;
  ValidationErrors: ValidationErrorsEntry[];
}
