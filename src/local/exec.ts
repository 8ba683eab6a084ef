/**
 * The process side of `secretstore exec` and `secretstore env`: read the secrets through the store's
 * GetSecretValue (one call per secret, so every read rule applies), and run a program with them in its
 * environment. The values go only into the child's environment object: never into argv, a file, or this
 * process's own environment.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ResourceNotFoundException } from '../errors.js';
import { withoutPassphrases } from '../terminal/passphrase.js';
import { mapSecrets, checkNoNul, toEnvObject, type EnvVariable, type MappingOptions, type SecretValueSource } from '../core/env-mapping.js';
import type { SecretStore } from '../store/secret-store.js';

export interface ReadOptions {
  readonly versionStage?: string;
  readonly versionId?: string;
}

/** GetSecretValue for each secret, in order: the values the mapping takes. */
export async function readSecretValues(store: SecretStore, secretIds: readonly string[], options: ReadOptions = {}): Promise<SecretValueSource[]> {
  const values: SecretValueSource[] = [];
  for (const secretId of secretIds) {
    const response = await store
      .run('GetSecretValue', {
        SecretId: secretId,
        ...(options.versionStage === undefined ? {} : { VersionStage: options.versionStage }),
        ...(options.versionId === undefined ? {} : { VersionId: options.versionId }),
      })
      .catch((err: unknown) => {
        // With several --secret-id, say which one is missing.
        if (err instanceof ResourceNotFoundException) throw new ResourceNotFoundException(`${err.message} (--secret-id ${secretId})`);
        throw err;
      });
    values.push({
      name: response.Name,
      ...(response.SecretString === undefined ? {} : { secretString: response.SecretString }),
      ...(response.SecretBinary === undefined ? {} : { secretBinary: response.SecretBinary }),
    });
  }
  return values;
}

/** The values, then the pure mapping (names, collisions, binary refusal). */
export async function readVariables(store: SecretStore, secretIds: readonly string[], options: ReadOptions & MappingOptions = {}): Promise<EnvVariable[]> {
  return mapSecrets(await readSecretValues(store, secretIds, options), options);
}

/** How the child ended, and the exit code secretstore passes on. */
export type ChildOutcome =
  | { readonly kind: 'exited'; readonly exitCode: number }
  /** Killed by a signal: exit code 128 + the signal's number, as shells report it. */
  | { readonly kind: 'signaled'; readonly signal: NodeJS.Signals; readonly exitCode: number }
  /** Could not be started: 127 when the program was not found, 126 otherwise, as shells do. */
  | { readonly kind: 'failed'; readonly message: string; readonly exitCode: number };

/** Signals sent to secretstore that are passed on to the child (which decides what they mean). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface RunOptions {
  /** The environment the child inherits, less any identity passphrase; the variables are added to a copy (never written back). */
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/**
 * Runs `command args` with stdin/stdout/stderr inherited and `vars` added to a copy of `baseEnv`, forwarding
 * SIGINT, SIGTERM and SIGHUP to it while it runs, and resolves when it has ended.
 */
export function runWithVariables(command: string, args: readonly string[], vars: readonly EnvVariable[], options: RunOptions): Promise<ChildOutcome> {
  checkNoNul(vars);
  // The program gets its secrets, not the passphrase of the identity that read them.
  const env: NodeJS.ProcessEnv = { ...withoutPassphrases(options.baseEnv), ...toEnvObject(vars) };
  return new Promise((resolve) => {
    let settled = false;
    const forwarders = new Map<NodeJS.Signals, () => void>();
    const finish = (outcome: ChildOutcome) => {
      if (settled) return;
      settled = true;
      for (const [signal, handler] of forwarders) process.off(signal, handler);
      resolve(outcome);
    };

    const child = spawn(command, [...args], { env, cwd: options.cwd, stdio: 'inherit' });
    for (const signal of FORWARDED_SIGNALS) {
      const handler = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      };
      forwarders.set(signal, handler);
      process.on(signal, handler);
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      // An 'error' with no pid means the program could not be started; after a start it is a failed kill.
      if (child.pid !== undefined) return;
      const notFound = err.code === 'ENOENT';
      finish({ kind: 'failed', message: `${command}: ${notFound ? 'command not found' : err.message}`, exitCode: notFound ? 127 : 126 });
    });
    child.once('exit', (code, signal) => {
      if (signal !== null) finish({ kind: 'signaled', signal, exitCode: 128 + signalNumber(signal) });
      else finish({ kind: 'exited', exitCode: code ?? 0 });
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return (constants.signals as Record<string, number | undefined>)[signal] ?? 0;
}
