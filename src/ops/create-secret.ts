import { InvalidRequestException, Messages, ResourceExistsException } from '../errors.js';
import { secretArn } from '../core/arn.js';
import { optional } from '../core/codec.js';
import { checkLength, checkSecretName, checkTags, checkToken, requireToken, valueFrom } from '../core/validate.js';
import type { CreateSecretRequest, CreateSecretResponse } from '../model/api.js';
import type { SecretIndex } from '../model/store.js';
import { indexChange } from './common.js';
import { readOnly, type Operation } from './context.js';
import { addVersion, commitMessage, isReplay } from './versions.js';

/** Spec 3.1. */
export const createSecret: Operation<CreateSecretRequest, CreateSecretResponse> = {
  name: 'CreateSecret',
  command: 'create-secret',
  group: 'Secrets and values',
  summary: 'Create a secret, with a first version when a value is given.',
  mutates: true,
  example: `secretstore create-secret --name MyTestDatabaseSecret --secret-string file://creds.json`,
  params: [
    { member: 'Name', type: 'string', required: true, help: 'The name of the new secret.' },
    { member: 'ClientRequestToken', type: 'string', idempotencyToken: true, help: 'VersionId of the first version (32-64 characters; a UUID is generated when omitted).' },
    { member: 'Description', type: 'string', help: 'A description of the secret.' },
    { member: 'KmsKeyId', type: 'string', help: 'Stored as metadata; sealing always uses the store recipients.' },
    { member: 'SecretString', type: 'string', sensitive: true, help: 'The value as text (file://path, or - for stdin).' },
    { member: 'SecretBinary', type: 'blob', sensitive: true, help: 'The value as bytes (fileb://path, base64 text, or - for stdin).' },
    { member: 'Tags', type: 'tags', help: 'Tags: Key=k,Value=v ... or JSON.' },
  ],
  async run(ctx, input) {
    const name = checkSecretName(input.Name);
    checkToken('clientRequestToken', input.ClientRequestToken);
    checkLength('description', input.Description, 0, 2048);
    checkLength('kmsKeyId', input.KmsKeyId, 0, 2048);
    const tags = checkTags(input.Tags);
    const value = valueFrom(input);
    const versionId = value ? requireToken(input.ClientRequestToken) : undefined;

    const existing = await ctx.store.readSecret(name);
    if (existing?.deletedDate !== undefined) throw new InvalidRequestException(Messages.scheduledName);
    if (existing) {
      if (value && versionId && (await isReplay(ctx, existing, versionId, value))) {
        return readOnly({ ARN: existing.arn, Name: existing.name, VersionId: versionId });
      }
      throw new ResourceExistsException(Messages.alreadyExists(name));
    }

    const now = ctx.now.toISOString();
    const secret: SecretIndex = {
      name,
      arn: secretArn(ctx.store.config, name, ctx.newArnSuffix()),
      ...optional('description', input.Description || undefined),
      ...optional('kmsKeyId', input.KmsKeyId || undefined),
      ...optional('tags', tags),
      createdDate: now,
      lastChangedDate: now,
      labels: {},
      versions: {},
    };
    if (!value || !versionId) {
      return {
        result: { ARN: secret.arn, Name: name },
        changes: [indexChange(secret)],
        message: commitMessage('create-secret', name, 'created without a value', [`arn: ${secret.arn}`]),
      };
    }
    const added = await addVersion(ctx, secret, versionId, value);
    return {
      result: { ARN: secret.arn, Name: name, VersionId: versionId },
      changes: added.changes,
      message: commitMessage('create-secret', name, `created with version ${versionId}`, [`arn: ${secret.arn}`, ...added.log]),
    };
  },
};
