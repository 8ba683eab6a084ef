/**
 * One class per AWS Secrets Manager exception. `name` is the wire name, so the CLI, the library and
 * (later) the HTTP server report exactly what AWS would. Messages are one line and never hold a value.
 */
export abstract class SecretsManagerError extends Error {
  /** HTTP status the JSON protocol would answer with. */
  readonly status: number = 400;
  constructor(message: string) {
    super(message);
  }
}

function exception(name: string, status = 400) {
  const cls = class extends SecretsManagerError {
    override readonly name = name;
    override readonly status = status;
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

export const ResourceNotFoundException = exception('ResourceNotFoundException');
export const InvalidParameterException = exception('InvalidParameterException');
export const InvalidRequestException = exception('InvalidRequestException');
export const ResourceExistsException = exception('ResourceExistsException');
export const LimitExceededException = exception('LimitExceededException');
export const InvalidNextTokenException = exception('InvalidNextTokenException');
export const ValidationException = exception('ValidationException');
export const EncryptionFailure = exception('EncryptionFailure');
export const DecryptionFailure = exception('DecryptionFailure');
export const InternalServiceError = exception('InternalServiceError', 500);
/** A resource policy that is not a policy document (put-resource-policy, spec 3.16). */
export const MalformedPolicyDocumentException = exception('MalformedPolicyDocumentException');
/** A policy that grants access to everyone, put with BlockPublicPolicy. */
export const PublicPolicyException = exception('PublicPolicyException');
/** AWS's common error for a caller without permission: here, a key that is not a trusted writer. */
export const AccessDeniedException = exception('AccessDeniedException');

export type SecretsManagerErrorClass = ReturnType<typeof exception>;

/** The messages AWS uses, kept in one place because clients match on them. */
export const Messages = {
  secretNotFound: "Secrets Manager can't find the specified secret.",
  noValueForStage: (stage: string) =>
    `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
  noValueForVersion: (id: string) => `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
  markedForDeletion: "You can't perform this operation on the secret because it was marked for deletion.",
  bothValues: "You can't specify both a binary secret value and a string secret value in the same secret.",
  neitherValue: 'You must provide either SecretString or SecretBinary.',
  tokenInUse: (token: string, arn: string) =>
    `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${arn}.`,
  alreadyExists: (name: string) => `The operation failed because the secret ${name} already exists.`,
  scheduledName: "You can't create this secret because a secret with this name is already scheduled for deletion.",
  invalidName:
    'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
  tokenRequired: 'You must provide a ClientRequestToken value. We recommend a UUID-type value.',
  stageNotOnVersion: 'You provided a VersionStage that is not associated to the provided VersionId.',
} as const;
