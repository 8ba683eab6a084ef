/**
 * The commander program, generated from the operation table: one command per operation, one flag per
 * request member (`SecretId` -> `--secret-id`), as `aws secretsmanager` spells them, with the AWS CLI's
 * `--cli-input-json`, `--cli-input-yaml` and `--generate-cli-skeleton`. The few commands that have no
 * AWS counterpart (keygen, init, prune, hook, ...) are added by `admin.ts`.
 */
import { loadYaml, yamlLibrary } from '../core/yaml-value.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InvalidParameterException } from '../errors.js';
import { operations, type OperationName } from '../ops/table.js';
import type { Operation, OperationGroup, Param } from '../ops/context.js';
import { debug, debugEnabled, redactRequest, setDebug, timed } from '../debug.js';
import { flagOf, readParam, type ReadContext } from './values.js';

export { flagOf };
import { OUTPUT_FORMATS, ParamValidationError, render, UsageError, type OutputFormat } from './output.js';
import { decodeMembers, MemberTypeError } from '../ops/members.js';
import { invalidUtf8Offset } from '../core/utf8.js';
import type { TerminalStreams } from '../terminal/prompt.js';
import type { ProgressStream } from '../terminal/progress.js';
import type { OpenStoreOptions, SecretStore } from '../store/secret-store.js';
import { packageVersion } from './version.js';

export interface CliIo extends ReadContext {
  readonly out: (text: string | Uint8Array) => void;
  /** Bytes to stdout as they are (`get` of a SecretBinary). */
  readonly outBytes: (bytes: Uint8Array) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Set by each action so errors can name the operation as the AWS CLI does. */
  operation: string;
  /** Set by a command whose exit code is not just success or failure (exec passes on its child's). */
  exitCode?: number;
  /** Whether stdin is a terminal (default: `process.stdin.isTTY`); injectable for tests. */
  readonly isTerminal?: () => boolean;
  /** Where terminal prompts read keys and write to (default: stdin and stderr); injectable for tests. */
  readonly terminal?: TerminalStreams;
  /** Where progress lines are drawn (default: `process.stderr`); null draws none (the agent has no terminal). */
  readonly progressStream?: ProgressStream | null;
  /** How a table operation opens its store (default: `SecretStore.open`); the agent passes one that reuses warm clients. */
  readonly openStore?: (options: OpenStoreOptions) => Promise<SecretStore>;
}

/** The stream progress lines go to for this run (see `CliIo.progressStream`). */
export function progressStream(io: CliIo): ProgressStream | undefined {
  return io.progressStream === undefined ? process.stderr : (io.progressStream ?? undefined);
}

/** The operations that ask for their value on a terminal when none is given (see `promptForValue`). */
const PROMPTED: ReadonlySet<string> = new Set(['PutSecretValue', 'CreateSecret']);

/**
 * put-secret-value and create-secret without --secret-string/--secret-binary on a terminal
 * asks for the value without echo, twice, as if --secret-string had been given. Without a terminal nothing
 * changes. Returns false when the user pressed Ctrl-C (exit 130, nothing done).
 */
async function promptForValue(op: Operation<unknown, unknown>, opts: Record<string, unknown>, request: Record<string, unknown>, io: CliIo): Promise<boolean> {
  if (!PROMPTED.has(op.name) || request.SecretString !== undefined || request.SecretBinary !== undefined) return true;
  const terminal = io.isTerminal?.() ?? process.stdin.isTTY === true;
  // create-secret asks too, but --no-prompt makes a secret without a value, as AWS's create-secret does.
  if (op.name === 'CreateSecret' && opts.prompt === false) return true;
  if (!terminal) {
    if (opts.prompt === true) throw new UsageError('--prompt needs a terminal on stdin; give --secret-string - to read the value from a pipe');
    return true;
  }
  const { defaultTerminal, promptSecretValue } = await import('../terminal/prompt.js');
  const value = await promptSecretValue(io.terminal ?? defaultTerminal());
  if (value === undefined) {
    io.exitCode = 130;
    return false;
  }
  request.SecretString = value;
  return true;
}

export interface GlobalOptions {
  store?: string;
  identity?: string;
  output: OutputFormat;
  query?: string;
  paginate: boolean;
  debug?: boolean;
  allowUnsigned?: boolean;
}

/** What every command that opens the store passes to `SecretStore.open`, from the global options. */
export function storeOptions(globals: GlobalOptions, io: CliIo) {
  return {
    store: globals.store,
    identity: globals.identity,
    cwd: io.cwd,
    env: io.env,
    allowUnsigned: globals.allowUnsigned === true,
    warn: io.warn,
  };
}

/** Prints a command's result in the format and with the query the user asked for. */
export type Printer = (value: unknown, title: string) => Promise<void>;

/** The attribute commander stores a flag under: `--rotation-lambda-arn` -> `rotationLambdaArn`. */
function attributeOf(member: string): string {
  return flagOf(member).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function addParam(cmd: Command, p: Param): void {
  const flag = `--${flagOf(p.member)}`;
  const help = p.help + (p.required ? ' (required)' : '');
  if (p.type === 'boolean') {
    cmd.addOption(new Option(flag, help));
    cmd.addOption(new Option(`--no-${flagOf(p.member)}`, 'the opposite').hideHelp());
    return;
  }
  const arg = p.type === 'strings' || p.type === 'tags' || p.type === 'filters' || p.type === 'structures' ? '<values...>' : '<value>';
  cmd.addOption(new Option(`${flag} ${arg}`, help));
}

/**
 * `--cli-input-json` / `--cli-input-yaml`: literal text or file://path, an object of request members,
 * each checked against the table's Param types (`ops/members.ts`): a wrong type is the AWS CLI's
 * "Parameter validation failed" (exit 252), naming the member and the types, never the value.
 */
function cliInput(opts: Record<string, unknown>, op: Operation<unknown, unknown>, cwd: string): Record<string, unknown> {
  const json = opts.cliInputJson as string | undefined;
  const yaml = opts.cliInputYaml as string | undefined;
  if (json === undefined && yaml === undefined) return {};
  if (json !== undefined && yaml !== undefined) throw new UsageError('--cli-input-json and --cli-input-yaml cannot be used together');
  const raw = (json ?? yaml)!;
  const flag = json !== undefined ? '--cli-input-json' : '--cli-input-yaml';
  let text = raw;
  if (raw.startsWith('file://')) {
    const path = resolve(cwd, raw.slice('file://'.length));
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new InvalidParameterException(`Unable to read ${flag} from ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const bad = invalidUtf8Offset(bytes);
    if (bad >= 0) throw new ParamValidationError(`${flag} file ${path} is not valid UTF-8 text (invalid byte at offset ${bad}); give binary values base64-encoded in SecretBinary`);
    text = bytes.toString('utf8');
  }
  let parsed: unknown;
  try {
    parsed = json !== undefined ? JSON.parse(text) : yamlLibrary().parse(text);
  } catch {
    throw new InvalidParameterException(`${flag} is not valid ${json !== undefined ? 'JSON' : 'YAML'}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidParameterException('--cli-input-json/yaml must hold an object of request members');
  }
  const members = op.params.map((p) => p.member);
  for (const key of Object.keys(parsed)) {
    if (!members.includes(key)) throw new InvalidParameterException(`Unknown parameter in input: "${key}", must be one of: ${members.join(', ')}`);
  }
  try {
    // Blobs travel as base64 in JSON, as in the AWS CLI.
    return decodeMembers(op.name as OperationName, parsed as Record<string, unknown>, 'base64');
  } catch (err) {
    if (err instanceof MemberTypeError) {
      throw new ParamValidationError(`Invalid type for parameter ${err.member} in ${flag}: got ${err.given}, expected ${err.expected}`);
    }
    throw err;
  }
}

function requestFrom(op: Operation<unknown, unknown>, opts: Record<string, unknown>, io: CliIo): Record<string, unknown> {
  // Flags on the command line win over the same member in --cli-input-json, as in the AWS CLI.
  const request = cliInput(opts, op, io.cwd);
  for (const p of op.params) {
    const raw = opts[attributeOf(p.member)];
    if (raw !== undefined) request[p.member] = readParam(raw, p, io);
  }
  const missing = op.params.filter((p) => p.required && request[p.member] === undefined);
  if (missing.length > 0) {
    throw new UsageError(`the following arguments are required: ${missing.map((p) => `--${flagOf(p.member)}`).join(', ')}`);
  }
  return request;
}

/** Follows NextToken to the end, joining the list members of every page into the first page. */
export async function allPages(members: readonly string[], call: (token: { NextToken?: string }) => Promise<unknown>): Promise<unknown> {
  const first = (await call({})) as Record<string, unknown>;
  let page = first;
  while (typeof page.NextToken === 'string') {
    page = (await call({ NextToken: page.NextToken })) as Record<string, unknown>;
    for (const member of members) {
      const more = page[member] as unknown[] | undefined;
      if (more?.length) first[member] = [...((first[member] as unknown[] | undefined) ?? []), ...more];
    }
  }
  delete first.NextToken;
  return first;
}

/** What `--generate-cli-skeleton` prints: every member with an empty value of its type. */
function skeleton(op: Operation<unknown, unknown>): Record<string, unknown> {
  const empty: Record<Param['type'], unknown> = {
    string: '',
    blob: '',
    integer: 0,
    boolean: true,
    strings: [''],
    tags: [{ Key: '', Value: '' }],
    filters: [{ Key: 'name', Values: [''] }],
    structure: {},
    structures: [{}],
  };
  return Object.fromEntries(op.params.map((p) => [p.member, empty[p.type]]));
}

/** The help groups of `secretstore --help`, in the AWS CLI's order; commands without one come last. */
const HELP_GROUPS: readonly OperationGroup[] = [
  'Secrets and values',
  'Labels and versions',
  'Discovery',
  'Deletion',
  'Tags',
  'Rotation',
  'Policies and replication',
  'Everyday use',
  'Store and keys',
  'Teams and trust',
  'Offline teams',
];

/**
 * `configureHelp({ groupItems })`: commander lists help groups in the order their first command was added
 * (so table order, then admin.ts); the commands are shown under HELP_GROUPS in that order instead, each
 * heading with its colon. Options keep commander's grouping.
 */
function groupCommands<T extends Command | Option>(unsorted: T[], visible: T[], getGroup: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  const isCommand = visible.some((item) => item instanceof Command);
  if (isCommand) for (const g of HELP_GROUPS) groups.set(`${g}:`, []);
  for (const item of unsorted) {
    const g = getGroup(item);
    const heading = isCommand && !g.endsWith(':') ? `${g}:` : g;
    if (!groups.has(heading)) groups.set(heading, []);
  }
  for (const item of visible) {
    const g = getGroup(item);
    const heading = isCommand && !g.endsWith(':') ? `${g}:` : g;
    groups.set(heading, [...(groups.get(heading) ?? []), item]);
  }
  for (const [heading, items] of groups) if (items.length === 0) groups.delete(heading);
  return groups;
}

/** `configureHelp({ subcommandDescription })`: a command's summary, else its description's first clause. */
function oneLine(this: void, cmd: Command): string {
  const text = cmd.summary() || cmd.description();
  const end = text.search(/[.:;] /);
  return (end < 0 ? text : text.slice(0, end)).replace(/\.$/, '');
}

/** Under --debug: the store and the identity file this command would use, and where each choice came from. */
async function debugPaths(globals: GlobalOptions, io: CliIo): Promise<void> {
  if (!debugEnabled()) return;
  try {
    const { locateStore } = await import('../store/location.js');
    const loc = locateStore({ store: globals.store, cwd: io.cwd, env: io.env });
    const from = globals.store ? '--store' : io.env.SECRETSTORE_DIR ? '$SECRETSTORE_DIR' : `the git top level of ${io.cwd}`;
    debug(`store ${loc.root} (from ${from}; repository ${loc.repoRoot})`);
  } catch (err) {
    debug(`store: none (${(err as Error).message})`);
  }
  const { resolveIdentityPath } = await import('../crypto/identity-file.js');
  const from = globals.identity ? '--identity' : io.env.SECRETSTORE_IDENTITY ? '$SECRETSTORE_IDENTITY' : io.env.XDG_CONFIG_HOME ? '$XDG_CONFIG_HOME' : '~/.config';
  debug(`identity ${resolveIdentityPath({ flag: globals.identity, env: io.env })} (from ${from})`);
}

/** The program; with `only` (a table operation's command), that command alone: what one run of it needs. */
export function buildProgram(io: CliIo, admin: (program: Command, globals: () => GlobalOptions, print: Printer) => void, only?: string): Command {
  const program = new Command('secretstore')
    .description('An encrypted, git-backed secret store that speaks the AWS Secrets Manager API.')
    .option('--store <dir>', 'the store folder (default: $SECRETSTORE_DIR, else the git top level)')
    .option('--identity <file>', 'the identity file (default: $SECRETSTORE_IDENTITY, else ~/.config/secretstore/identity)')
    .addOption(new Option('--output <format>', 'output format').choices(OUTPUT_FORMATS).default('json'))
    .option('--query <jmespath>', 'a JMESPath query to filter the response')
    .option('--no-paginate', 'print only the first page of a list (by default all pages are joined)')
    .option('--debug', 'print what secretstore does on stderr: store, identity, git commands and timings (never a value)')
    .option('--allow-unsigned', 'read a store whose history does not authenticate (with a warning on stderr); writes never do')
    .option('--no-agent', 'run this command in this process, without the agent (as SECRETSTORE_AGENT=off)')
    .version(`secretstore ${packageVersion()}`, '--version', 'print the version and exit')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, groupItems: groupCommands, subcommandDescription: oneLine });
  const globals = () => program.opts<GlobalOptions>();
  // Operations with no output (tag-resource, untag-resource) print nothing, as the AWS CLI does.
  const print: Printer = async (value, title) => {
    if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return;
    io.out(await render(value, globals().output, globals().query, title));
  };

  for (const name of Object.keys(operations) as OperationName[]) {
    const op = operations[name] as Operation<unknown, unknown>;
    if (only !== undefined && op.command !== only) continue;
    const cmd = program.command(op.command).description(op.summary);
    if (op.group) cmd.helpGroup(op.group);
    op.params.forEach((p) => addParam(cmd, p));
    cmd
      .option('--cli-input-json <json>', 'request members as JSON (or file://path)')
      .option('--cli-input-yaml <yaml>', 'request members as YAML (or file://path)')
      .addOption(new Option('--generate-cli-skeleton [kind]', 'print a request skeleton and exit').choices(['input', 'yaml-input']));
    if (op.pageMembers) cmd.option('--page-size <n>', 'MaxResults of each call while joining all pages', (v) => Number(v));
    if (op.name === 'CreateSecret') {
      cmd.option('--prompt', 'ask for the SecretString on the terminal, without echo, twice (the default on a terminal)');
      cmd.option('--no-prompt', 'create the secret without a value, without asking');
    }
    if (op.example) cmd.addHelpText('after', `\nExample:\n  ${op.example}`);
    cmd.action(async (opts: Record<string, unknown>) => {
      io.operation = op.name;
      const kind = opts.generateCliSkeleton;
      if (kind !== undefined) {
        io.out(await render(skeleton(op), kind === 'yaml-input' ? 'yaml' : 'json', undefined, op.name));
        return;
      }
      // The yaml package is loaded only by the commands that read or print YAML (a get does not).
      if (opts.cliInputYaml !== undefined) await loadYaml();
      const request = requestFrom(op, opts, io);
      if (!(await promptForValue(op, opts, request, io))) return;
      debug(() => `operation ${op.name} ${JSON.stringify(redactRequest(op.params, request))}`);
      if (op.storeless) {
        // get-random-password needs no store, so it works anywhere, as in the AWS CLI.
        const { runStoreless } = await import('../store/workflows.js');
        await print(await timed(`operation ${op.name}`, () => runStoreless(name, request as never)), op.name);
        return;
      }
      const { SecretStore } = await import('../store/secret-store.js');
      const { progressOn } = await import('../terminal/progress.js');
      const progress = progressOn(progressStream(io), io.env);
      const store = await (io.openStore ?? SecretStore.open)({ ...storeOptions(globals(), io), progress });
      const paginate = op.pageMembers && globals().paginate && request.MaxResults === undefined && request.NextToken === undefined;
      const pageSize = opts.pageSize === undefined ? {} : { MaxResults: opts.pageSize };
      const call = (token: { NextToken?: string }) => timed(`operation ${op.name}`, () => store.run(name, { ...request, ...pageSize, ...token } as never));
      await print(paginate ? await allPages(op.pageMembers!, call) : await call({}), op.name);
    });
  }
  if (only === undefined) admin(program, globals, print);
  program.addHelpText('after', '\nExample:\n  secretstore get-secret-value --secret-id MyTestDatabaseSecret --query SecretString --output text');
  // `edit` (admin.ts) belongs with exec and env, should it be registered without a group of its own.
  program.commands.find((c) => c.name() === 'edit' && !c.helpGroup())?.helpGroup('Everyday use');
  const started = performance.now();
  program.hook('preAction', async (_program, command) => {
    if (globals().debug) setDebug(true);
    debug(() => `command ${command.name()}`);
    await debugPaths(globals(), io);
  });
  program.hook('postAction', (_program, command) => debug(() => `command ${command.name()} done (${(performance.now() - started).toFixed(1)} ms)`));
  return program;
}
