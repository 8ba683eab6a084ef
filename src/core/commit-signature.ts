/**
 * Signed commits: the one signature format of the store (docs/trust.md).
 *
 * A commit that changes the store ends its message with one trailer line:
 *
 *   Secretstore-Signature: <writer key secretstoresig1...> <base64 Ed25519 signature>
 *
 * The signature covers `payload(...)`: the format tag, the commit's tree, its parents in order and its
 * message without that line, normalised as git's stripspace does (so a message that git cleans up after
 * a `commit-msg` hook signed it still verifies). Signing the tree signs every label index, sealed file
 * and the configuration at once; signing the parents pins where the change sits in history.
 *
 * Pure: text and bytes only; signing and verifying are functions the caller passes in.
 */
export const COMMIT_SIGNATURE_FORMAT = 'secretstore.commit/1';
export const SIGNATURE_TRAILER = 'Secretstore-Signature';
/** Names the preference an unsigned merge was made with, so a reader can recompute it. */
export const MERGE_TRAILER = 'Secretstore-Merge';

const SIGNATURE_LINE = /^Secretstore-Signature: (secretstoresig1[02-9ac-hj-np-z]+) ([A-Za-z0-9+/]{86}==)$/;
const ANY_SIGNATURE_LINE = /^Secretstore-Signature:/;

/** What a commit object says of itself (`git cat-file commit`). */
export interface CommitObject {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
}

/** Parses a raw commit object: the header lines we need, and the message after the first blank line. */
export function parseCommitObject(raw: string): CommitObject {
  const split = raw.indexOf('\n\n');
  const header = split < 0 ? raw : raw.slice(0, split);
  const message = split < 0 ? '' : raw.slice(split + 2);
  let tree = '';
  const parents: string[] = [];
  for (const line of header.split('\n')) {
    // continuation lines of a multi-line header (gpgsig) start with a space and never match these
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
  }
  return { tree, parents, message };
}

/**
 * git's stripspace: trailing white space off every line, runs of blank lines collapsed to one, no blank
 * lines at either end; with `comments`, lines starting with '#' dropped first (cleanup=strip).
 */
export function stripspace(message: string, comments = false): string {
  const out: string[] = [];
  let blank = false;
  for (const raw of message.split('\n')) {
    if (comments && raw.startsWith('#')) continue;
    const line = raw.replace(/[ \t\r\v\f]+$/, '');
    if (line === '') {
      blank = out.length > 0;
      continue;
    }
    if (blank) out.push('');
    blank = false;
    out.push(line);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The message without any signature line, normalised: what the signature covers. */
export function unsignedMessage(message: string): string {
  return stripspace(
    message
      .split('\n')
      .filter((line) => !ANY_SIGNATURE_LINE.test(line))
      .join('\n'),
  );
}

/** The exact bytes a writer signs for a commit of `tree` with `parents` and `message`. */
export function payload(tree: string, parents: readonly string[], message: string): Uint8Array {
  const lines = [COMMIT_SIGNATURE_FORMAT, `tree ${tree}`, ...parents.map((p) => `parent ${p}`), '', unsignedMessage(message)];
  return new TextEncoder().encode(lines.join('\n'));
}

/** The message to commit: the draft (any old signature line dropped, normalised) with the signature line. */
export function signedMessage(draft: CommitObject, key: string, sign: (bytes: Uint8Array) => Uint8Array): string {
  const body = unsignedMessage(draft.message);
  const sig = Buffer.from(sign(payload(draft.tree, draft.parents, body))).toString('base64');
  const line = `${SIGNATURE_TRAILER}: ${key} ${sig}`;
  // A trailer joins the message's last paragraph when that paragraph is trailers already (git's habit).
  const paragraphs = body.trimEnd().split('\n\n');
  const last = paragraphs[paragraphs.length - 1] ?? '';
  const trailers = body !== '' && last.split('\n').every((l) => /^[A-Za-z0-9-]+: /.test(l)) && paragraphs.length > 1;
  return body === '' ? `${line}\n` : `${body.trimEnd()}${trailers ? '\n' : '\n\n'}${line}\n`;
}

/** The signature a message carries: the last well-formed signature line, if any. */
export interface CommitSignature {
  readonly key: string;
  readonly sig: Uint8Array;
}

export function findSignature(message: string): CommitSignature | undefined {
  let found: CommitSignature | undefined;
  for (const line of message.split('\n')) {
    const m = SIGNATURE_LINE.exec(line.trimEnd());
    if (m) found = { key: m[1]!, sig: new Uint8Array(Buffer.from(m[2]!, 'base64')) };
  }
  return found;
}

/** Whether the message holds a signature line at all (well-formed or not). */
export function claimsSignature(message: string): boolean {
  return message.split('\n').some((line) => ANY_SIGNATURE_LINE.test(line));
}

/** The preference a merge names in its `Secretstore-Merge: prefer=...` trailer. */
export function mergePreference(message: string): string | undefined {
  const m = /^Secretstore-Merge: prefer=(ours|theirs|newest)\s*$/m.exec(message);
  return m?.[1];
}
