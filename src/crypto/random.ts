/**
 * Uniform random integers from libsodium's CSPRNG (`randombytes_uniform`: no modulo bias), for
 * GetRandomPassword. The operations get it through `OpContext.randomInt`, so they stay pure.
 */
import { InternalServiceError } from '../errors.js';
import { loadSodium } from './sodium.js';

/** A uniformly random integer in [0, upperBound); upperBound must be a whole number in 1..2^32-1. */
export async function randomInt(upperBound: number): Promise<number> {
  if (!Number.isInteger(upperBound) || upperBound < 1 || upperBound > 0xffff_ffff) {
    throw new InternalServiceError(`randomInt: upper bound ${upperBound} is out of range`);
  }
  const sodium = await loadSodium();
  return sodium.randombytes_uniform(upperBound);
}
