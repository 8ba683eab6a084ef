/**
 * `secretstore verify` (checks the whole store; src/team/verify.ts) and `secretstore sign` (re-signs
 * hand-edited indexes and configuration in one commit; src/team/sign.ts).
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
      'Check the store and its history: every commit from the trust root to HEAD was made by a writer its parent authorises ' +
        '(or is a merge secretstore itself would make), every sealed file opens (or, for a non-recipient, its header is bound to its place), ' +
        'every label points at a version, nothing but indexes and sealed files is committed under secrets/, no identity file is committed, ' +
        "every rotation command's pinned files are unchanged, the hooks are installed. With --range OLD..NEW, only the commits NEW adds " +
        `(a CI check, or a server's pre-receive hook: it also works in a bare repository). Prints one "FINDING <what>: <why>" line per problem and exits ${EXIT_FINDINGS} if there is any.`,
    )
    .option('--range <old..new>', 'only the history NEW adds to OLD (OLD must authenticate; all zeros: a new branch)')
    .option('--root <commit>', 'authenticate from this trust root for this run (default: the clone\'s)')
    .option('--key <writer-key>', 'with --root: the writer key that must have signed it')
    .addHelpText('after', '\nExample:\n  secretstore verify && git push    # e.g. in .git/hooks/pre-push\n  secretstore verify --range origin/main..HEAD    # a required CI check')
    .action(async (opts: { range?: string; root?: string; key?: string }) => {
      io.operation = 'Verify';
      const [{ verifyStore, verifyHistory }, { progressOn }, { UsageError }] = await Promise.all([
        import('../team/verify.js'),
        import('../terminal/progress.js'),
        import('./output.js'),
      ]);
      if (opts.key !== undefined && opts.root === undefined) throw new UsageError('--key goes with --root');
      const explicit = program.getOptionValueSource('output') !== 'default' && globals().output !== 'text';
      const report = async (out: { Findings: { File: string; Finding: string }[] }, summary: string) => {
        // The report is lines by default (the global --output defaults to json for AWS commands); an explicit --output or --query gets the structure.
        if (explicit || globals().query !== undefined) await print(out, 'Verify');
        else io.out(`${out.Findings.map((f) => `FINDING ${f.File}: ${f.Finding}\n`).join('')}verify: ${summary}: ${out.Findings.length === 0 ? 'no findings' : `${out.Findings.length} finding(s)`}\n`);
        if (out.Findings.length > 0) io.exitCode = EXIT_FINDINGS;
      };
      if (opts.range !== undefined) {
        const match = /^([^.\s][^\s]*?)\.\.([^.\s][^\s]*)$/.exec(opts.range);
        if (!match) throw new UsageError('--range takes OLD..NEW');
        const [{ locateRepository }, { ObjectReader }, { Authenticator }] = await Promise.all([
          import('../store/location.js'),
          import('../git/objects.js'),
          import('../trust/authenticate.js'),
        ]);
        const loc = locateRepository({ store: globals().store, cwd: io.cwd, env: io.env });
        const objects = new ObjectReader(loc.repoRoot, io.env);
        const root = opts.root === undefined ? undefined : { commit: await resolveCommit(loc.repoRoot, opts.root), ...(opts.key ? { key: opts.key } : {}), how: 'pinned' as const };
        const auth = new Authenticator(loc, objects, io.env, io.warn, root);
        try {
          const { findings, commits } = await verifyHistory(auth, match[2]!, match[1]!);
          await report({ Findings: findings }, `${commits} commit(s) checked`);
        } finally {
          auth.close();
          objects.close();
        }
        return;
      }
      const { SecretStore } = await import('../store/secret-store.js');
      // verify reports what reads would refuse (an unauthenticated HEAD too) instead of stopping at it.
      const store = await SecretStore.open({ ...storeOptions(globals(), io), allowUnsigned: true, warn: () => undefined });
      try {
        const result = await verifyStore(store, progressOn(progressStream(io), io.env));
        const checked = `${result.Commits} commit(s), ${result.Secrets} secret(s), ${result.SealedFiles} sealed file(s) (${result.Opened} opened, ${result.SealedFiles - result.Opened} header checked)`;
        await report(result, checked);
      } finally {
        store.close();
      }
    });

  program
    .command('sign')
    .helpGroup('Teams and trust')
    .description(
      'Commit indexes (secret.yaml) and .secretstore.yaml edited by hand in one commit signed by your writer key; during a merge ' +
        '(a conflict resolved by hand) it concludes the merge, with both parents. Without options: every index and the configuration that differ from HEAD. ' +
        'Refused unless your key is a writer HEAD\'s configuration authorises (for the configuration: an unscoped writer).',
    )
    .option('--secret-id <names...>', 'only these secrets (by name)')
    .option('--config', 'only (or also) .secretstore.yaml')
    .option('-m, --message <text>', "the commit message's first line (default: sign: N file(s) edited by hand...)")
    .addHelpText('after', '\nExample:\n  git merge origin/main   # a conflict in secrets/prod/db/secret.yaml, resolved in an editor\n  secretstore sign --secret-id prod/db -m "prod/db: merge resolved by hand"')
    .action(async (opts: { secretId?: string[]; config?: boolean; message?: string }) => {
      io.operation = 'Sign';
      const [{ SecretStore }, { signHandEdits }] = await Promise.all([import('../store/secret-store.js'), import('../team/sign.js')]);
      const store = await SecretStore.open({ ...storeOptions(globals(), io), allowUnsigned: true, warn: () => undefined });
      await print(await signHandEdits(store, { ...(opts.secretId ? { secretIds: opts.secretId } : {}), config: opts.config === true, ...(opts.message ? { message: opts.message } : {}) }), 'Sign');
    });
}

async function resolveCommit(repoRoot: string, rev: string): Promise<string> {
  const { openGit } = await import('../git/client.js');
  const { InvalidParameterException } = await import('../errors.js');
  const out = await openGit(repoRoot).run(['rev-parse', '--verify', '-q', `${rev}^{commit}`]).catch(() => '');
  if (!out.trim()) throw new InvalidParameterException(`--root ${rev} is not a commit of this repository`);
  return out.trim();
}
