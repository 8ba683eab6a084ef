/**
 * `secretstore exec` (run a program with secrets in its environment) and `secretstore env` (print the same
 * variables as dotenv, shell or JSON). Both read through GetSecretValue; the mapping is
 * `core/env-mapping.ts`, the process handling `local/exec.ts`.
 */
import { Option, type Command } from 'commander';
import { ENV_FORMATS, type EnvFormat } from '../core/env-mapping.js';
import { storeOptions, type CliIo, type GlobalOptions } from './program.js';
import { UsageError } from './output.js';

interface SecretOptions {
  secretId?: string[];
  prefix?: string;
  versionStage?: string;
  versionId?: string;
  binaryAsBase64?: boolean;
  allowEnv: string[];
}

function addSecretOptions(cmd: Command): Command {
  return cmd
    .option('--secret-id <ids...>', 'the secret(s) to read, by name or ARN (repeatable; required)')
    .option('--prefix <prefix>', 'put in front of every variable name, e.g. APP_')
    .option('--version-stage <stage>', 'the label of the versions to read (default AWSCURRENT)')
    .option('--version-id <id>', 'the version to read (one secret only)')
    .option('--binary-as-base64', 'pass a SecretBinary value base64-encoded in one variable named after the secret (refused otherwise)')
    .option(
      '--allow-env <name>',
      'let a secret set this variable although it changes how programs run (PATH, LD_*, NODE_OPTIONS, GIT_*, ...; repeatable)',
      (name: string, previous: string[]) => [...previous, name],
      [] as string[],
    );
}

/** GetSecretValue for each --secret-id, then the mapping; errors name GetSecretValue, then `mapped`. */
async function variables(opts: SecretOptions, globals: GlobalOptions, io: CliIo, mapped: string) {
  const ids = opts.secretId ?? [];
  if (ids.length === 0) throw new UsageError('the following arguments are required: --secret-id');
  if (opts.versionId !== undefined && ids.length > 1) throw new UsageError('--version-id names a version of one secret; give a single --secret-id');
  const [{ SecretStore }, { readSecretValues }, { checkPrefix, mapSecrets }] = await Promise.all([
    import('../store/secret-store.js'),
    import('../local/exec.js'),
    import('../core/env-mapping.js'),
  ]);
  // Errors name the operation that failed: the mapping's as `mapped`, a read's as GetSecretValue.
  io.operation = mapped;
  if (opts.prefix !== undefined) checkPrefix(opts.prefix);
  io.operation = 'GetSecretValue';
  const store = await SecretStore.open(storeOptions(globals, io));
  const values = await readSecretValues(store, ids, {
    ...(opts.versionStage === undefined ? {} : { versionStage: opts.versionStage }),
    ...(opts.versionId === undefined ? {} : { versionId: opts.versionId }),
  });
  io.operation = mapped;
  return mapSecrets(values, { ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }), binaryAsBase64: opts.binaryAsBase64 === true });
}

export function addExecCommands(program: Command, globals: () => GlobalOptions, io: CliIo): void {
  addSecretOptions(
    program
      .command('exec')
      .description(
        'Run COMMAND with the secrets in its environment: a JSON object gives one variable per key, any other ' +
          'string one variable named after the secret (upper-cased, [A-Z0-9_]). Put -- before the command. ' +
          "Exits with the command's exit code (128 + the signal number if a signal killed it); SIGINT, SIGTERM " +
          'and SIGHUP are forwarded to it.',
      )
      .argument('[command...]', 'the program and its arguments, after --'),
  )
    .helpGroup('Everyday use')
    // Without `--`, the command's own options (`sh -c ...`) would be unknown options of ours: let them
    // through so the action can say "put -- before the command" rather than "unknown option '-c'".
    .allowUnknownOption()
    .addHelpText('after', '\nExample:\n  secretstore exec --secret-id prod/db --prefix DB_ -- psql -h db.example')
    .action(async (command: string[], opts: SecretOptions, cmd: Command) => {
      io.operation = 'Exec';
      // Everything after `--` is the command, verbatim; without `--` its options would be read as ours.
      // (commander keeps the arguments it parsed in `rawArgs`, which its typings leave out.)
      const raw: readonly string[] = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
      const dashes = raw.indexOf('--');
      const tail = dashes < 0 ? [] : raw.slice(dashes + 1);
      const before = command.slice(0, Math.max(0, command.length - tail.length));
      if (dashes >= 0 && before.length > 0 && before[0]!.startsWith('-')) throw new UsageError(`unknown option '${before[0]}'`);
      if (command.length === 0 || tail.length !== command.length || tail.some((arg, i) => arg !== command[i])) {
        throw new UsageError('put -- before the command: secretstore exec --secret-id ID [options] -- COMMAND [ARGS...]');
      }
      const vars = await variables(opts, globals(), io, 'Exec');
      const { checkGuarded } = await import('../core/env-mapping.js');
      checkGuarded(vars, opts.allowEnv);
      const { runWithVariables } = await import('../local/exec.js');
      const [program_, ...args] = command as [string, ...string[]];
      const outcome = await runWithVariables(program_, args, vars, { baseEnv: io.env, cwd: io.cwd });
      if (outcome.kind === 'failed') io.warn(`secretstore: exec: ${outcome.message}`);
      io.exitCode = outcome.exitCode;
    });

  addSecretOptions(
    program
      .command('env')
      .description('Print the variables `exec` would set: dotenv (KEY=value, default), shell (export KEY=\'value\') or json.'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(ENV_FORMATS).default('dotenv'))
    .helpGroup('Everyday use')
    .addHelpText('after', '\nExample:\n  secretstore env --secret-id prod/db --format shell > /dev/shm/db.env')
    .action(async (opts: SecretOptions & { format: EnvFormat }) => {
      io.operation = 'Env';
      // env prints variables, not an API response: --output and --query would be silently ignored.
      if (program.getOptionValueSource('output') !== 'default' || globals().query !== undefined) {
        throw new UsageError('env does not take --output or --query: choose the format with --format dotenv|shell|json (get-secret-value takes --query)');
      }
      const vars = await variables(opts, globals(), io, 'Env');
      const { guardedVariables, renderEnv } = await import('../core/env-mapping.js');
      const text = renderEnv(vars, opts.format);
      for (const line of guardedVariables(vars, opts.allowEnv)) io.warn(`secretstore: warning: ${line}`);
      if (process.stdout.isTTY) io.warn('secretstore: warning: printing secret values to a terminal');
      io.out(text);
    });
}
