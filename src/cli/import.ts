/** `secretstore import pass|sops|dotenv|json|yaml [FILE]`: many secrets in one commit (src/import/). */
import { readFileSync } from 'node:fs';
import { Argument, type Command } from 'commander';
import { InvalidParameterException } from '../errors.js';
import { storeOptions, type CliIo, type GlobalOptions, type Printer } from './program.js';

const SOURCES = ['pass', 'sops', 'dotenv', 'json', 'yaml'] as const;
type Source = (typeof SOURCES)[number];

export function addImportCommand(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  program
    .command('import')
    .description(
      'Create or update many secrets in one commit: from a pass store (each entry decrypted by `pass show`), the ' +
        'decrypted output of `sops -d` (YAML, JSON or dotenv), a dotenv file, or a JSON/YAML map (one secret per ' +
        'top-level key). A secret whose current value equals the source is skipped; a changed one gets a new version.',
    )
    .helpGroup('Everyday use')
    .addArgument(new Argument('<source>', 'what to read').choices(SOURCES))
    .argument('[file]', 'the file, or - for stdin (default: stdin; for pass, the store folder: $PASSWORD_STORE_DIR, else ~/.password-store)')
    .option('--prefix <prefix>', 'put this in front of every secret name (e.g. prod/)')
    .option('--name <name>', 'sops, dotenv, json, yaml: one secret of this name holding the whole map as a JSON object')
    .option('--dry-run', 'only list what would be created, updated and skipped')
    .addHelpText('after', '\nExample:\n  sops -d secrets.enc.yaml | secretstore import sops --prefix prod/ --dry-run')
    .action(async (source: Source, file: string | undefined, opts: { prefix?: string; name?: string; dryRun?: boolean }) => {
      io.operation = 'Import';
      const [{ SecretStore }, { importSecrets }] = await Promise.all([import('../store/secret-store.js'), import('../import/plan.js')]);
      const store = await SecretStore.open(storeOptions(globals(), io));
      let entries;
      if (source === 'pass') {
        if (opts.name !== undefined) throw new InvalidParameterException('--name does not apply to a pass store: each entry is a secret');
        const { passStoreDir, readPassStore } = await import('../import/pass.js');
        entries = await readPassStore(passStoreDir(file, io.env), io.env, opts.prefix);
      } else {
        const { detectFormat, entriesOf, parseMap } = await import('../import/sources.js');
        const text = (file === undefined || file === '-' ? io.stdin() : readInput(file)).toString('utf8');
        const format = source === 'sops' ? detectFormat(text, file) : source;
        entries = entriesOf(parseMap(text, format), { ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }), ...(opts.name === undefined ? {} : { name: opts.name }) });
      }
      await print(await importSecrets(store, entries, { dryRun: opts.dryRun === true }), 'Import');
    });
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new InvalidParameterException(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
