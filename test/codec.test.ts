/** The codec of secret.yaml and .secretstore.yaml: counterexamples the property tests (test/properties/) found. */
import { describe, expect, it } from 'vitest';
import { parseConfig, parseSecretIndex } from '../src/core/codec.js';
import { readEnvelopeHeader } from '../src/crypto/envelope.js';
import { DecryptionFailure, InternalServiceError } from '../src/errors.js';
import { parseScheduled } from '../src/ops/delete-secret.js';

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

describe('codec: YAML aliases that cannot be resolved are a damaged file, not a crash', () => {
  // The yaml library throws these from toJS() as a ReferenceError naming no file.
  const bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
  for (const [what, text] of [['an alias without its anchor', '*!'], ['an alias bomb', bomb]] as const) {
    it(`${what} in secret.yaml or .secretstore.yaml is an InternalServiceError naming the file`, () => {
      expect(() => parseSecretIndex(text, FILE)).toThrow(InternalServiceError);
      expect(() => parseSecretIndex(text, FILE)).toThrow(/^secrets\/x\/secret\.yaml is damaged: its YAML aliases cannot be resolved/);
      expect(() => parseConfig(text, '.secretstore.yaml')).toThrow(/^\.secretstore\.yaml is damaged: its YAML aliases cannot be resolved/);
    });
    it(`${what} in a sealed version file is a DecryptionFailure naming the file`, () => {
      expect(() => readEnvelopeHeader(text, 'secrets/x/versions/v.sealed')).toThrow(DecryptionFailure);
      expect(() => readEnvelopeHeader(text, 'secrets/x/versions/v.sealed')).toThrow(/^secrets\/x\/versions\/v\.sealed is not a valid sealed version file/);
    });
    it(`${what} in a scheduled-deletion entry is an InternalServiceError naming the file`, () => {
      expect(() => parseScheduled(text, '.secretstore/scheduled/x.yaml')).toThrow(InternalServiceError);
    });
  }
});
