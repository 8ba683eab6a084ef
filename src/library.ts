/** The library's typed surface: one method per operation of the table, named as in the AWS SDK. */
import { operations, type InputOf, type OperationName, type OutputOf } from './ops/table.js';
import { SecretStore, type OpenStoreOptions } from './store/secret-store.js';
import type { RollbackRequest, RollbackResponse } from './model/lifecycle.js';

export type StoreApi = {
  [K in OperationName as Uncapitalize<K>]: (input: InputOf<K>) => Promise<OutputOf<K>>;
};

export type Store = StoreApi & {
  readonly client: SecretStore;
  /** `secretstore rollback`: AWSCURRENT back to the AWSPREVIOUS version (or `ToVersionId`), one commit. Not an AWS operation. */
  rollback(input: RollbackRequest): Promise<RollbackResponse>;
};

/** Open the store at `options.store` (or `$SECRETSTORE_DIR`, or the git top level of the working directory). */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const client = await SecretStore.open(options);
  const api: Record<string, unknown> = { client };
  for (const name of Object.keys(operations) as OperationName[]) {
    api[name[0]!.toLowerCase() + name.slice(1)] = (input: never) => client.run(name, input);
  }
  api.rollback = async (input: RollbackRequest) => (await import('./store/workflows.js')).rollback(client, input);
  return api as Store;
}
