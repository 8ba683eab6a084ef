/** Where a store lives. Found without spawning git (walk up to the `.git` entry). */
export interface StoreLocation {
  /** Absolute path of the store folder (the one that holds `.secretstore.yaml`). */
  readonly root: string;
  /** Absolute path of the git work tree's top level. */
  readonly repoRoot: string;
  /** Absolute path of the git directory (`.git`, or what a `.git` file points at). */
  readonly gitDir: string;
  /** The store folder relative to repoRoot, POSIX separators, '' or ending in '/'. */
  readonly prefix: string;
}

/** One file change of a transaction. Paths are POSIX and relative to the store root. */
export type FileChange =
  | {
      readonly path: string;
      readonly content: string | Uint8Array;
      /** Written with the executable bit (a sync bringing in a committed script); default false. */
      readonly executable?: boolean;
    }
  | { readonly path: string; readonly delete: true };

/** What an operation hands the transaction: its result, the files to change, the commit message. */
export interface Plan<T> {
  readonly result: T;
  readonly changes: readonly FileChange[];
  /** First line names the operation and secret; never holds a value. */
  readonly message: string;
  /**
   * An existing commit to move HEAD to instead of making a new one (sync: a fast-forward, or a merge
   * commit with two parents built beforehand). The changes must turn HEAD's tree into exactly its tree.
   */
  readonly commit?: string;
  /** Further parents of the new commit after HEAD (a merge: sync's, or one concluded by `secretstore sign`). */
  readonly parents?: readonly string[];
}

/** A commit about to be made: what its signature covers (see src/trust/). */
export interface CommitDraft {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
}

/** Turns a draft into the commit's final message (a writer's signature trailer appended). */
export type CommitSigner = (draft: CommitDraft) => Promise<string>;
