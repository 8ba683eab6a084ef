/**
 * Operations that are more than one plan applied in one transaction (`workflow: true` in the table),
 * and the ways of running operations that `SecretStore.run` does not cover:
 *
 * - RotateSecret: a commit (configuration + AWSPENDING placeholder), then the rotation command once
 *   per step with no lock held (`rotation.ts`), then a commit recording the result. The rules are
 *   pure functions in `src/ops/rotate-secret.ts`; this file only sequences them.
 * - `rotateDue`: `secretstore rotate-due`, every secret whose rotation is enabled and due.
 * - `runStoreless`: an operation that never reads a store (GetRandomPassword), run outside one.
 * - `rollback`: `secretstore rollback`, UpdateSecretVersionStage with the target chosen for you.
 */
import { randomUUID } from 'node:crypto';
import { InternalServiceError, InvalidRequestException, SecretsManagerError } from '../errors.js';
import { readOnly, type OpContext } from '../ops/context.js';
import {
  checkStillRotating,
  finishRotation,
  isDue,
  pendingRotation,
  startRotation,
} from '../ops/rotate-secret.js';
import { operations, type InputOf, type OperationName, type OutputOf } from '../ops/table.js';
import type { RotateDueResult, RotateSecretRequest, RotateSecretResponse } from '../model/rotation.js';
import type { RollbackRequest, RollbackResponse } from '../model/lifecycle.js';
import { AWSCURRENT, rollbackTarget } from '../core/labels.js';
import { checkToken } from '../core/validate.js';
import { activeSecret } from '../ops/common.js';
import { updateSecretVersionStage } from '../ops/update-secret-version-stage.js';
import { commitMessage } from '../ops/versions.js';
import type { SecretIndex } from '../model/store.js';
import { noProgress, type ProgressFactory } from '../terminal/progress.js';
import { runRotationStep, type CommandSetting } from './rotation.js';
import type { SecretStore } from './secret-store.js';

/** Called by `SecretStore.run` for an operation with `workflow: true`. */
export async function runWorkflow<K extends OperationName>(store: SecretStore, name: K, input: InputOf<K>): Promise<OutputOf<K>> {
  if (name !== 'RotateSecret') throw new InternalServiceError(`${name} has no workflow`);
  await purgeExpired(store);
  return (await rotate(store, input as RotateSecretRequest)) as OutputOf<K>;
}

async function purgeExpired(store: SecretStore): Promise<void> {
  // As SecretStore.run does before any write: secrets whose recovery window has passed go first.
  await (await import('./purge.js')).purgeExpired(store, store.now());
}

function commandSetting(store: SecretStore): CommandSetting {
  const { env, identity, cwd } = store.options;
  return {
    root: store.location.root,
    env: env ?? process.env,
    ...(identity === undefined ? {} : { identity }),
    ...(cwd === undefined ? {} : { cwd }),
  };
}

/**
 * Spec 3.15. Each commit goes through `store.commit` (the lock, one commit); the command runs between
 * them without the lock. A failed step of a full rotation leaves everything where the command left it
 * (AWSCURRENT unmoved unless finishSecret moved it, AWSPENDING on the token), as in AWS; the error
 * says how to retry or abandon it. A test-only run always takes its placeholder away again.
 */
export async function rotate(store: SecretStore, input: RotateSecretRequest): Promise<RotateSecretResponse> {
  const start = await store.commit((ctx) => startRotation(ctx, input));
  const immediate = input.RotateImmediately !== false;
  const setting = commandSetting(store);
  const rotationToken = randomUUID();
  let failure: unknown;
  try {
    for (const step of start.steps) {
      // Under the lock, so the read sees no half-applied write; nothing is committed.
      await store.commit(async (ctx) => {
        checkStillRotating(await ctx.store.readSecret(start.name), start.token, step);
        return readOnly(undefined);
      });
      const event = { Step: step, SecretId: start.arn, ClientRequestToken: start.token, RotationToken: rotationToken };
      // Checked again right before each run: a pull between the steps must not change what runs.
      (await import('./rotation-pins.js')).checkPins(store.location, start.name, start.command, start.pins);
      await runRotationStep(start.command, start.name, event, setting);
    }
  } catch (err) {
    failure = err;
  }
  if (failure !== undefined && immediate) throw explainFailure(failure, start.name, start.token);
  await store.commit((ctx) => finishRotation(ctx, start.name, start.token, immediate));
  if (failure !== undefined) throw failure;
  return start.response;
}

function explainFailure(err: unknown, name: string, token: string): unknown {
  if (!(err instanceof InvalidRequestException)) return err;
  return new InvalidRequestException(
    `${err.message} AWSPENDING stays on version ${token}: rotate-secret --secret-id ${name} --client-request-token ${token} ` +
      `retries it; cancel-rotate-secret and update-secret-version-stage --version-stage AWSPENDING --remove-from-version-id ${token} abandon it.`,
  );
}

/**
 * `secretstore rotate-due`: rotates every secret whose rotation is enabled and whose NextRotationDate
 * has passed, one after the other; a failure is reported and the others still run. A secret whose
 * last rotation did not finish is retried with the same token (AWS reattempts it too).
 */
export async function rotateDue(
  store: SecretStore,
  options: { dryRun?: boolean; progress?: ProgressFactory } = {},
): Promise<RotateDueResult> {
  const now = store.now();
  const progress = options.progress ?? noProgress;
  const view = store.view(progress);
  const due: SecretIndex[] = [];
  const names = await view.listSecretNames();
  // Only the scan: the rotation commands below write to the same stderr.
  const bar = progress('rotate-due: checking', names.length);
  try {
    for (const name of names) {
      const secret = await view.readSecret(name);
      bar.tick();
      if (secret !== undefined && isDue(secret, now)) due.push(secret);
    }
  } finally {
    bar.done();
  }
  const result: RotateDueResult = { Rotated: [], Failed: [] };
  if (options.dryRun) {
    return { ...result, Due: due.map((s) => ({ ARN: s.arn, Name: s.name, NextRotationDate: new Date(s.rotation!.nextRotationDate!) })) };
  }
  if (due.length > 0) await purgeExpired(store);
  for (const secret of due) {
    try {
      const token = pendingRotation(secret) ?? randomUUID();
      result.Rotated.push(await rotate(store, { SecretId: secret.arn, ClientRequestToken: token }));
    } catch (err) {
      result.Failed.push({
        ARN: secret.arn,
        Name: secret.name,
        ErrorCode: err instanceof SecretsManagerError ? err.name : 'InternalServiceError',
        Message: err instanceof Error ? err.message.split('\n')[0]! : String(err),
      });
    }
  }
  return result;
}

/**
 * Runs an operation that never reads the store (`storeless: true`, e.g. GetRandomPassword) without
 * one, so `secretstore get-random-password` also works outside a store.
 */
export async function runStoreless<K extends OperationName>(name: K, input: InputOf<K>, now: Date = new Date()): Promise<OutputOf<K>> {
  const op = operations[name];
  if (!('storeless' in op && op.storeless)) throw new InvalidRequestException(`${op.command} needs a store`);
  const noStore = (): never => {
    throw new InternalServiceError(`${op.command} is marked storeless but used the store`);
  };
  const ctx: OpContext = {
    get store(): never {
      return noStore();
    },
    now,
    seal: async () => noStore(),
    sameValue: async () => noStore(),
    newArnSuffix: noStore,
    pinCommand: async () => noStore(),
    checkPins: async () => noStore(),
    randomInt: async (upperBound) => (await import('../crypto/random.js')).randomInt(upperBound),
  };
  const plan = await (op.run as (ctx: OpContext, input: unknown) => Promise<{ result: OutputOf<K> }>)(ctx, input);
  return plan.result;
}

/**
 * `secretstore rollback` and the library's `rollback` (not an AWS operation, so not in the table, and not
 * served): AWSCURRENT goes back to the version holding AWSPREVIOUS, or to `ToVersionId`, in one commit.
 * The target is chosen by `rollbackTarget`; the move is UpdateSecretVersionStage itself (its checks, its
 * label algebra, its index change), under a commit message of its own.
 */
export async function rollback(store: SecretStore, input: RollbackRequest): Promise<RollbackResponse> {
  await purgeExpired(store);
  return store.commit(async (ctx) => {
    checkToken('toVersionId', input.ToVersionId);
    const secret = await activeSecret(ctx, input.SecretId);
    const { from, to } = rollbackTarget(secret.name, secret.labels, input.ToVersionId);
    const plan = await updateSecretVersionStage.run(ctx, {
      SecretId: secret.arn,
      VersionStage: AWSCURRENT,
      RemoveFromVersionId: from,
      MoveToVersionId: to,
    });
    // The label moves are the body of UpdateSecretVersionStage's message (commitMessage: subject, blank, lines).
    const moves = plan.message.split('\n').slice(2).filter((line) => line !== '');
    return {
      result: { ARN: secret.arn, Name: secret.name, VersionId: to, PreviousVersionId: from },
      changes: plan.changes,
      message: commitMessage('rollback', secret.name, `${AWSCURRENT} back to version ${to}`, moves),
    };
  });
}
