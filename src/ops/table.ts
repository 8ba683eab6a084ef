/**
 * The one list of operations. The CLI, the library (and later the HTTP server) are all derived from it;
 * none of them holds a business rule of its own.
 */
import { createSecret } from './create-secret.js';
import { describeSecret } from './describe-secret.js';
import { getSecretValue } from './get-secret-value.js';
import { listSecretVersionIds } from './list-secret-version-ids.js';
import { putSecretValue } from './put-secret-value.js';

export const operations = {
  CreateSecret: createSecret,
  PutSecretValue: putSecretValue,
  GetSecretValue: getSecretValue,
  DescribeSecret: describeSecret,
  ListSecretVersionIds: listSecretVersionIds,
} as const;

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type InputOf<K extends OperationName> = Parameters<Operations[K]['run']>[1];
export type OutputOf<K extends OperationName> = Awaited<ReturnType<Operations[K]['run']>>['result'];
