/**
 * `secretstore log`, `secretstore review` and `secretstore textconv`: the store's history and a pull
 * request's changes from git, for people and for `git diff`. None of them opens a value or needs a key.
 */
import { Option, type Command } from 'commander';
import type { CliIo, GlobalOptions, Printer } from './program.js';
import { REVIEW_FORMATS, type ReviewFormat } from '../core/review-render.js';

const GROUP = 'Offline teams';

export function addHistoryCommands(program: Command, globals: () => GlobalOptions, io: CliIo, print: Printer): void {
  const locate = async () => {
    const { locateStore } = await import('../store/location.js');
    return locateStore({ store: globals().store, cwd: io.cwd, env: io.env });
  };

  program
    .command('log')
    .description(
      'The history of secrets from git, one line per event, newest first: created, version added, label moved ' +
        '(LABEL FROM -> TO), version removed (pruned), deleted, restored, purged. Reads only label indexes; ' +
        'the author is the signing writer when the index is signed, else the commit author. VersionIds are ' +
        'printed whole; --abbrev shortens them. --output json|yaml|text|table prints the events as data.',
    )
    .helpGroup(GROUP)
    .argument('[range]', 'a revision or range, as git log takes it (default HEAD)')
    .option('--secret-id <id>', 'only this secret, by name or ARN (a full ARN excludes an older secret of the same name)')
    .option('--reverse', 'oldest first')
    .option('--abbrev', 'shorten VersionIds in the lines to their first 8 characters')
    .addHelpText('after', '\nExample:\n  secretstore log --secret-id prod/db --abbrev main~10..main')
    .action(async (range: string | undefined, opts: { secretId?: string; reverse?: boolean; abbrev?: boolean }, cmd: Command) => {
      io.operation = 'Log';
      const { storeLog } = await import('../offline/log.js');
      const result = await storeLog(await locate(), io.env, {
        ...(opts.secretId === undefined ? {} : { secretId: opts.secretId }),
        ...(range === undefined ? {} : { range }),
        reverse: opts.reverse === true,
      });
      for (const line of result.Skipped) io.warn(`secretstore: log: skipped a damaged index: ${line}`);
      if (cmd.parent?.getOptionValueSource('output') !== 'default' || globals().query !== undefined) {
        await print({ Events: result.Events }, 'Log');
        return;
      }
      // A flag without a value: an optional one would swallow the range that follows it.
      const abbrev = opts.abbrev === true ? 8 : undefined;
      const { formatEvent } = await import('../core/history.js');
      io.out(result.Events.map((e) => formatEvent(e, abbrev) + '\n').join(''));
    });

  program
    .command('review')
    .summary('Summarise what a range (a pull request) does to the store, with findings')
    .description(
      'Summarise what a range (a pull request: BASE..HEAD) does to the store: secrets created, deleted, restored, ' +
        'versions added, every label move, rotation commands, recipients, trusted writers and policy changed; then findings: ' +
        'commits not made by secretstore, index changes without a new signature, stray or identity-like files, ' +
        'labels on versions without a file, sealed files in the wrong place. Exits 0 with no findings, 1 with findings.',
    )
    .helpGroup(GROUP)
    .argument('<range>', 'BASE..HEAD, e.g. origin/main..HEAD (compared from their merge base, like git diff BASE...HEAD)')
    .addOption(new Option('--format <format>', 'text for a terminal, markdown for a pull-request comment, json for tools').choices(REVIEW_FORMATS).default('text'))
    .addHelpText('after', '\nExample:\n  secretstore review origin/main..HEAD --format markdown > review.md')
    .action(async (range: string, opts: { format: ReviewFormat }) => {
      io.operation = 'Review';
      const [{ reviewRange }, { renderReview }] = await Promise.all([import('../offline/review.js'), import('../core/review-render.js')]);
      const result = await reviewRange(await locate(), io.env, range);
      io.out(renderReview(result, opts.format));
      if (result.Findings.length > 0) io.exitCode = 1;
    });

  program
    .command('textconv')
    .summary("git's diff text converter, showing a sealed file's header instead of base64")
    .description(
      "git's diff text converter: prints a sealed file's header (secret, version, type, recipients by name) " +
        'instead of its base64, and any other file unchanged. Needs no key.',
    )
    .helpGroup(GROUP)
    .argument('<file>', 'the file git hands over')
    .addHelpText(
      'after',
      '\nExample:\n  git config diff.secretstore.textconv "secretstore textconv" && echo "secrets/**/*.sealed diff=secretstore" >> .gitattributes',
    )
    .action(async (file: string) => {
      io.operation = 'Textconv';
      const { textconv } = await import('../offline/textconv.js');
      const bytes = await textconv(file, { store: globals().store, cwd: io.cwd, env: io.env });
      try {
        io.out(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
      } catch {
        io.out(bytes); // not text: byte for byte, as git would show it
      }
    });
}
