/**
 * Request and response shapes of GetRandomPassword, RotateSecret and CancelRotateSecret (spec 3.14,
 * 3.15), with the AWS SDK's member names, plus the result of `secretstore rotate-due`.
 */

export interface GetRandomPasswordRequest {
  /** 1-4096, default 32. */
  PasswordLength?: number;
  /** Characters never used (0-4096 characters). */
  ExcludeCharacters?: string;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  ExcludeLowercase?: boolean;
  IncludeSpace?: boolean;
  /** Default true: at least one lowercase letter, uppercase letter, digit and punctuation mark (each class left). */
  RequireEachIncludedType?: boolean;
}

export interface GetRandomPasswordResponse {
  RandomPassword: string;
}

/** The SDK's `RotationRulesType`. AutomaticallyAfterDays and ScheduleExpression exclude each other. */
export interface RotationRulesType {
  /** 1-1000. */
  AutomaticallyAfterDays?: number;
  /** The rotation window, `1h`-`24h`: stored; offline rotation runs when `rotate-due` runs. */
  Duration?: string;
  /** `rate(N days)`, `rate(N hours)` or `cron(minutes hours day-of-month month day-of-week year)`, in UTC. */
  ScheduleExpression?: string;
}

export interface RotateSecretRequest {
  SecretId: string;
  /** Becomes the VersionId of the new AWSPENDING version (32-64 characters; generated when omitted). */
  ClientRequestToken?: string;
  /**
   * Offline, the rotation function is a local shell command (run with `/bin/sh -c` in the store folder),
   * kept in AWS's RotationLambdaARN slot. 0-2048 characters; default: the one already configured.
   */
  RotationLambdaARN?: string;
  RotationRules?: RotationRulesType;
  /** Default true: run createSecret, setSecret, testSecret, finishSecret now; false: only testSecret. */
  RotateImmediately?: boolean;
  /** Accepted and ignored: managed external rotation has no meaning offline. */
  ExternalSecretRotationMetadata?: unknown[];
  ExternalSecretRotationRoleArn?: string;
}

export interface RotateSecretResponse {
  ARN: string;
  Name: string;
  /** The token: the VersionId reserved for AWSPENDING. */
  VersionId: string;
}

export interface CancelRotateSecretRequest {
  SecretId: string;
}

export interface CancelRotateSecretResponse {
  ARN: string;
  Name: string;
  /** The version an interrupted rotation left AWSPENDING on (possibly a value-less placeholder), if any. */
  VersionId?: string;
}

/** The rotation fields of DescribeSecret / ListSecrets entries (spec 3.5: only when configured). */
export interface RotationDescription {
  RotationEnabled?: boolean;
  RotationLambdaARN?: string;
  RotationRules?: RotationRulesType;
  LastRotatedDate?: Date;
  NextRotationDate?: Date;
}

/** What `secretstore rotate-due` did. */
export interface RotateDueResult {
  /** Rotations that ran to the end. */
  Rotated: RotateSecretResponse[];
  /** Rotations that failed; the others still ran. */
  Failed: { ARN: string; Name: string; ErrorCode: string; Message: string }[];
  /** With --dry-run: what would have been rotated. */
  Due?: { ARN: string; Name: string; NextRotationDate: Date }[];
}
