/**
 * Offline teams: `secretstore sync` (fetch, semantic merge, push), `secretstore install-hooks` (this
 * clone's git integration) and the hidden `merge-driver` git itself runs (the hooks are in hooks.ts).
 */
import { Option, type Command } from 'commander';
import { progressStream, type CliIo, type GlobalOptions, type Printer } from './program.js';
import { UsageError } from './output.js';

const PREFER = ['ours', 'theirs', 'newest'] as const;

export function addSyncCommands(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  program
    .command('sync')
    .helpGroup('Offline teams')
    .description(
      'Fetch the upstream of this branch, merge it (label indexes semantically, never decrypting anything) and push. ' +
        'Both sides keep their new versions; a label both sides moved to different versions stops the sync with a report, ' +
        'and leaves the repository untouched, unless --prefer settles it.',
    )
    .addHelpText('after', '\nExample:\n  secretstore sync --prefer newest')
    .addOption(new Option('--prefer <side>', 'settle contested labels and fields: ours, theirs, or newest (the later-created version)').choices(PREFER))
    .option('--remote <remote>', "the remote to sync with (default: the branch's upstream remote)")
    .option('--max-retries <n>', 'how often a push that lost a race is retried after a new fetch and merge', '3')
    .action(async (opts: { prefer?: (typeof PREFER)[number]; remote?: string; maxRetries: string }) => {
      io.operation = 'Sync';
      const maxRetries = Number(opts.maxRetries);
      if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 100) throw new UsageError('--max-retries must be a whole number from 0 to 100');
      const [{ locateStore }, { syncStore }, { progressOn }, { writerSigner }] = await Promise.all([
        import('../store/location.js'),
        import('../offline/sync.js'),
        import('../terminal/progress.js'),
        import('../store/writer-key.js'),
      ]);
      const { store, identity } = globals();
      const loc = locateStore({ store, cwd: io.cwd, env: io.env });
      const result = await syncStore(loc, {
        ...(opts.prefer ? { prefer: opts.prefer } : {}),
        ...(opts.remote ? { remote: opts.remote } : {}),
        maxRetries,
        now: new Date(),
        env: io.env,
        signer: () => writerSigner(identity, io.env),
        warn: (line) => io.warn(line),
        progress: progressOn(progressStream(io), io.env),
      });
      if (result.Status === 'Contested') {
        io.warn(`secretstore: sync with ${result.Upstream} stopped; nothing was changed. Contested:`);
        for (const c of result.Contests) io.warn(`  ${c.Line}`);
        const { InvalidRequestException } = await import('../errors.js');
        const settle = result.Contests.every((c) => c.Preferable) ? 'rerun with --prefer ours|theirs|newest' : 'some need a person: merge with git and resolve them by hand';
        throw new InvalidRequestException(`${result.Contests.length} contested change(s) with ${result.Upstream}; ${settle}`);
      }
      if (result.Status === 'Refused') {
        io.warn(`secretstore: sync with ${result.Upstream} refused what it fetched; nothing was changed. Not authenticated:`);
        for (const c of result.Refused) io.warn(`  ${c.Why}`);
        const { InvalidRequestException } = await import('../errors.js');
        throw new InvalidRequestException(
          `${result.Refused.length} commit(s) of ${result.Upstream} do not authenticate (not made by a writer of this store); nothing was merged or signed: tell your team, and see secretstore verify`,
        );
      }
      await print(result, 'Sync');
    });

  program
    .command('install-hooks')
    .helpGroup('Offline teams')
    .description(
      "Set up this clone's git integration, which git does not clone: the pre-commit, commit-msg (signs), pre-merge-commit, post-merge and post-rewrite (re-signs) hooks and the " +
        'config of the label-index merge driver and the sealed-file diff. init runs it; run it once after git clone.',
    )
    .addHelpText('after', '\nExample:\n  git clone git@example.com:team/secrets.git && cd secrets && secretstore install-hooks')
    .action(async () => {
      io.operation = 'InstallHooks';
      const [{ locateStore }, { installHooks }] = await Promise.all([import('../store/location.js'), import('../store/init.js')]);
      const loc = locateStore({ store: globals().store, cwd: io.cwd, env: io.env });
      const result = await installHooks(loc, io.env);
      if (!result.Attributes) io.warn('secretstore: .gitattributes does not register the merge driver; add the lines init writes (see README "Sync and merging")');
      await print(result, 'InstallHooks');
    });

  // Run by git for `merge=secretstore` paths: %O %A %B %P.
  program
    .command('merge-driver', { hidden: true })
    .description('Git merge driver for secret.yaml (registered by install-hooks).')
    .argument('<base>')
    .argument('<ours>')
    .argument('<theirs>')
    .argument('<path>')
    .action(async (base: string, ours: string, theirs: string, path: string) => {
      io.operation = 'MergeDriver';
      const [{ locateStore }, { runMergeDriver }] = await Promise.all([import('../store/location.js'), import('../offline/merge-driver.js')]);
      const loc = locateStore({ store: globals().store, cwd: io.cwd, env: io.env });
      const result = await runMergeDriver(loc, {
        base,
        ours,
        theirs,
        path,
        cwd: io.cwd,
        env: io.env,
      });
      for (const note of result.notes) io.warn(note);
      if (!result.ok) io.exitCode = 1;
    });
}
