import { checkPolicy } from '../core/resource-policy.js';
import type { ValidateResourcePolicyRequest, ValidateResourcePolicyResponse } from '../model/resource-policy.js';
import { findSecret } from './common.js';
import { readOnly, type Operation } from './context.js';

/**
 * Spec 3.16: the checks put-resource-policy makes (src/core/resource-policy.ts), answered in AWS's shape;
 * a SecretId, when given, must name a secret.
 */
export const validateResourcePolicy: Operation<ValidateResourcePolicyRequest, ValidateResourcePolicyResponse> = {
  name: 'ValidateResourcePolicy',
  command: 'validate-resource-policy',
  group: 'Policies and replication',
  summary: 'Check a resource policy (syntax, public access) without storing it.',
  mutates: false,
  example: 'secretstore validate-resource-policy --resource-policy file://policy.json',
  params: [
    { member: 'SecretId', type: 'string', help: 'A secret the policy is meant for (it must exist).' },
    { member: 'ResourcePolicy', type: 'string', required: true, help: 'The policy document as JSON (or file://path).' },
  ],
  async run(ctx, input) {
    const checked = checkPolicy(input.ResourcePolicy);
    if (input.SecretId !== undefined) await findSecret(ctx, input.SecretId);
    return readOnly({ PolicyValidationPassed: checked.errors.length === 0, ValidationErrors: checked.errors });
  },
};
