/**
 * `secretstore recipients list|add|remove|set-scope|rekey` and `secretstore writers list|add|remove`:
 * who can read (X25519 recipients, optionally per name prefix) and who may write (Ed25519 writer keys).
 * The logic is `team/rekey.ts`; the config edits `core/recipients.ts`.
 */
import type { Command } from 'commander';
import { progressStream, storeOptions, type CliIo, type GlobalOptions, type Printer } from './program.js';

async function openStore(globals: GlobalOptions, io: CliIo) {
  const { SecretStore } = await import('../store/secret-store.js');
  return SecretStore.open(storeOptions(globals, io));
}

async function progress(io: CliIo) {
  const { progressOn } = await import('../terminal/progress.js');
  return progressOn(progressStream(io), io.env);
}

const scoped = <T extends { scope?: readonly string[] }>(e: T) => (e.scope ? { Scope: [...e.scope] } : {});

/**
 * After a recipient left (recipients remove, offboard): say what they could read, and with --rotate rotate
 * it (or list what needs a new value by hand).
 */
export async function finishRemoval(
  io: CliIo,
  print: Printer,
  store: import('../store/secret-store.js').SecretStore,
  removal: { Name: string; CouldRead: string[] },
  rotate: boolean,
  operation: string,
): Promise<void> {
  const exposed = removal.CouldRead;
  if (exposed.length > 0 && !rotate) {
    io.warn(
      `${removal.Name} could read ${exposed.length} secret(s) (CouldRead), may have kept the values, and git history keeps the files sealed to it: ` +
        'rotate them (rotate-secret, or put-secret-value where no rotation is configured; --rotate does this for you)',
    );
  }
  if (!rotate || exposed.length === 0) return print(removal, operation);
  const { rotateExposed } = await import('../team/rekey.js');
  const rotation = await rotateExposed(store, exposed);
  await print({ ...removal, ...rotation }, operation);
  if (rotation.RotateByHand.length > 0) io.warn(`${rotation.RotateByHand.length} secret(s) have no rotation configured: put a new value by hand (RotateByHand)`);
  if (rotation.Failed.length > 0) {
    const { InvalidRequestException } = await import('../errors.js');
    throw new InvalidRequestException(`${removal.Name} was removed, but ${rotation.Failed.length} rotation(s) failed: ${rotation.Failed.map((f) => f.Name).join(', ')}`);
  }
}

export function addRecipientCommands(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  const recipients = program
    .command('recipients')
    .helpGroup('Teams and trust')
    .description(
      'Who can read the store: list, add or remove recipients (X25519 public keys, optionally limited to secret name prefixes). ' +
        'A change re-wraps the file key of every affected version in the same commit; values are never decrypted.',
    )
    .addHelpText('after', '\nExample:\n  secretstore recipients add --name bob --public-key secretstore1...\n  secretstore recipients remove --name bob --rotate');

  recipients
    .command('list')
    .description('List the recipients of .secretstore.yaml.')
    .addHelpText('after', '\nExample:\n  secretstore recipients list --output table')
    .action(async () => {
      io.operation = 'ListRecipients';
      const store = await openStore(globals(), io);
      const list = store.config.recipients.map((r) => ({ Name: r.name, PublicKey: r.publicKey, ...scoped(r) }));
      await print({ Recipients: list }, 'ListRecipients');
    });

  recipients
    .command('add')
    .description('Add a recipient and re-wrap every version it may read for it, in one commit (you must be able to decrypt them).')
    .addHelpText('after', '\nExample:\n  secretstore recipients add --name ops --public-key secretstore1... --scope prod/')
    .requiredOption('--name <name>', 'a name for the recipient (unique)')
    .requiredOption('--public-key <key>', "the recipient's public key, secretstore1... (printed by its keygen)")
    .option('--scope <prefixes...>', 'only secrets whose names start with one of these prefixes (default: the whole store)')
    .action(async (opts: { name: string; publicKey: string; scope?: string[] }) => {
      io.operation = 'AddRecipient';
      const { addRecipient } = await import('../team/rekey.js');
      const store = await openStore(globals(), io);
      const input = { name: opts.name, publicKey: opts.publicKey, ...(opts.scope ? { scope: opts.scope } : {}) };
      await print(await addRecipient(store, input, await progress(io)), 'AddRecipient');
    });

  recipients
    .command('remove')
    .description(
      'Remove a recipient and re-wrap every version without it, in one commit. Prints the secrets it could read: ' +
        'it may have copies (and git history keeps the old files), so rotate them; --rotate does so.',
    )
    .addHelpText('after', '\nExample:\n  secretstore recipients remove --name bob --rotate')
    .requiredOption('--name <name>', 'the recipient to remove')
    .option('--rotate', 'then rotate each secret it could read that has rotation configured, and list the others to change by hand')
    .action(async (opts: { name: string; rotate?: boolean }) => {
      io.operation = 'RemoveRecipient';
      const { removeRecipient } = await import('../team/rekey.js');
      const store = await openStore(globals(), io);
      await finishRemoval(io, print, store, await removeRecipient(store, opts.name, await progress(io)), opts.rotate === true, 'RemoveRecipient');
    });

  recipients
    .command('set-scope')
    .description("Change a recipient's scope and re-wrap the versions that gain or lose it, in one commit.")
    .addHelpText('after', '\nExample:\n  secretstore recipients set-scope --name dev --scope dev/ staging/\n  secretstore recipients set-scope --name ops --all')
    .requiredOption('--name <name>', 'the recipient')
    .option('--scope <prefixes...>', 'the new secret name prefixes')
    .option('--all', 'no scope: the whole store')
    .action(async (opts: { name: string; scope?: string[]; all?: boolean }) => {
      io.operation = 'SetRecipientScope';
      const { UsageError } = await import('./output.js');
      if ((opts.scope === undefined) === (opts.all !== true)) throw new UsageError('give either --scope <prefixes...> or --all');
      const { setRecipientScope } = await import('../team/rekey.js');
      const store = await openStore(globals(), io);
      await print(await setRecipientScope(store, opts.name, opts.scope, await progress(io)), 'SetRecipientScope');
    });

  recipients
    .command('rekey')
    .description('Re-wrap every version whose recipients differ from .secretstore.yaml (after a hand edit or a merge), in one commit.')
    .addHelpText('after', '\nExample:\n  secretstore recipients rekey')
    .action(async () => {
      io.operation = 'Rekey';
      const { rekeyStore } = await import('../team/rekey.js');
      const store = await openStore(globals(), io);
      await print(await rekeyStore(store, await progress(io)), 'Rekey');
    });

  const writers = program
    .command('writers')
    .helpGroup('Teams and trust')
    .description(
      'Who may write: list, add or remove trusted writers (Ed25519 writer keys, optionally limited to secret name prefixes). ' +
        'Changes only .secretstore.yaml (one commit).',
    )
    .addHelpText('after', '\nExample:\n  secretstore writers add --name ci --writer-key secretstoresig1... --scope prod/');

  writers
    .command('list')
    .description('List the trusted writers of .secretstore.yaml.')
    .addHelpText('after', '\nExample:\n  secretstore writers list')
    .action(async () => {
      io.operation = 'ListWriters';
      const store = await openStore(globals(), io);
      const list = store.config.writers.map((w) => ({ Name: w.name, WriterKey: w.writerKey, ...scoped(w) }));
      await print({ Writers: list }, 'ListWriters');
    });

  writers
    .command('add')
    .description('Trust a writer key (secretstoresig1..., the second line keygen prints).')
    .addHelpText('after', '\nExample:\n  secretstore writers add --name ci --writer-key secretstoresig1...')
    .requiredOption('--name <name>', 'a name for the writer (unique)')
    .requiredOption('--writer-key <key>', "the writer's key, secretstoresig1...")
    .option('--scope <prefixes...>', 'trusted only for secrets whose names start with one of these prefixes')
    .action(async (opts: { name: string; writerKey: string; scope?: string[] }) => {
      io.operation = 'AddWriter';
      const { changeWriters } = await import('../team/rekey.js');
      const store = await openStore(globals(), io);
      const add = { name: opts.name, writerKey: opts.writerKey, ...(opts.scope ? { scope: opts.scope } : {}) };
      await print(await changeWriters(store, { add }), 'AddWriter');
    });

  writers
    .command('remove')
    .description('Stop trusting a writer.')
    .addHelpText('after', '\nExample:\n  secretstore writers remove --name ci')
    .requiredOption('--name <name>', 'the writer to remove')
    .action(async (opts: { name: string }) => {
      io.operation = 'RemoveWriter';
      const { changeWriters } = await import('../team/rekey.js');
      const store = await openStore(globals(), io);
      await print(await changeWriters(store, { remove: opts.name }), 'RemoveWriter');
    });
}
