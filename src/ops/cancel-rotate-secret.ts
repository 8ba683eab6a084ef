import { InvalidRequestException } from '../errors.js';
import { checkSecretId } from '../core/validate.js';
import type { CancelRotateSecretRequest, CancelRotateSecretResponse } from '../model/rotation.js';
import type { RotationConfig, SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { pendingRotation } from './rotate-secret.js';
import { commitMessage } from './versions.js';

/** AWS's documented text (moto uses it too), odd as it reads for a cancel. */
export const NO_ROTATION_FUNCTION =
  "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.";

/**
 * Spec 3.15, row 85: RotationEnabled becomes false; the function and the rules stay; NextRotationDate
 * goes (nothing is scheduled any more). Labels are not touched: the response names the version an
 * interrupted rotation left AWSPENDING on, which the caller may clean up with update-secret-version-stage.
 * A rotation command still running notices the cancel before its next step.
 */
export const cancelRotateSecret: Operation<CancelRotateSecretRequest, CancelRotateSecretResponse> = {
  name: 'CancelRotateSecret',
  command: 'cancel-rotate-secret',
  group: 'Rotation',
  summary: 'Turn automatic rotation off (the rotation command and rules are kept); labels are left as they are.',
  mutates: true,
  example: 'secretstore cancel-rotate-secret --secret-id MyTestDatabaseSecret',
  params: [SECRET_ID],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const secret = await activeSecret(ctx, input.SecretId);
    const r = secret.rotation;
    if (r?.lambdaArn === undefined) throw new InvalidRequestException(NO_ROTATION_FUNCTION);
    const interrupted = pendingRotation(secret);
    const result: CancelRotateSecretResponse = {
      ARN: secret.arn,
      Name: secret.name,
      ...(interrupted === undefined ? {} : { VersionId: interrupted }),
    };
    if (!r.enabled && r.nextRotationDate === undefined) return readOnly(result);
    const { nextRotationDate: _next, ...kept } = r;
    const rotation: RotationConfig = { ...kept, enabled: false };
    const after: SecretIndex = { ...secret, rotation, lastChangedDate: ctx.now.toISOString() };
    return {
      result,
      changes: [indexChange(after)],
      message: commitMessage('cancel-rotate-secret', secret.name, 'rotation disabled', [
        `rotation function kept: ${r.lambdaArn}`,
        ...(interrupted === undefined ? [] : [`AWSPENDING stays on ${interrupted} (interrupted rotation)`]),
      ]),
    };
  },
};
