/**
 * The short verbs pass and gopass users reach for, beside the canonical AWS commands they are built on:
 * `get` (get-secret-value), `set` (put-secret-value, or create-secret when the secret does not exist),
 * `ls` (list-secrets), and `version`. Each one runs the table's operation through `SecretStore.run`;
 * none holds a rule of its own.
 */
import type { Command } from 'commander';
import { InvalidParameterException, InvalidRequestException, ResourceNotFoundException } from '../errors.js';
import { fieldText, jsonObject } from '../core/env-mapping.js';
import { allPages, storeOptions, type CliIo, type GlobalOptions } from './program.js';
import { packageVersion } from './version.js';
import { valueOfBytes } from '../import/sources.js';

async function openCliStore(globals: GlobalOptions, io: CliIo) {
  const [{ SecretStore }, { progressOn }] = await Promise.all([import('../store/secret-store.js'), import('../terminal/progress.js')]);
  return SecretStore.open({ ...storeOptions(globals, io), progress: progressOn(process.stderr, io.env) });
}

export function addEverydayCommands(program: Command, globals: () => GlobalOptions, io: CliIo): void {
  program
    .command('get')
    .description(
      "Print a secret's value followed by a newline, as `pass show` does (a SecretBinary as raw bytes, with no newline); " +
        'shorthand for get-secret-value, which stays the canonical command.',
    )
    .helpGroup('Everyday use')
    .argument('<name>', 'the secret: name or ARN')
    .option('--field <key>', 'print one field of a JSON object value')
    .option('--version-stage <label>', 'the label of the version to print (default AWSCURRENT)')
    .option('--version-id <id>', 'the version to print')
    .addHelpText('after', '\nExample:\n  secretstore get prod/db --field password')
    .action(async (name: string, opts: { field?: string; versionStage?: string; versionId?: string }) => {
      io.operation = 'GetSecretValue';
      const store = await openCliStore(globals(), io);
      const value = await store.run('GetSecretValue', {
        SecretId: name,
        ...(opts.versionStage === undefined ? {} : { VersionStage: opts.versionStage }),
        ...(opts.versionId === undefined ? {} : { VersionId: opts.versionId }),
      });
      if (value.SecretString === undefined) {
        if (opts.field !== undefined) throw new InvalidRequestException(`The secret ${name} holds a SecretBinary value, which has no fields.`);
        if (value.SecretBinary === undefined) throw new InvalidRequestException(`The secret ${name} has no value.`);
        io.outBytes(value.SecretBinary);
        return;
      }
      if (opts.field === undefined) {
        io.out(`${value.SecretString}\n`);
        return;
      }
      const object = jsonObject(value.SecretString);
      if (object === undefined) throw new InvalidRequestException(`The value of ${name} is not a JSON object, so it has no field ${JSON.stringify(opts.field)}.`);
      if (!Object.hasOwn(object, opts.field)) throw new InvalidParameterException(`The value of ${name} has no field ${JSON.stringify(opts.field)}.`);
      io.out(`${fieldText(object[opts.field])}\n`);
    });

  program
    .command('set')
    .description(
      'Store a value from stdin (without its trailing newline) or typed twice without echo on a terminal: a new ' +
        'AWSCURRENT version, or a new secret when there is none of that name, as `gopass insert` does; shorthand for ' +
        'put-secret-value and create-secret, which stay the canonical commands.',
    )
    .helpGroup('Everyday use')
    .argument('<name>', 'the secret: name or ARN')
    .option('--binary', 'store stdin byte for byte as a SecretBinary (input that is not UTF-8 text always is)')
    .addHelpText('after', "\nExample:\n  printf '%s' \"$DB_PASSWORD\" | secretstore set prod/db-password")
    .action(async (name: string, opts: { binary?: boolean }) => {
      io.operation = 'PutSecretValue';
      let value: { SecretString: string } | { SecretBinary: Uint8Array };
      if (io.isTerminal?.() ?? process.stdin.isTTY === true) {
        const { defaultTerminal, promptSecretValue } = await import('../terminal/prompt.js');
        const typed = await promptSecretValue(io.terminal ?? defaultTerminal(), opts.binary ? 'value' : 'SecretString');
        if (typed === undefined) {
          io.exitCode = 130;
          return;
        }
        value = opts.binary ? { SecretBinary: new TextEncoder().encode(typed) } : { SecretString: typed };
      } else {
        value = valueOfBytes(io.stdin(), opts.binary === true);
      }
      const store = await openCliStore(globals(), io);
      try {
        await store.run('PutSecretValue', { SecretId: name, ...value });
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
        io.operation = 'CreateSecret';
        await store.run('CreateSecret', { Name: name, ...value });
        io.warn(`created secret ${name}`);
      } finally {
        if ('SecretBinary' in value) value.SecretBinary.fill(0);
      }
    });

  program
    .command('ls')
    .description('List secret names, one a line, sorted; only those that start with PREFIX when given. Shorthand for list-secrets, which stays the canonical command.')
    .helpGroup('Everyday use')
    .argument('[prefix]', 'only names starting with this (a leading ! means "not starting with", as in the name filter of list-secrets)')
    .addHelpText('after', '\nExample:\n  secretstore ls prod/')
    .action(async (prefix: string | undefined) => {
      io.operation = 'ListSecrets';
      const store = await openCliStore(globals(), io);
      const filters = prefix ? { Filters: [{ Key: 'name' as const, Values: [prefix] }] } : {};
      const listed = (await allPages(['SecretList'], (token) => store.run('ListSecrets', { ...filters, ...token }))) as { SecretList?: { Name?: string }[] };
      const names = (listed.SecretList ?? []).map((s) => s.Name!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      io.out(names.map((n) => `${n}\n`).join(''));
    });

  program
    .command('version')
    .description('Print the version of secretstore (the same as --version).')
    .helpGroup('Store and keys')
    .addHelpText('after', '\nExample:\n  secretstore version')
    .action(() => {
      io.operation = 'Version';
      io.out(`secretstore ${packageVersion()}\n`);
    });
}
