/**
 * `secretstore identity protect|unprotect [file]`: add, change or remove the passphrase of an existing
 * identity file in place (the keys stay the same). The file format and the crypto are in
 * src/crypto/passphrase.ts; where passphrases come from is in src/terminal/passphrase.ts.
 */
import type { Command } from 'commander';
import type { CliIo, GlobalOptions, Printer } from './program.js';

export function addIdentityCommands(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  const identity = program
    .command('identity')
    .description('Protect an identity file with a passphrase (Argon2id, XChaCha20-Poly1305), change it, or remove it.')
    .helpGroup('Store and keys')
    .addHelpText('after', '\nExample:\n  secretstore identity protect ~/.config/secretstore/identity')
    // main.ts configures error handling on top-level commands only; pass it on to ours.
    .hook('preSubcommand', (self, sub) => void sub.copyInheritedSettings(self));

  const change = async (file: string | undefined, remove: boolean) => {
    const [crypto, { askPassphrase, newPassphrase }] = await Promise.all([import('../crypto/index.js'), import('../terminal/passphrase.js')]);
    const path = file ?? crypto.resolveIdentityPath({ flag: globals().identity, env: io.env });
    const result = await crypto.setIdentityPassphrase(path, {
      passphrase: (request) => askPassphrase(request, io.env),
      newPassphrase: () => (remove ? Promise.resolve(null) : newPassphrase(path, io.env)),
    });
    io.warn(`${result.protected ? 'protected' : 'removed the passphrase of'} identity file ${path}`);
    await print({ IdentityFile: path, PassphraseProtected: result.protected, PublicKeys: result.publicKeys }, 'Identity');
  };

  identity
    .command('protect')
    .description(
      'Encrypt the keys of an identity file under a passphrase, or change its passphrase (and raise its Argon2id ' +
        'cost to the current default). The current passphrase comes from $SECRETSTORE_PASSPHRASE, ' +
        '$SECRETSTORE_ASKPASS or the terminal; the new one from $SECRETSTORE_NEW_PASSPHRASE, else ' +
        '$SECRETSTORE_PASSPHRASE, else the terminal (typed twice). The public keys stay readable in its comments.',
    )
    .argument('[file]', 'the identity file (default: --identity, $SECRETSTORE_IDENTITY, ~/.config/secretstore/identity)')
    .addHelpText('after', '\nExample:\n  secretstore identity protect ~/.config/secretstore/identity')
    .action(async (file: string | undefined) => {
      io.operation = 'ProtectIdentity';
      await change(file, false);
    });

  identity
    .command('unprotect')
    .description('Remove the passphrase of an identity file: its keys are stored unencrypted again (mode 0600).')
    .argument('[file]', 'the identity file (default: --identity, $SECRETSTORE_IDENTITY, ~/.config/secretstore/identity)')
    .addHelpText('after', '\nExample:\n  secretstore identity unprotect ~/.config/secretstore/identity')
    .action(async (file: string | undefined) => {
      io.operation = 'UnprotectIdentity';
      await change(file, true);
    });
}
