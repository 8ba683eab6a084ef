/** Printing results and errors as the AWS CLI does. */
import { SecretsManagerError } from '../errors.js';

/** AWS CLI v2 prints timestamps as ISO 8601 with microseconds and an offset. */
export function isoTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    function (this: Record<string, unknown>, key, v: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return isoTimestamp(raw);
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
      return v;
    },
    4,
  );
}

/** Exit codes of the AWS CLI: 254 for a service error, 252 for a usage error. */
export const EXIT_SERVICE_ERROR = 254;
export const EXIT_USAGE = 252;

export function errorLine(err: unknown, operation: string): string {
  const name = err instanceof SecretsManagerError ? err.name : 'InternalServiceError';
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `\nAn error occurred (${name}) when calling the ${operation} operation: ${message}`;
}
