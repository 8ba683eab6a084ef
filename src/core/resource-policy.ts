/**
 * Resource policies offline (spec 3.16): checked as a policy document, stored in the secret's index,
 * shown in review; never enforced (recipients, writers and scopes are what is enforced).
 *
 * The checks follow what AWS documents for ValidateResourcePolicy, as far as they can be made offline:
 * - SYNTAX_CHECK: a JSON object with `Statement` (and optionally `Version`, `Id`); each statement has
 *   `Effect` Allow or Deny, one of `Action`/`NotAction`, one of `Principal`/`NotPrincipal`, and only the
 *   policy grammar's keys;
 * - PUBLIC_ACCESS_CHECK: no statement allows a wildcard principal (`"*"`, `{"AWS": "*"}`) without a
 *   `Condition`: AWS's reasoning engine is not available offline, and this is the case its documentation
 *   names ("for example policies that use a wildcard for the principal").
 * The check names are secretstore's: AWS documents the member, not its values.
 *
 * A stored policy is the document re-written as indented JSON: a change then reads line by line in the
 * index diff and in review.
 */
import { MalformedPolicyDocumentException, PublicPolicyException } from '../errors.js';
import type { ValidationErrorsEntry } from '../model/resource-policy.js';
import { checkLength, required } from './validate.js';

export const SYNTAX_CHECK = 'SYNTAX_CHECK';
export const PUBLIC_ACCESS_CHECK = 'PUBLIC_ACCESS_CHECK';
/** The model's NonEmptyResourcePolicyType (and AWS's quota for a resource policy). */
export const MAX_POLICY_CHARS = 20_480;

const TOP_KEYS = ['Version', 'Id', 'Statement'];
const STATEMENT_KEYS = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];
const VERSIONS = ['2012-10-17', '2008-10-17'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string'));

export interface CheckedPolicy {
  /** The document as stored: indented JSON; absent when the syntax check failed. */
  readonly text?: string;
  readonly errors: ValidationErrorsEntry[];
}

function statementErrors(st: unknown, at: string): string[] {
  if (!isObject(st)) return [`${at} must be a JSON object`];
  const errors: string[] = [];
  const extra = Object.keys(st).filter((k) => !STATEMENT_KEYS.includes(k));
  if (extra.length > 0) errors.push(`${at} has an element the policy grammar does not know: ${extra[0]}`);
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') errors.push(`${at} must have Effect "Allow" or "Deny"`);
  const one = (a: string, b: string) => {
    if ((st[a] === undefined) === (st[b] === undefined)) errors.push(`${at} must have exactly one of ${a} and ${b}`);
  };
  one('Action', 'NotAction');
  one('Principal', 'NotPrincipal');
  for (const key of ['Action', 'NotAction', 'Resource', 'NotResource']) {
    if (st[key] !== undefined && !isStrings(st[key])) errors.push(`${at} ${key} must be a string or a non-empty list of strings`);
  }
  for (const key of ['Principal', 'NotPrincipal']) {
    const p = st[key];
    if (p !== undefined && p !== '*' && !(isObject(p) && Object.keys(p).length > 0 && Object.values(p).every(isStrings))) {
      errors.push(`${at} ${key} must be "*" or a map such as {"AWS": "arn:aws:iam::123456789012:root"}`);
    }
  }
  if (st.Condition !== undefined && !isObject(st.Condition)) errors.push(`${at} Condition must be a JSON object`);
  return errors;
}

function syntaxErrors(doc: unknown): string[] {
  if (!isObject(doc)) return ['The policy must be a JSON object'];
  const errors: string[] = [];
  const extra = Object.keys(doc).filter((k) => !TOP_KEYS.includes(k));
  if (extra.length > 0) errors.push(`The policy has an element the policy grammar does not know: ${extra[0]}`);
  if (doc.Version !== undefined && !VERSIONS.includes(doc.Version as string)) errors.push(`Version must be one of ${VERSIONS.join(', ')}`);
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
  if (statements.length === 0) errors.push('The policy must have at least one Statement');
  statements.forEach((st, i) => errors.push(...statementErrors(st, `Statement ${i + 1}`)));
  return errors;
}

const wildcard = (p: unknown) => p === '*' || (Array.isArray(p) && p.includes('*'));

/** Whether an Allow statement without a Condition names every principal. */
function isPublic(doc: Json): boolean {
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Json[];
  return statements.some((st) => {
    if (st.Effect !== 'Allow' || st.Condition !== undefined) return false;
    if (st.NotPrincipal !== undefined) return true; // everyone but a few
    const p = st.Principal;
    return wildcard(p) || (isObject(p) && Object.values(p).some(wildcard));
  });
}

/** Both checks; a policy that is not JSON fails the syntax check and is not checked further. */
export function checkPolicy(text: string | undefined): CheckedPolicy {
  const policy = required('resourcePolicy', text);
  checkLength('resourcePolicy', policy, 1, MAX_POLICY_CHARS, true);
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch (err) {
    return { errors: [{ CheckName: SYNTAX_CHECK, ErrorMessage: `The policy is not valid JSON: ${(err as Error).message}` }] };
  }
  const syntax = syntaxErrors(doc);
  if (syntax.length > 0) return { errors: syntax.map((ErrorMessage) => ({ CheckName: SYNTAX_CHECK, ErrorMessage })) };
  const errors = isPublic(doc as Json)
    ? [{ CheckName: PUBLIC_ACCESS_CHECK, ErrorMessage: 'The policy grants access to every principal (a wildcard Principal without a Condition).' }]
    : [];
  return { text: JSON.stringify(doc, null, 2), errors };
}

/**
 * What put-resource-policy stores: a policy that fails the syntax check is a
 * MalformedPolicyDocumentException; a public one a PublicPolicyException when BlockPublicPolicy asks.
 */
export function policyToStore(text: string | undefined, blockPublic: boolean): string {
  const checked = checkPolicy(text);
  if (checked.text === undefined) throw new MalformedPolicyDocumentException(checked.errors[0]!.ErrorMessage);
  if (blockPublic && checked.errors.length > 0) {
    throw new PublicPolicyException(`${checked.errors[0]!.ErrorMessage} BlockPublicPolicy refuses it.`);
  }
  return checked.text;
}
