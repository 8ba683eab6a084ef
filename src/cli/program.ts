/**
 * The commander program, generated from the operation table: one command per operation, one flag per
 * request member (`SecretId` -> `--secret-id`), as `aws secretsmanager` spells them. The few commands
 * that have no AWS counterpart (keygen, init, prune, hook) are added by hand.
 */
import { Command, Option } from 'commander';
import { operations, type OperationName } from '../ops/table.js';
import type { Operation, Param } from '../ops/context.js';
import { readParam, type ReadContext } from './values.js';
import { toJson } from './output.js';

export interface CliIo extends ReadContext {
  readonly out: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Set by each action so errors can name the operation as the AWS CLI does. */
  operation: string;
}

export interface GlobalOptions {
  store?: string;
  identity?: string;
}

export function flagOf(member: string): string {
  return member.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function camelOf(member: string): string {
  return member[0]!.toLowerCase() + member.slice(1);
}

function addParam(cmd: Command, p: Param): void {
  const flag = `--${flagOf(p.member)}`;
  const help = p.help + (p.required ? ' (required)' : '');
  if (p.type === 'boolean') {
    cmd.addOption(new Option(flag, help));
    cmd.addOption(new Option(`--no-${flagOf(p.member)}`, `Do not: ${help[0]!.toLowerCase()}${help.slice(1)}`).hideHelp());
    return;
  }
  const arg = p.type === 'strings' || p.type === 'tags' ? '<values...>' : '<value>';
  const option = new Option(`${flag} ${arg}`, help);
  if (p.required) option.makeOptionMandatory();
  cmd.addOption(option);
}

function requestFrom(op: Operation<unknown, unknown>, opts: Record<string, unknown>, io: CliIo): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  for (const p of op.params) {
    const raw = opts[camelOf(p.member)];
    if (raw !== undefined) request[p.member] = readParam(raw, p, io);
  }
  return request;
}

export function buildProgram(io: CliIo, admin: (program: Command, globals: () => GlobalOptions) => void): Command {
  const program = new Command('secretstore')
    .description('An encrypted, git-backed secret store that speaks the AWS Secrets Manager API.')
    .option('--store <dir>', 'the store folder (default: $SECRETSTORE_DIR, else the git top level)')
    .option('--identity <file>', 'the identity file (default: $SECRETSTORE_IDENTITY, else ~/.config/secretstore/identity)')
    .addOption(new Option('--output <format>', 'output format').choices(['json']).default('json'))
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false });
  const globals = () => program.opts<GlobalOptions>();

  for (const name of Object.keys(operations) as OperationName[]) {
    const op = operations[name] as Operation<unknown, unknown>;
    const cmd = program.command(op.command).description(op.summary);
    op.params.forEach((p) => addParam(cmd, p));
    if (op.example) cmd.addHelpText('after', `\nExample:\n  ${op.example}`);
    cmd.action(async (opts: Record<string, unknown>) => {
      io.operation = op.name;
      const request = requestFrom(op, opts, io);
      const { SecretStore } = await import('../shell/store.js');
      const store = await SecretStore.open({ ...globals(), cwd: io.cwd, env: io.env });
      io.out(toJson(await store.run(name, request as never)) + '\n');
    });
  }
  admin(program, globals);
  return program;
}
