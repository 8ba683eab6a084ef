/** The commands that have no AWS counterpart: keygen, init, prune, rotate-due, serve, exec, env, edit and the pre-commit hook. */
import { Argument, type Command } from 'commander';
import { SHELLS, type Shell } from './completion.js';
import { progressStream, storeOptions, type CliIo, type GlobalOptions, type Printer } from './program.js';
import { addExecCommands } from './exec.js';
import { toJson } from './output.js';
import { addEverydayCommands } from './everyday.js';
import { addImportCommand } from './import.js';
import { addEditCommand } from './edit.js';
import { addIdentityCommands } from './identity.js';
import { addHistoryCommands } from './history.js';
import { addRecipientCommands } from './recipients.js';
import { addSyncCommands } from './sync.js';
import { addHookCommands } from './hooks.js';
import { addVerifyCommands } from './verify.js';
import { addTrustCommands } from './trust.js';
import { addRollbackCommand } from './rollback.js';

export function addAdminCommands(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  addRollbackCommand(program, globals, io, print);
  program
    .command('keygen')
    .description(
      'Create an identity (file mode 0600): a decryption key (X25519) and a signing key (Ed25519). Prints the public key (secretstore1...) and the writer key (secretstoresig1...), one per line, ' +
        'each labelled when stdout is a terminal; --json prints {"PublicKey": ..., "WriterKey": ...}.',
    )
    .helpGroup('Store and keys')
    .addHelpText('after', '\nExample:\n  secretstore keygen -o ~/.config/secretstore/identity')
    .option('-o, --output-file <file>', 'where to write it (default: --identity, $SECRETSTORE_IDENTITY, ~/.config/secretstore/identity)')
    .option('--force', 'overwrite an existing identity file')
    .option('--write-only', 'only a signing key: for a writer (a CI job) that puts values but never reads them')
    .option('--passphrase', 'encrypt the keys under a passphrase, typed twice on the terminal (or $SECRETSTORE_PASSPHRASE)')
    .option('--json', 'print the keys as JSON: {"PublicKey": "secretstore1...", "WriterKey": "secretstoresig1..."} (no PublicKey with --write-only)')
    .action(async (opts: { outputFile?: string; force?: boolean; writeOnly?: boolean; passphrase?: boolean; json?: boolean }) => {
      io.operation = 'Keygen';
      const { loadCrypto } = await import('../crypto/load.js');
      const crypto = await loadCrypto();
      const path = opts.outputFile ?? crypto.resolveIdentityPath({ flag: globals().identity, env: io.env });
      const passphrase = opts.passphrase ? await (await import('../terminal/passphrase.js')).newPassphrase(path, io.env) : undefined;
      const keys = await crypto
        .writeIdentityFile(path, { force: opts.force === true, writeOnly: opts.writeOnly === true, ...(passphrase ? { passphrase } : {}) })
        .finally(() => passphrase?.fill(0));
      io.warn(`wrote identity to ${path}`);
      if (opts.json) {
        io.out(toJson({ ...(keys.publicKey ? { PublicKey: keys.publicKey } : {}), WriterKey: keys.writerKey }) + '\n');
      } else if (process.stdout.isTTY === true) {
        // A person reads these: say which key goes where. Scripts (a pipe, a file) get the bare lines.
        io.out(`${keys.publicKey ? `public key (secretstore recipients add): ${keys.publicKey}\n` : ''}writer key (secretstore writers add):    ${keys.writerKey}\n`);
      } else {
        io.out(`${keys.publicKey ? `${keys.publicKey}\n` : ''}${keys.writerKey}\n`);
      }
    });

  program
    .command('init')
    .helpGroup('Store and keys')
    .addHelpText('after', '\nExample:\n  mkdir team-secrets && cd team-secrets && git init && secretstore init --name alice --region eu-west-1')
    .description('Make this git repository (or --store folder) a store with you as recipient; installs the git hooks and the merge driver (install-hooks).')
    .option('--name <name>', "your name as a recipient (default: git's user.name, else your user.email before the @, else your login name)")
    .option('--region <region>', 'region used in ARNs', 'us-east-1')
    .option('--account <account>', '12-digit account id used in ARNs', '000000000000')
    .action(async (opts: { name?: string; region: string; account: string }) => {
      io.operation = 'Init';
      const { initStore } = await import('../store/init.js');
      const { store, identity } = globals();
      const result = await initStore({ store, identity, ...opts, cwd: io.cwd, env: io.env });
      await print(result, 'Init');
    });

  program
    .command('prune')
    .helpGroup('Store and keys')
    .addHelpText('after', '\nExample:\n  secretstore prune --secret-id MyTestDatabaseSecret')
    .description('Delete old deprecated versions by the store policy (pruneAbove, minVersionAgeHours), in one commit.')
    .option('--secret-id <id>', 'only this secret')
    .action(async (opts: { secretId?: string }) => {
      io.operation = 'Prune';
      const { SecretStore } = await import('../store/secret-store.js');
      const { pruneStore } = await import('../store/prune.js');
      const { progressOn } = await import('../terminal/progress.js');
      const progress = progressOn(progressStream(io), io.env);
      const store = await SecretStore.open({ ...storeOptions(globals(), io), progress });
      await print(await pruneStore(store, new Date(), opts.secretId, progress), 'Prune');
    });

  program
    .command('rotate-due')
    .helpGroup('Rotation')
    .addHelpText('after', '\nExample:\n  secretstore rotate-due --dry-run')
    .description(
      'Rotate every secret whose rotation is enabled and whose NextRotationDate has passed (run it from cron); ' +
        'prints what was rotated and what failed, and fails if any rotation did.',
    )
    .option('--dry-run', 'only list the secrets that are due')
    .action(async (opts: { dryRun?: boolean }) => {
      io.operation = 'RotateDue';
      const { SecretStore } = await import('../store/secret-store.js');
      const { rotateDue } = await import('../store/workflows.js');
      const { progressOn } = await import('../terminal/progress.js');
      const store = await SecretStore.open(storeOptions(globals(), io));
      const result = await rotateDue(store, { dryRun: opts.dryRun === true, progress: progressOn(progressStream(io), io.env) });
      await print(result, 'RotateDue');
      if (result.Failed.length > 0) {
        const { InvalidRequestException } = await import('../errors.js');
        const names = result.Failed.map((f) => f.Name).join(', ');
        throw new InvalidRequestException(`${result.Failed.length} of ${result.Failed.length + result.Rotated.length} due rotations failed: ${names}`);
      }
    });

  program
    .command('serve')
    .helpGroup('Store and keys')
    .addHelpText('after', '\nExample:\n  secretstore serve --port 4583 --access-log')
    .description(
      'Serve the store as a local AWS Secrets Manager endpoint (AWS JSON 1.1, SigV4-signed requests); ' +
        'use it with --endpoint-url / endpoint overrides of the AWS CLI and SDKs. SIGTERM or SIGINT stops it gracefully.',
    )
    .option('--port <port>', 'TCP port (0 picks a free one)', String(4583))
    .option('--host <host>', 'address to listen on; a non-loopback one needs --tls-cert, --tls-key and --allow-remote', '127.0.0.1')
    .option('--credentials-file <file>', 'access keys the server accepts (default: $SECRETSTORE_SERVER_CREDENTIALS, else ~/.config/secretstore/server-credentials.json)')
    .option('--init-credentials', 'add a new access key to the credentials file (mode 0600), print it once, and exit')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--allow-remote', 'allow a non-loopback --host (HTTPS only)')
    .option('--access-log', 'print one line per request on stderr')
    .action(
      async (opts: {
        port: string;
        host: string;
        credentialsFile?: string;
        initCredentials?: boolean;
        tlsCert?: string;
        tlsKey?: string;
        allowRemote?: boolean;
        accessLog?: boolean;
      }) => {
        io.operation = 'Serve';
        const { initCredentials, resolveCredentialsPath } = await import('../server/auth.js');
        const credentialsFile = resolveCredentialsPath({ flag: opts.credentialsFile, env: io.env });
        if (opts.initCredentials) {
          const pair = await initCredentials(credentialsFile);
          io.warn(`added an access key to ${credentialsFile}; the secret is shown only this once:`);
          await print({ AccessKeyId: pair.accessKeyId, SecretAccessKey: pair.secretAccessKey, CredentialsFile: credentialsFile }, 'Credentials');
          return;
        }
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          const { UsageError } = await import('./output.js');
          throw new UsageError(`--port must be a number from 0 to 65535, not ${opts.port}`);
        }
        const { startServer } = await import('../server/server.js');
        const { store, identity } = globals();
        const server = await startServer({
          ...(store === undefined ? {} : { store }),
          ...(identity === undefined ? {} : { identity }),
          cwd: io.cwd,
          env: io.env,
          host: opts.host,
          port,
          credentialsFile,
          ...(opts.tlsCert === undefined ? {} : { tlsCert: opts.tlsCert }),
          ...(opts.tlsKey === undefined ? {} : { tlsKey: opts.tlsKey }),
          allowRemote: opts.allowRemote === true,
          ...(opts.accessLog ? { accessLog: (line: string) => io.warn(line) } : {}),
        });
        io.warn(`secretstore: serving ${server.store.location.root} (region ${server.region}) on ${server.url}`);
        // Runs until SIGTERM/SIGINT: stop accepting, finish what is in flight, then return (exit 0).
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            io.warn(`secretstore: ${signal}: finishing requests in flight`);
            process.off('SIGTERM', onTerm).off('SIGINT', onInt);
            void server.close().then(resolve);
          };
          const onTerm = () => stop('SIGTERM');
          const onInt = () => stop('SIGINT');
          process.on('SIGTERM', onTerm).on('SIGINT', onInt);
        });
        io.warn('secretstore: stopped');
      },
    );

  addEverydayCommands(program, globals, io);
  addImportCommand(program, globals, io, print);
  addExecCommands(program, globals, io);

  program
    .command('agent')
    .description(
      'The agent: a background secretstore that keeps the code loaded and identities decrypted, so commands answer faster. ' +
        'Started on first use at a terminal; exits after 5 idle minutes. status prints it, stop ends it (and zeroes its keys).',
    )
    .helpGroup('Everyday use')
    .addHelpText('after', '\nExample:\n  secretstore agent status')
    .addArgument(new Argument('<action>', 'what to do').choices(['status', 'stop']))
    .action(async (action: string) => {
      io.operation = 'Agent';
      io.exitCode = await (await import('../agent/client.js')).agentCommand(action, io.env);
    });

  program
    .command('completion')
    .description('Print a shell completion script (commands, flags, and secret names for --secret-id).')
    .helpGroup('Everyday use')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      '\nExample:\n  source <(secretstore completion bash)    # bash, e.g. in ~/.bashrc\n' +
        '  source <(secretstore completion zsh)     # zsh, in ~/.zshrc after compinit\n' +
        '  secretstore completion fish | source     # fish, in ~/.config/fish/config.fish',
    )
    .action(async (shell: Shell) => {
      io.operation = 'Completion';
      const { completionScript } = await import('./completion.js');
      io.out(completionScript(shell, program));
    });

  // What the completion scripts call: secret names from the index files, never a value, never an error.
  program
    .command('__complete', { hidden: true })
    .argument('<kind>', 'secret-ids')
    .argument('[prefix]', 'only names starting with this', '')
    .action(async (kind: string, prefix: string) => {
      io.operation = 'Complete';
      if (kind !== 'secret-ids') return;
      const { completeSecretIds } = await import('./completion.js');
      io.out(await completeSecretIds(prefix, { store: globals().store, cwd: io.cwd, env: io.env }));
    });
  addEditCommand(program, globals, io, print);
  addIdentityCommands(program, globals, io, print);
  addRecipientCommands(program, globals, io, print);
  addVerifyCommands(program, globals, io, print);
  addTrustCommands(program, globals, io, print);
  addSyncCommands(program, globals, io, print);
  addHistoryCommands(program, globals, io, print);

  addHookCommands(program, globals, io);
}
