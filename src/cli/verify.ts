/**
 * `secretstore verify` (checks the whole store; src/shell/verify.ts) and `secretstore sign` (re-signs
 * hand-edited indexes and configuration in one commit; src/shell/sign.ts).
 */
import type { Command } from 'commander';
import { progressStream, storeOptions, type CliIo, type GlobalOptions, type Printer } from './program.js';

/** Exit code of `verify` when it found something (an error of its own exits 254, as every command). */
export const EXIT_FINDINGS = 1;

export function addVerifyCommands(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  program
    .command('verify')
    .helpGroup('Teams and trust')
    .description(
      'Check the whole store: every sealed file opens (or, for a non-recipient, its header is bound to its place), every label ' +
        'points at a version, every index and configuration change is signed by a trusted writer and follows the state it replaced, ' +
        `nothing but indexes and sealed files is tracked under secrets/, no identity file is tracked, the hook is installed. ` +
        `Prints one "FINDING <file>: <what>" line per problem and exits ${EXIT_FINDINGS} if there is any.`,
    )
    .addHelpText('after', '\nExample:\n  secretstore verify && git push    # e.g. in .git/hooks/pre-push')
    .action(async () => {
      io.operation = 'Verify';
      const [{ SecretStore }, { verifyStore }, { progressOn }] = await Promise.all([
        import('../shell/store.js'),
        import('../shell/verify.js'),
        import('../shell/progress.js'),
      ]);
      // verify reports what reads would refuse (an untrusted configuration too) instead of stopping at it.
      const store = await SecretStore.open({ ...storeOptions(globals(), io), allowUnsigned: true, warn: () => undefined });
      const report = await verifyStore(store, progressOn(progressStream(io), io.env));
      // The report is lines by default (the global --output defaults to json for AWS commands); an explicit --output or --query gets the structure.
      const explicit = program.getOptionValueSource('output') !== 'default' && globals().output !== 'text';
      if (explicit || globals().query !== undefined) {
        await print(report, 'Verify');
      } else {
        const lines = report.Findings.map((f) => `FINDING ${f.File}: ${f.Finding}\n`);
        const checked = `${report.Secrets} secret(s), ${report.SealedFiles} sealed file(s) (${report.Opened} opened, ${report.SealedFiles - report.Opened} header checked)`;
        io.out(`${lines.join('')}verify: ${checked}: ${report.Findings.length === 0 ? 'no findings' : `${report.Findings.length} finding(s)`}\n`);
      }
      if (report.Findings.length > 0) io.exitCode = EXIT_FINDINGS;
    });

  program
    .command('sign')
    .helpGroup('Teams and trust')
    .description(
      'Commit indexes (secret.yaml) and .secretstore.yaml edited by hand, signed, in one commit ' +
        '(after resolving a conflict by hand, say). Without options: every index and the configuration that differ from HEAD. ' +
        'Refused unless your key is a trusted writer (for the configuration: an unscoped writer of the configuration at HEAD).',
    )
    .option('--secret-id <names...>', 'only these secrets (by name)')
    .option('--config', 'only (or also) .secretstore.yaml')
    .option('-m, --message <text>', "the commit message's first line (default: sign: N file(s) edited by hand...)")
    .addHelpText('after', '\nExample:\n  git merge origin/main   # a conflict in secrets/prod/db/secret.yaml, resolved in an editor\n  secretstore sign --secret-id prod/db -m "prod/db: merge resolved by hand"')
    .action(async (opts: { secretId?: string[]; config?: boolean; message?: string }) => {
      io.operation = 'Sign';
      const [{ SecretStore }, { signHandEdits }] = await Promise.all([import('../shell/store.js'), import('../shell/sign.js')]);
      const store = await SecretStore.open({ ...storeOptions(globals(), io), allowUnsigned: true, warn: () => undefined });
      await print(await signHandEdits(store, { ...(opts.secretId ? { secretIds: opts.secretId } : {}), config: opts.config === true, ...(opts.message ? { message: opts.message } : {}) }), 'Sign');
    });
}
