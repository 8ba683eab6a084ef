/**
 * Replication offline (spec 3.16): the Regions asked for are validated as AWS validates them, recorded
 * in the secret's index and reported as replications that failed. Never a silent success, never a replica
 * that is not there.
 */
import { InvalidParameterException, ValidationException } from '../errors.js';
import type { ReplicaRegionType, ReplicationStatusType } from '../model/replication.js';
import type { ReplicaRegion, SecretIndex } from '../model/store.js';
import { checkCount, checkLength, required } from './validate.js';

/** The model's RegionType pattern. */
const REGION = /^([a-z]+-)+\d+$/;
/** What AWS reports as the KmsKeyId of a replica that uses the default key. */
export const DEFAULT_REPLICA_KEY = 'alias/aws/secretsmanager';
export const REPLICATION_OFFLINE =
  'Replication is not available offline: secretstore recorded this Region but made no replica in it.';

function checkRegion(member: string, region: string | undefined): string {
  const r = required(member, region);
  checkLength(member, r, 1, 128);
  if (!REGION.test(r)) {
    throw new ValidationException(
      `1 validation error detected: Value '${r}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-z]+-)+\\d+$`,
    );
  }
  return r;
}

/** A Region may be named once in a request, and never be the secret's own (primary) Region. */
function checkDistinct(regions: readonly string[], primary: string): void {
  const seen = new Set<string>();
  for (const region of regions) {
    if (region === primary) throw new InvalidParameterException(`Invalid replica Region ${region}: it is the primary Region of the secret.`);
    if (seen.has(region)) throw new InvalidParameterException(`Region ${region} is listed more than once.`);
    seen.add(region);
  }
}

/** AddReplicaRegions (CreateSecret, ReplicateSecretToRegions), checked against the model and the primary Region. */
export function checkReplicaRegions(list: readonly ReplicaRegionType[] | undefined, primary: string): ReplicaRegion[] | undefined {
  if (list === undefined) return undefined;
  checkCount('addReplicaRegions', list, 1, Number.MAX_SAFE_INTEGER);
  const regions = list.map((entry, i) => {
    const at = `addReplicaRegions.${i + 1}.member`;
    const region = checkRegion(`${at}.region`, entry?.Region);
    const kmsKeyId = entry?.KmsKeyId;
    checkLength(`${at}.kmsKeyId`, kmsKeyId, 0, 2048);
    return { region, ...(kmsKeyId ? { kmsKeyId } : {}) };
  });
  checkDistinct(regions.map((r) => r.region), primary);
  return regions;
}

/** The recorded Regions with `more` added; a Region recorded already is an InvalidParameterException. */
export function addRegions(secret: SecretIndex, more: readonly ReplicaRegion[]): ReplicaRegion[] {
  const recorded = secret.replicaRegions ?? [];
  for (const r of more) {
    if (recorded.some((old) => old.region === r.region)) {
      throw new InvalidParameterException(`Secret ${secret.name} is already replicated to Region ${r.region}.`);
    }
  }
  return [...recorded, ...more];
}

/** RemoveReplicaRegions, checked against the model and the primary Region. */
export function checkRemoveRegions(list: readonly string[] | undefined, primary: string): readonly string[] {
  const regions = required('removeReplicaRegions', list);
  checkCount('removeReplicaRegions', regions, 1, Number.MAX_SAFE_INTEGER);
  regions.forEach((r, i) => checkRegion(`removeReplicaRegions.${i + 1}.member`, r));
  checkDistinct(regions, primary);
  return regions;
}

/** The recorded Regions without `regions`, each of which must be recorded; the rest keep their order. */
export function removeRegions(secret: SecretIndex, regions: readonly string[]): ReplicaRegion[] {
  const recorded = secret.replicaRegions ?? [];
  for (const region of regions) {
    if (!recorded.some((r) => r.region === region)) {
      throw new InvalidParameterException(`Secret ${secret.name} is not replicated to Region ${region}.`);
    }
  }
  return recorded.filter((r) => !regions.includes(r.region));
}

/** How DescribeSecret and the replication operations report the recorded Regions. */
export function replicationStatus(regions: readonly ReplicaRegion[] | undefined): ReplicationStatusType[] {
  return (regions ?? []).map((r) => ({
    Region: r.region,
    KmsKeyId: r.kmsKeyId ?? DEFAULT_REPLICA_KEY,
    Status: 'Failed',
    StatusMessage: REPLICATION_OFFLINE,
  }));
}
