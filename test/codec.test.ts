/** The codec of secret.yaml and .secretstore.yaml: counterexamples the property tests (test/properties/) found. */
import { describe, expect, it } from 'vitest';
import { parseSecretIndex } from '../src/core/codec.js';
import { InternalServiceError } from '../src/errors.js';

const FILE = 'secrets/x/secret.yaml';
const index = (labels: string) =>
  `name: x\narn: arn:aws:secretsmanager:us-east-1:000000000000:secret:x-AbCdEf\ncreatedDate: 2026-12-06T12:00:00.000Z\n` +
  `lastChangedDate: 2026-12-06T12:00:00.000Z\nlabels:\n${labels}versions:\n  v1: 2026-12-06T12:00:00.000Z\n`;

describe('codec: damaged files give one-line errors', () => {
  it('a label name with a line break in a damaged index is quoted escaped: the error stays one line', () => {
    const text = index('  "a\\nb": v2\n  AWSCURRENT: v1\n');
    expect(() => parseSecretIndex(text, FILE)).toThrow(InternalServiceError);
    expect(() => parseSecretIndex(text, FILE)).toThrow(/^secrets\/x\/secret\.yaml is damaged: label a\\u000ab points at version v2, which is not listed under versions$/);
  });
});
