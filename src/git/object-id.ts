import { createHash } from 'node:crypto';

/** The id git gives an object of `type` with `body` (SHA-1, or SHA-256 in a repository of 64-character ids). */
export function objectId(type: string, body: Buffer, idLength: number): string {
  return createHash(idLength === 64 ? 'sha256' : 'sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}
