/** `secretstore rollback`: a convenience beyond the AWS API, built on update-secret-version-stage. */
import type { Command } from 'commander';
import { storeOptions, type CliIo, type GlobalOptions, type Printer } from './program.js';

export function addRollbackCommand(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  program
    .command('rollback')
    .helpGroup('Labels and versions')
    .description(
      'Move AWSCURRENT back to the version holding AWSPREVIOUS (or --to VERSION_ID), in one commit; AWSPREVIOUS follows, ' +
        'so a second rollback undoes the first. Not an AWS operation: the same as update-secret-version-stage with the versions looked up.',
    )
    .requiredOption('--secret-id <id>', 'name, ARN or partial ARN of the secret')
    .option('--to <version-id>', 'the version to make current (default: the one holding AWSPREVIOUS)')
    .addHelpText('after', '\nExample:\n  secretstore rollback --secret-id MyTestDatabaseSecret')
    .action(async (opts: { secretId: string; to?: string }) => {
      io.operation = 'Rollback';
      const { SecretStore } = await import('../store/secret-store.js');
      const { rollback } = await import('../store/workflows.js');
      const store = await SecretStore.open(storeOptions(globals(), io));
      await print(await rollback(store, { SecretId: opts.secretId, ...(opts.to === undefined ? {} : { ToVersionId: opts.to }) }), 'Rollback');
    });
}
