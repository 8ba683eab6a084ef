/**
 * `secretstore trust` (what this clone trusts; pin or move the trust root; accept a rewound branch;
 * migrate a store of an older release) and `secretstore offboard` (a person out, in one commit).
 * The logic is src/team/trust-root.ts and src/team/rekey.ts.
 */
import type { Command } from 'commander';
import { finishRemoval } from './recipients.js';
import { storeOptions, type CliIo, type GlobalOptions, type Printer } from './program.js';

export function addTrustCommands(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  program
    .command('trust')
    .argument('[action]', '"migrate": move a store made by secretstore 0.1 (per-file signatures) to signed commits; "reroot": every writer key is lost, start a new root from .secretstore.yaml as edited by hand')
    .helpGroup('Teams and trust')
    .description(
      "Show what this clone trusts: the trust root (a commit and the writer key that signed it), whether HEAD authenticates, the newest commit read on each branch. " +
        'With --root, pin the trust root you got from your team out of band (or move it forward). With --accept-rewind, accept a branch that was force-pushed or reset backwards (it lists what is lost).',
    )
    .option('--root <commit>', 'pin this commit as the trust root')
    .option('--key <writer-key>', 'with --root: the writer key (secretstoresig1...) that must have signed it')
    .option('--accept-rewind', 'accept the current branch head although it does not descend from the newest state read on it')
    .option('--branch <name>', 'with --accept-rewind: that branch instead of the current one')
    .addHelpText(
      'after',
      '\nExample:\n  secretstore trust\n  secretstore trust --root 3f2a9c1e... --key secretstoresig1...\n  secretstore trust --accept-rewind\n  secretstore trust migrate\n  secretstore trust reroot',
    )
    .action(async (action: string | undefined, opts: { root?: string; key?: string; acceptRewind?: boolean; branch?: string }) => {
      io.operation = 'Trust';
      const [{ SecretStore }, manage, { UsageError }] = await Promise.all([import('../store/secret-store.js'), import('../team/trust-root.js'), import('./output.js')]);
      if (action !== undefined && action !== 'migrate' && action !== 'reroot') throw new UsageError(`unknown trust action ${JSON.stringify(action)} (migrate or reroot)`);
      if (opts.key !== undefined && opts.root === undefined) throw new UsageError('--key goes with --root');
      // Trust commands must work on a store whose HEAD does not authenticate: that is what they repair.
      const store = await SecretStore.open({ ...storeOptions(globals(), io), allowUnsigned: true, warn: () => undefined });
      try {
        if (action !== undefined) {
          const migrated = await manage.migrateStore(store, { reroot: action === 'reroot' });
          io.warn(`secretstore: share the new trust root with your team; each clone pins it with: secretstore trust --root ${migrated.Commit} --key ${migrated.WriterKey}`);
          return await print(migrated, 'TrustMigrate');
        }
        if (opts.root !== undefined) return await print(await manage.pinRoot(store.trust, opts.root, opts.key), 'TrustRoot');
        if (opts.acceptRewind) {
          const accepted = await manage.acceptRewind(store.trust, opts.branch);
          if (accepted.Lost.length > 0) io.warn(`secretstore: ${accepted.Lost.length} commit(s) this clone had read on ${accepted.Branch} are no longer on it (Lost)`);
          return await print(accepted, 'TrustAcceptRewind');
        }
        await print(await manage.trustStatus(store.trust), 'Trust');
      } finally {
        store.close();
      }
    });

  program
    .command('offboard')
    .helpGroup('Teams and trust')
    .description(
      'Remove a person as recipient and as writer in one commit, re-wrapping every version sealed to them. Lists the secrets they could read ' +
        '(they may have kept the values: rotate them; --rotate does so). What they signed while they were a writer stays valid.',
    )
    .requiredOption('--name <name>', 'the recipient and/or writer name in .secretstore.yaml')
    .option('--rotate', 'then rotate each secret they could read that has rotation configured, and list the others to change by hand')
    .addHelpText('after', '\nExample:\n  secretstore offboard --name bob --rotate')
    .action(async (opts: { name: string; rotate?: boolean }) => {
      io.operation = 'Offboard';
      const [{ SecretStore }, { offboard }, { progressOn }] = await Promise.all([import('../store/secret-store.js'), import('../team/rekey.js'), import('../terminal/progress.js')]);
      const store = await SecretStore.open(storeOptions(globals(), io));
      await finishRemoval(io, print, store, await offboard(store, opts.name, progressOn(process.stderr, io.env)), opts.rotate === true, 'Offboard');
    });
}
