/**
 * Running the rotation function: offline, a local command kept in the RotationLambdaARN slot (spec
 * Decisions, 3.15). The contract, one run per step:
 *
 * - the command is run as `/bin/sh -c <command>` with the store folder as working directory: it is
 *   code from the repository's configuration, trusted like a git hook, so only configure rotation in
 *   stores whose history you trust;
 * - the event `{"Step", "SecretId", "ClientRequestToken", "RotationToken"}` arrives as one line of JSON
 *   on stdin and as the environment variables SECRETSTORE_STEP, SECRETSTORE_SECRET_ID (the ARN),
 *   SECRETSTORE_CLIENT_REQUEST_TOKEN and SECRETSTORE_ROTATION_TOKEN; SECRETSTORE_DIR names this store
 *   (and SECRETSTORE_IDENTITY the identity, when one was given explicitly) so the command's own
 *   `secretstore` calls reach it. No value is ever passed, in argv or elsewhere;
 * - the command's stdout and stderr go to our stderr, so the CLI's stdout stays the JSON response;
 * - exit status 0 is success; anything else stops the rotation with an error naming the step.
 *
 * No store lock is held while the command runs: its `secretstore put-secret-value` and
 * `update-secret-version-stage` calls take the lock themselves.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { InvalidRequestException } from '../errors.js';
import type { RotationStep } from '../ops/rotate-secret.js';

export interface RotationEvent {
  readonly Step: RotationStep;
  /** The secret's ARN, as AWS passes it. */
  readonly SecretId: string;
  /** The VersionId reserved for AWSPENDING. */
  readonly ClientRequestToken: string;
  /** Opaque, one per rotation run. */
  readonly RotationToken: string;
}

export interface CommandSetting {
  /** The store folder: the working directory and SECRETSTORE_DIR. */
  readonly root: string;
  /** The environment the store was opened with. */
  readonly env: NodeJS.ProcessEnv;
  /** An identity file given explicitly (`--identity`, or `identity` when opening), passed on. */
  readonly identity?: string;
  /** The folder `identity` is relative to. */
  readonly cwd?: string;
}

/** The command's environment: the store's, plus the event and where the store is. */
export function rotationEnv(event: RotationEvent, setting: CommandSetting): NodeJS.ProcessEnv {
  return {
    ...setting.env,
    SECRETSTORE_DIR: setting.root,
    ...(setting.identity === undefined ? {} : { SECRETSTORE_IDENTITY: resolve(setting.cwd ?? process.cwd(), setting.identity) }),
    SECRETSTORE_STEP: event.Step,
    SECRETSTORE_SECRET_ID: event.SecretId,
    SECRETSTORE_CLIENT_REQUEST_TOKEN: event.ClientRequestToken,
    SECRETSTORE_ROTATION_TOKEN: event.RotationToken,
  };
}

/** Runs one step; resolves when the command exits with 0, rejects naming the step otherwise. */
export function runRotationStep(command: string, secretName: string, event: RotationEvent, setting: CommandSetting): Promise<void> {
  const failed = (why: string) =>
    new InvalidRequestException(`Rotation of secret ${secretName} failed at step ${event.Step}: the rotation command ${why}.`);
  return new Promise((done, fail) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: setting.root,
      env: rotationEnv(event, setting),
      stdio: ['pipe', 2, 2],
    });
    child.on('error', (err) => fail(failed(`could not be started (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
    child.on('close', (code, signal) => {
      if (code === 0) done();
      else fail(failed(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    });
    // A command that never reads its stdin may exit before we finish writing: that is not an error.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(JSON.stringify(event) + '\n');
  });
}
