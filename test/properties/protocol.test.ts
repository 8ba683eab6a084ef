/**
 * Properties of serve's AWS JSON 1.1 request parsing (src/server/protocol.ts), and of the operations
 * behind it: any target header and any body give an operation's input or a named protocol error; any
 * input gives the operation's result or an AWS-named exception, leaves the store as it was when it
 * fails, and its answer is always a JSON body.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect } from 'vitest';
import { decodeRequest, encodeError, encodeResponse, operationOf } from '../../src/server/protocol.js';
import { operations, type OperationName } from '../../src/ops/table.js';
import { anyText, property, propertyAsync, resultOrNamedError, resultOrNamedErrorAsync } from './fuzz.js';
import { memberValue } from './arbitraries.js';
import { makeKeys, seededStore, type MemoryStore } from './memory-store.js';

const NAMES = Object.keys(operations) as OperationName[];
const operationName = fc.constantFrom(...NAMES);

/** A member's JSON as a client sends it: well typed (blobs as base64), or any JSON at all. */
function memberJson(type: string): fc.Arbitrary<unknown> {
  const typed = memberValue(type).map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
  return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}
const requestBody = operationName.chain((name) =>
  fc
    .record(Object.fromEntries(operations[name].params.map((p) => [p.member, memberJson(p.type)])), { requiredKeys: [] })
    .map((members) => ({ name, body: JSON.stringify(members) })),
);

describe('protocol: AWS JSON 1.1 requests of serve', () => {
  let seeded: MemoryStore;
  beforeAll(async () => {
    seeded = await seededStore(await makeKeys());
  });

  property(
    'protocol: any X-Amz-Target names an operation of the table or is a named protocol error',
    fc.property(fc.oneof(fc.string(), operationName.map((n) => `secretsmanager.${n}`), fc.constantFrom('secretsmanager.', 'secretsmanager.__proto__', 'secretsmanager.constructor', 'secretsmanager.toString')), (target) => {
      const outcome = resultOrNamedError(() => operationOf(target));
      if ('value' in outcome) expect(NAMES).toContain(outcome.value);
      else expect(['UnknownOperationException', 'InvalidRequestException']).toContain(outcome.error.name);
    }),
    300,
  );

  property(
    'protocol: any body decodes to the members of the operation or is a SerializationException',
    fc.property(operationName, fc.oneof(anyText(requestBody.map((r) => r.body)), fc.jsonValue().map((v) => JSON.stringify(v))), (name, body) => {
      const outcome = resultOrNamedError(() => decodeRequest(name, Buffer.from(body)));
      if ('error' in outcome) {
        expect(outcome.error.name).toBe('SerializationException');
        return;
      }
      const members = operations[name].params.map((p) => p.member);
      for (const key of Object.keys(outcome.value)) expect(members).toContain(key);
    }),
    300,
  );

  propertyAsync(
    'protocol: any request gives the result or an AWS-named exception, a failed one changes nothing, and the answer is JSON',
    fc.asyncProperty(requestBody, async ({ name, body }) => {
      const store = seeded.copy();
      const before = new Map(store.files);
      const outcome = await resultOrNamedErrorAsync(async () => store.run(name, decodeRequest(name, Buffer.from(body)) as never));
      if ('error' in outcome) {
        expect(store.files).toEqual(before);
        const reply = encodeError(outcome.error);
        expect(reply.status === 400 || reply.status === 500).toBe(true);
        expect(JSON.parse(reply.body)).toEqual({ __type: outcome.error.name, Message: outcome.error.message });
        // a client error is the caller's to fix: never a 500 for a request the store could read
        expect(outcome.error.name).not.toBe('InternalServiceError');
      } else {
        expect(typeof JSON.parse(encodeResponse(outcome.value))).toBe('object');
        if (!operations[name].mutates) expect(store.files).toEqual(before);
      }
    }),
    150,
    5,
  );
});
