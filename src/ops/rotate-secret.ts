/**
 * RotateSecret (spec 3.15), the pure half. Offline the rotation function is a local command, kept in
 * the RotationLambdaARN slot (spec Decisions). A rotation is three parts:
 *
 *  1. `startRotation`, one commit: check the request and the preconditions, store the rotation
 *     configuration and reserve the token as an AWSPENDING placeholder (a VersionId with no value);
 *  2. the shell (`src/store/rotation.ts`) runs the command once per step, outside the store lock, since
 *     the command itself calls `secretstore put-secret-value` and `update-secret-version-stage`;
 *  3. `finishRotation`, one commit: record LastRotatedDate and the next date (or, for a test-only run,
 *     take the placeholder away again).
 *
 * The schedule rules (AutomaticallyAfterDays, `rate(...)`, `cron(...)`) live here too, so that
 * PutSecretValue can count a new AWSCURRENT as a rotation (spec 3.2 step 7, 3.15 step 8).
 */
import { InvalidParameterException, InvalidRequestException, Messages, ResourceExistsException, ValidationException } from '../errors.js';
import { optional } from '../core/codec.js';
import { attach, AWSCURRENT, AWSPENDING, checkLabelQuota, describeMoves, type LabelMove } from '../core/labels.js';
import { checkLength, checkSecretId, checkToken } from '../core/validate.js';
import type { RotationRulesType, RotateSecretRequest, RotateSecretResponse } from '../model/rotation.js';
import type { RotationConfig, RotationRules, SecretIndex } from '../model/store.js';
import { activeSecret, findSecret, indexChange, SECRET_ID } from './common.js';
import { nextRotationDate, scheduleOf, type Schedule } from '../core/schedule.js';
import type { OpContext, Operation, Plan } from './context.js';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export const RotationMessages = {
  noFunction: 'No Lambda rotation function ARN is associated with this secret.',
  inProgress: "A previous rotation isn't complete. That rotation will be reattempted.",
  bothSchedules: "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.",
  noSchedule: 'RotationRules must have AutomaticallyAfterDays or ScheduleExpression.',
  tokenRequired: Messages.tokenRequired,
} as const;

/** The later of LastRotatedDate and the creation of the AWSCURRENT value; undefined if neither exists. */
export function rotationBase(secret: SecretIndex): Date | undefined {
  const current = secret.labels[AWSCURRENT];
  const times = [secret.rotation?.lastRotatedDate, current === undefined ? undefined : secret.versions[current]]
    .filter((t): t is string => t !== undefined)
    .map((t) => Date.parse(t));
  return times.length === 0 ? undefined : new Date(Math.max(...times));
}

/**
 * Spec 3.2 step 7: a value that becomes AWSCURRENT counts as a rotation, so an interval schedule
 * starts again from `now`. Returns the configuration unchanged when rotation is off or cron-based.
 */
export function afterNewCurrent(rotation: RotationConfig | undefined, now: Date): RotationConfig | undefined {
  if (!rotation?.enabled) return rotation;
  let schedule: Schedule | undefined;
  try {
    schedule = scheduleOf(rotation.rules);
  } catch {
    return rotation; // rules edited by hand into something unreadable: a put must not fail over them
  }
  if (schedule?.kind !== 'interval') return rotation;
  return { ...rotation, nextRotationDate: new Date(now.getTime() + schedule.ms).toISOString() };
}

/** Rotation of this secret is enabled and its NextRotationDate has passed (`secretstore rotate-due`). */
export function isDue(secret: SecretIndex, now: Date): boolean {
  const r = secret.rotation;
  return (
    secret.deletedDate === undefined &&
    r?.enabled === true &&
    r.lambdaArn !== undefined &&
    r.nextRotationDate !== undefined &&
    Date.parse(r.nextRotationDate) <= now.getTime()
  );
}

/** The version an unfinished rotation left AWSPENDING on (AWSPENDING on a version other than AWSCURRENT). */
export function pendingRotation(secret: SecretIndex): string | undefined {
  const pending = secret.labels[AWSPENDING];
  return pending !== undefined && pending !== secret.labels[AWSCURRENT] ? pending : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Validation

function ruleConstraint(member: string, value: unknown, rule: string): never {
  throw new ValidationException(`1 validation error detected: Value '${String(value)}' at 'rotationRules.${member}' failed to satisfy constraint: ${rule}`);
}

/**
 * RotationRules as the model constrains them. The CLI's shorthand (`AutomaticallyAfterDays=30`) gives
 * text, so a whole number written as text is accepted for AutomaticallyAfterDays.
 */
export function checkRotationRules(rules: RotationRulesType | undefined): RotationRules | undefined {
  if (rules === undefined) return undefined;
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) {
    throw new InvalidParameterException('RotationRules must be a structure: AutomaticallyAfterDays=N, ScheduleExpression=..., Duration=...');
  }
  const known = ['AutomaticallyAfterDays', 'Duration', 'ScheduleExpression'];
  for (const key of Object.keys(rules)) {
    if (!known.includes(key)) throw new InvalidParameterException(`Unknown parameter in RotationRules: "${key}", must be one of: ${known.join(', ')}`);
  }
  const raw = rules.AutomaticallyAfterDays as unknown;
  const days = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (days !== undefined) {
    if (typeof days !== 'number' || !Number.isInteger(days)) ruleConstraint('automaticallyAfterDays', raw, 'Member must be a whole number');
    if (days < 1) ruleConstraint('automaticallyAfterDays', days, 'Member must have value greater than or equal to 1');
    if (days > 1000) ruleConstraint('automaticallyAfterDays', days, 'Member must have value less than or equal to 1000');
  }
  const { Duration: duration, ScheduleExpression: expression } = rules;
  if (duration !== undefined) {
    if (typeof duration !== 'string' || !/^[0-9h]{2,3}$/.test(duration)) {
      ruleConstraint('duration', duration, 'Member must satisfy regular expression pattern: ^[0-9h]+$ and have length 2-3');
    }
    const hours = /^(\d{1,2})h$/.exec(duration);
    if (!hours || Number(hours[1]) < 1 || Number(hours[1]) > 24) {
      throw new InvalidParameterException(`Duration must be a whole number of hours from 1h to 24h, got '${duration}'`);
    }
  }
  if (expression !== undefined) {
    if (typeof expression !== 'string') ruleConstraint('scheduleExpression', expression, 'Member must be a string');
    checkLength('rotationRules.scheduleExpression', expression, 1, 256);
    if (!/^[0-9A-Za-z()#?*\-/, ]+$/.test(expression)) {
      ruleConstraint('scheduleExpression', expression, 'Member must satisfy regular expression pattern: [0-9A-Za-z\\(\\)#\\?\\*\\-\\/, ]+');
    }
  }
  if (days !== undefined && expression !== undefined) throw new InvalidParameterException(RotationMessages.bothSchedules);
  if (days === undefined && expression === undefined) throw new InvalidParameterException(RotationMessages.noSchedule);
  const checked: RotationRules = {
    ...optional('AutomaticallyAfterDays', days as number | undefined),
    ...optional('Duration', duration),
    ...optional('ScheduleExpression', expression),
  };
  scheduleOf(checked); // a ScheduleExpression that cannot be read fails here, before anything is stored
  return checked;
}

// ---------------------------------------------------------------------------------------------------
// The two commits

/** What the shell needs to run the steps; `response` is what RotateSecret answers. */
export interface RotationStart {
  readonly response: RotateSecretResponse;
  readonly name: string;
  readonly arn: string;
  /** The token: the VersionId reserved for AWSPENDING. */
  readonly token: string;
  /** The rotation function: a shell command. */
  readonly command: string;
  /** The repository files it runs, pinned by content (checked before each run). */
  readonly pins?: Readonly<Record<string, string>>;
  readonly steps: readonly RotationStep[];
  /** True when this call resumes an unfinished rotation with the same token (its steps run again). */
  readonly resumed: boolean;
}

function message(name: string, detail: string, lines: readonly string[]): string {
  return `rotate-secret ${name}: ${detail}\n\n${lines.join('\n')}\n`;
}

/** Only placeholders some label still points at are kept (one that lost its labels is garbage). */
export function livePlaceholders(labels: Readonly<Record<string, string>>, placeholders: Readonly<Record<string, string>>): Record<string, string> {
  const labelled = new Set(Object.values(labels));
  return Object.fromEntries(Object.entries(placeholders).filter(([id]) => labelled.has(id)));
}

/** The index with `placeholders` set, or without the key when there are none. */
export function withPlaceholders(index: SecretIndex, placeholders: Readonly<Record<string, string>>): SecretIndex {
  const { placeholders: _dropped, ...rest } = index;
  return Object.keys(placeholders).length > 0 ? { ...rest, placeholders } : rest;
}

/**
 * Spec 3.15 steps 1-5, one commit: validation, preconditions, the rotation configuration and the
 * AWSPENDING placeholder. A request whose token is the version an unfinished rotation left AWSPENDING
 * on resumes that rotation (an idempotent retry, as AWS reattempts it) instead of failing.
 */
export async function startRotation(ctx: OpContext, input: RotateSecretRequest): Promise<Plan<RotationStart>> {
  checkSecretId(input.SecretId);
  const token = input.ClientRequestToken;
  if (token === undefined) throw new InvalidParameterException(RotationMessages.tokenRequired);
  checkToken('clientRequestToken', token);
  checkLength('rotationLambdaARN', input.RotationLambdaARN, 0, 2048);
  const rules = checkRotationRules(input.RotationRules);
  const immediate = input.RotateImmediately !== false;

  const secret = await activeSecret(ctx, input.SecretId);
  const command = input.RotationLambdaARN || secret.rotation?.lambdaArn;
  if (!command) throw new InvalidRequestException(RotationMessages.noFunction);
  const pending = pendingRotation(secret);
  const resumed = pending !== undefined && pending === token;
  if (pending !== undefined && !resumed) throw new InvalidRequestException(RotationMessages.inProgress);
  if (!resumed && token in secret.versions) throw new ResourceExistsException(Messages.tokenInUse(token, secret.arn));

  const now = ctx.now;
  const kept = rules ?? secret.rotation?.rules;
  // While it runs, an immediate rotation is due now: if it fails, `rotate-due` finds it and retries.
  const next = immediate ? (kept ? now : undefined) : nextRotationDate(kept, rotationBase(secret) ?? now, now);
  // A command set now is pinned now; a kept one keeps its pins (re-pinning is setting it again), and
  // nothing starts unless the files it runs are the ones pinned in the signed index.
  const pins = input.RotationLambdaARN ? await ctx.pinCommand(command) : secret.rotation?.pins;
  if (!input.RotationLambdaARN) await ctx.checkPins(secret.name, command, pins);
  const rotation: RotationConfig = {
    enabled: true,
    lambdaArn: command,
    ...optional('pins', pins && Object.keys(pins).length > 0 ? pins : undefined),
    ...optional('rules', kept),
    ...optional('lastRotatedDate', secret.rotation?.lastRotatedDate),
    ...optional('nextRotationDate', next?.toISOString()),
  };
  const labels = { ...secret.labels };
  const moves: LabelMove[] = [];
  attach(labels, AWSPENDING, token, moves);
  // A 21st label would make every later put fail the quota, the rotation's own createSecret step included.
  checkLabelQuota(labels);
  const placeholders = { ...livePlaceholders(labels, secret.placeholders ?? {}) };
  if (!(token in secret.versions)) placeholders[token] ??= now.toISOString();
  const after = withPlaceholders({ ...secret, rotation, labels, lastChangedDate: now.toISOString() }, placeholders);

  const steps: readonly RotationStep[] = immediate ? ROTATION_STEPS : ['testSecret'];
  const log = [
    `rotation function: ${command}`,
    ...(kept ? [`rotation rules: ${JSON.stringify(kept)}`] : []),
    ...(next ? [`next rotation: ${next.toISOString()}`] : []),
    ...(resumed ? [`resumes the rotation to ${token}`] : [`placeholder: ${token}`]),
    ...describeMoves(moves),
    `steps: ${steps.join(', ')}`,
  ];
  const response = { ARN: secret.arn, Name: secret.name, VersionId: token };
  return {
    result: { response, name: secret.name, arn: secret.arn, token, command, ...optional('pins', rotation.pins), steps, resumed },
    changes: [indexChange(after)],
    message: message(secret.name, `${resumed ? 'resume' : 'start'} rotation to ${token}`, log),
  };
}

/**
 * Before each step: stop if the rotation was cancelled, the secret deleted, or AWSPENDING moved away
 * from the token while the command ran (another writer took over).
 */
export function checkStillRotating(secret: SecretIndex | undefined, token: string, step: RotationStep): void {
  const stop: (why: string) => never = (why) => {
    throw new InvalidRequestException(`Rotation stopped before step ${step}: ${why}.`);
  };
  if (secret === undefined) stop('the secret no longer exists');
  if (secret.deletedDate !== undefined) stop('the secret was scheduled for deletion');
  if (secret.rotation?.enabled !== true) stop('rotation was cancelled (cancel-rotate-secret)');
  if (secret.labels[AWSPENDING] !== token) stop(`AWSPENDING is no longer on version ${token}`);
}

/**
 * Spec 3.15 step 7, one commit after the steps. A full rotation must have left AWSCURRENT on the token's
 * (now real) version; then LastRotatedDate and the next date are recorded. A test-only run
 * (RotateImmediately=false) takes AWSPENDING and the placeholder away again, as AWS's test does
 * ("creates an AWSPENDING version and then removes it"); it also runs when the test step failed.
 */
export async function finishRotation(ctx: OpContext, name: string, token: string, immediate: boolean): Promise<Plan<void>> {
  const secret = await findSecret(ctx, name);
  const now = ctx.now;
  if (!immediate) {
    if (secret.labels[AWSPENDING] !== token) return { result: undefined, changes: [], message: '' };
    const labels = { ...secret.labels };
    delete labels[AWSPENDING];
    const placeholders = livePlaceholders(labels, secret.placeholders ?? {});
    const after = withPlaceholders({ ...secret, labels }, placeholders);
    return {
      result: undefined,
      changes: [indexChange(after)],
      message: message(name, `tested rotation, removed AWSPENDING from ${token}`, [`AWSPENDING: ${token} -> (removed)`]),
    };
  }
  if (secret.labels[AWSCURRENT] !== token || !(token in secret.versions)) {
    throw new InvalidRequestException(
      `The rotation command finished without moving AWSCURRENT to version ${token} (finishSecret must call update-secret-version-stage); LastRotatedDate was not recorded.`,
    );
  }
  const r = secret.rotation ?? { enabled: false };
  const next = r.enabled ? nextRotationDate(r.rules, now, now) : undefined;
  const { nextRotationDate: _old, ...rest } = r;
  const rotation: RotationConfig = { ...rest, lastRotatedDate: now.toISOString(), ...optional('nextRotationDate', next?.toISOString()) };
  const after: SecretIndex = { ...secret, rotation, lastChangedDate: now.toISOString() };
  return {
    result: undefined,
    changes: [indexChange(after)],
    message: message(name, `rotated to ${token}`, [`last rotated: ${now.toISOString()}`, ...(next ? [`next rotation: ${next.toISOString()}`] : [])]),
  };
}

/** Spec 3.15, rows 82-84. The shell runs it as a workflow (`src/store/workflows.ts`). */
export const rotateSecret: Operation<RotateSecretRequest, RotateSecretResponse> = {
  name: 'RotateSecret',
  command: 'rotate-secret',
  group: 'Rotation',
  summary: 'Configure rotation and rotate now: run the rotation command for createSecret, setSecret, testSecret, finishSecret.',
  mutates: true,
  workflow: true,
  example: `secretstore rotate-secret --secret-id MyTestDatabaseSecret --rotation-lambda-arn ./rotate-db.sh --rotation-rules AutomaticallyAfterDays=30`,
  params: [
    SECRET_ID,
    { member: 'ClientRequestToken', type: 'string', idempotencyToken: true, help: 'VersionId of the new AWSPENDING version (32-64 characters; a UUID is generated when omitted).' },
    {
      member: 'RotationLambdaARN',
      type: 'string',
      help: 'The rotation function: offline, a shell command run with /bin/sh -c in the store folder, once per step (default: the one configured).',
    },
    { member: 'RotationRules', type: 'structure', help: 'AutomaticallyAfterDays=N, or ScheduleExpression="rate(N days)" or "cron(...)" (UTC); Duration=Nh.' },
    { member: 'RotateImmediately', type: 'boolean', help: 'Rotate now (default); with --no-rotate-immediately only the testSecret step runs.' },
  ],
  /** Only the first commit (configuration and placeholder): the steps need the shell, see `workflow`. */
  async run(ctx, input) {
    const plan = await startRotation(ctx, input);
    return { ...plan, result: plan.result.response };
  },
};
