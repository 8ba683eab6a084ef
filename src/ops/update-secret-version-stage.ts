import { InvalidParameterException, InvalidRequestException } from '../errors.js';
import { AWSCURRENT, checkLabelQuota, describeMoves, moveStage } from '../core/labels.js';
import { checkLabel, checkSecretId, checkToken, required } from '../core/validate.js';
import type { UpdateSecretVersionStageRequest, UpdateSecretVersionStageResponse } from '../model/lifecycle.js';
import type { SecretIndex } from '../model/store.js';
import { activeSecret, indexChange, SECRET_ID } from './common.js';
import { readOnly, type Operation } from './context.js';
import { commitMessage } from './versions.js';

/** R and M must be versions of the secret; deprecated versions count, and so do rotation placeholders. */
function checkVersion(secret: SecretIndex, versionId: string | undefined): void {
  if (versionId === undefined || versionId in secret.versions || versionId in (secret.placeholders ?? {})) return;
  throw new InvalidParameterException(`Not a valid version: ${versionId}`);
}

/** Spec 3.9 and 4.3: move one staging label between versions; AWSPREVIOUS follows AWSCURRENT. */
export const updateSecretVersionStage: Operation<UpdateSecretVersionStageRequest, UpdateSecretVersionStageResponse> = {
  name: 'UpdateSecretVersionStage',
  command: 'update-secret-version-stage',
  group: 'Labels and versions',
  summary: 'Move a staging label (AWSCURRENT, AWSPENDING, a custom label) from one version to another.',
  mutates: true,
  example:
    'secretstore update-secret-version-stage --secret-id MyTestDatabaseSecret --version-stage AWSCURRENT ' +
    '--move-to-version-id EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE --remove-from-version-id EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE',
  params: [
    SECRET_ID,
    { member: 'VersionStage', type: 'string', required: true, help: 'The staging label to move.' },
    { member: 'RemoveFromVersionId', type: 'string', help: 'The version that holds the label now.' },
    { member: 'MoveToVersionId', type: 'string', help: 'The version that receives the label.' },
  ],
  async run(ctx, input) {
    checkSecretId(input.SecretId);
    const label = required('versionStage', input.VersionStage);
    checkLabel('versionStage', label);
    checkToken('removeFromVersionId', input.RemoveFromVersionId);
    checkToken('moveToVersionId', input.MoveToVersionId);
    const secret = await activeSecret(ctx, input.SecretId);
    checkVersion(secret, input.RemoveFromVersionId);
    checkVersion(secret, input.MoveToVersionId);
    const to = input.MoveToVersionId;
    if (label === AWSCURRENT && to !== undefined && !(to in secret.versions)) {
      // A rotation placeholder has no value yet: AWSCURRENT there would make the default read fail.
      throw new InvalidRequestException(`Version ${to} has no value yet, so staging label ${AWSCURRENT} can't be moved to it.`);
    }

    const labels = { ...secret.labels };
    const moves = moveStage(labels, label, input.RemoveFromVersionId, to);
    const result = { ARN: secret.arn, Name: secret.name };
    if (moves.length === 0) return readOnly(result);
    checkLabelQuota(labels);
    const after: SecretIndex = { ...secret, labels, lastChangedDate: ctx.now.toISOString() };
    const detail = to === undefined ? `remove ${label} from ${input.RemoveFromVersionId}` : `move ${label} to ${to}`;
    return {
      result,
      changes: [indexChange(after)],
      message: commitMessage('update-secret-version-stage', secret.name, detail, describeMoves(moves)),
    };
  },
};
