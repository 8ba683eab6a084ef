/**
 * `secretstore edit --secret-id X [--version-stage S]`: opens a secret's value in $VISUAL / $EDITOR (else vi)
 * and saves a changed value as a new version through PutSecretValue (one commit, the usual label moves).
 * The temporary file and the editor are handled by `local/edit.ts`.
 */
import type { Command } from 'commander';
import { InvalidParameterException, InvalidRequestException } from '../errors.js';
import { storeOptions, type CliIo, type GlobalOptions, type Printer } from './program.js';
import { UsageError } from './output.js';

/** Whether a value is a JSON object or array (then an edit must leave it valid JSON). */
export function isJsonContainer(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null;
  } catch {
    return false;
  }
}

/**
 * Editors end the file with a newline. When the value had none, exactly one trailing newline is taken
 * off the edited text (so a value without one keeps having none; to add one, end the text with two).
 */
export function fromEditedText(original: string, edited: string): string {
  return !original.endsWith('\n') && edited.endsWith('\n') ? edited.slice(0, -1) : edited;
}

/** Why `text` is not JSON, without quoting any of it (V8's messages can include part of the text). */
function jsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    return position === undefined ? 'it does not parse' : `it does not parse at character ${position}`;
  }
}

export function addEditCommand(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  program
    .command('edit')
    .description(
      'Edit a secret value in $VISUAL or $EDITOR (else vi), through a private temporary file (0600, in memory ' +
        'when the system allows, always removed); a changed value becomes a new version (PutSecretValue, one ' +
        'commit). A JSON object or array must stay valid JSON.',
    )
    .option('--secret-id <id>', 'the secret to edit, by name or ARN (required)')
    .option('--version-stage <stage>', 'edit the version with this label; the new version takes the label (default AWSCURRENT)')
    .addHelpText('after', '\nExample:\n  EDITOR="code --wait" secretstore edit --secret-id prod/db')
    .action(async (opts: { secretId?: string; versionStage?: string }) => {
      io.operation = 'Edit';
      if (opts.secretId === undefined) throw new UsageError('the following arguments are required: --secret-id');
      const [{ SecretStore }, { editInPrivateFile, editorCommand }] = await Promise.all([import('../store/secret-store.js'), import('../local/edit.js')]);
      const store = await SecretStore.open(storeOptions(globals(), io));
      io.operation = 'GetSecretValue';
      const current = await store.run('GetSecretValue', {
        SecretId: opts.secretId,
        ...(opts.versionStage === undefined ? {} : { VersionStage: opts.versionStage }),
      });
      io.operation = 'Edit';
      if (current.SecretString === undefined) {
        throw new InvalidRequestException(
          `${current.Name} holds a binary value (SecretBinary); edit works on SecretString values only (use put-secret-value --secret-binary fileb://FILE)`,
        );
      }
      const original = current.SecretString;
      const json = isJsonContainer(original);
      const interactive = io.isTerminal?.() ?? process.stdin.isTTY === true;
      const outcome = await editInPrivateFile(original, {
        env: io.env,
        cwd: io.cwd,
        editor: editorCommand(io.env),
        fileName: json ? 'secret.json' : 'secret.txt',
        interactive,
        check: async (text) => {
          const value = fromEditedText(original, text);
          const problem = json ? jsonProblem(value) : undefined;
          if (problem === undefined) return { accept: value };
          const message = `the value was a JSON ${Array.isArray(JSON.parse(original)) ? 'array' : 'object'} and the edited text is not valid JSON (${problem})`;
          if (!interactive) throw new InvalidParameterException(`${message}; nothing was saved`);
          io.warn(`secretstore: edit: ${message}.`);
          const { confirm, defaultTerminal } = await import('../terminal/prompt.js');
          if (await confirm(io.terminal ?? defaultTerminal(), 'Edit again?', true)) return 'again';
          throw new InvalidParameterException(`${message}; nothing was saved`);
        },
      });
      if (outcome.kind === 'interrupted') {
        io.warn(`secretstore: edit: ${outcome.signal}: the temporary file was removed; nothing was saved`);
        io.exitCode = outcome.exitCode;
        return;
      }
      if (outcome.value === original) {
        io.warn(`secretstore: edit: no changes; no new version of ${current.Name} was made`);
        return;
      }
      io.operation = 'PutSecretValue';
      const result = await store.run('PutSecretValue', {
        SecretId: current.ARN,
        SecretString: outcome.value,
        ...(opts.versionStage === undefined ? {} : { VersionStages: [opts.versionStage] }),
      });
      await print(result, 'PutSecretValue');
    });
}
