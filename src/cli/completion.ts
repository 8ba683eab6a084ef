/**
 * `secretstore completion bash|zsh|fish`: shell completion scripts generated from the commander program
 * itself (so every operation of the table and every admin command is in, with its flags), and the
 * hidden `secretstore __complete secret-ids [prefix]` the scripts call to complete secret names.
 */
import type { Command, Help, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Flags whose value is a secret name, completed by `secretstore __complete secret-ids`. */
const SECRET_ID_FLAGS = ['--secret-id', '--secret-id-list'];
/** Commands whose argument is a secret name (`get NAME`, `set NAME`, `ls PREFIX`), completed the same way. */
const SECRET_NAME_COMMANDS = ['get', 'set', 'ls'];
/** Flags whose value is a folder or a file. */
const DIR_FLAGS = ['--store'];
const FILE_FLAGS = ['--identity', '-o', '--output-file', '--credentials-file', '--tls-cert', '--tls-key'];

interface Flag {
  readonly names: string[];
  readonly description: string;
  readonly takesValue: boolean;
  readonly choices?: readonly string[];
}

interface Spec {
  readonly globals: Flag[];
  readonly commands: { name: string; summary: string; flags: Flag[] }[];
}

function flagsOf(cmd: Command, help: Help): Flag[] {
  return help.visibleOptions(cmd).map((o: Option) => ({
    names: [o.short, o.long].filter((n): n is string => n !== undefined),
    description: o.description,
    takesValue: o.required || o.optional,
    ...(o.argChoices ? { choices: o.argChoices } : {}),
  }));
}

function specOf(program: Command): Spec {
  // The program's own help configuration: the same one-line summaries as `secretstore --help`.
  const help = program.createHelp();
  return {
    globals: flagsOf(program, help),
    commands: help.visibleCommands(program).map((cmd) => ({
      name: cmd.name(),
      summary: help.subcommandDescription(cmd),
      flags: flagsOf(cmd, help),
    })),
  };
}

const words = (flags: readonly Flag[]) => flags.flatMap((f) => f.names).join(' ');

/** Every value-taking flag name with its choices (the union where two commands share a name). */
function valueFlags(spec: Spec): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const flag of [...spec.globals, ...spec.commands.flatMap((c) => c.flags)]) {
    if (!flag.takesValue) continue;
    for (const name of flag.names) {
      const set = out.get(name) ?? new Set<string>();
      flag.choices?.forEach((c) => set.add(c));
      out.set(name, set);
    }
  }
  return out;
}

/** The global flags that take a value, which the scripts skip (with that value) while finding the command. */
function globalValueFlags(spec: Spec): string {
  return spec.globals.filter((f) => f.takesValue).flatMap((f) => f.names).join('|');
}

function bash(spec: Spec): string {
  const values = valueFlags(spec);
  const choiceCases = [...values]
    .filter(([, choices]) => choices.size > 0)
    .map(([name, choices]) => `        ${name}) COMPREPLY=($(compgen -W "${[...choices].join(' ')}" -- "$cur")); return ;;`);
  const plain = [...values.keys()].filter((n) => values.get(n)!.size === 0 && ![...SECRET_ID_FLAGS, ...DIR_FLAGS, ...FILE_FLAGS].includes(n));
  return `# secretstore completion for bash. Load it with: source <(secretstore completion bash)
_secretstore() {
    local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" i w
    local -a store=()
    (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
    for (( i = 1; i < COMP_CWORD; i++ )); do
        w="\${COMP_WORDS[i]}"
        case "$w" in
            --store) store=(--store "\${COMP_WORDS[i+1]}"); (( i++ )) ;;
            ${globalValueFlags(spec)}) (( i++ )) ;;
            -*) ;;
            *) [[ -z "$cmd" ]] && cmd="$w" ;;
        esac
    done
    case "$prev" in
        ${SECRET_ID_FLAGS.join('|')})
            COMPREPLY=($(compgen -W "$(secretstore "\${store[@]}" __complete secret-ids -- "$cur" 2>/dev/null)" -- "$cur")); return ;;
        ${DIR_FLAGS.join('|')}) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        ${FILE_FLAGS.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
${choiceCases.join('\n')}
        ${plain.join('|')}) COMPREPLY=(); return ;;
    esac
    case "$cmd" in
        ${SECRET_NAME_COMMANDS.join('|')}) if [[ "$cur" != -* ]]; then
            COMPREPLY=($(compgen -W "$(secretstore "\${store[@]}" __complete secret-ids -- "$cur" 2>/dev/null)" -- "$cur")); return
        fi ;;
    esac
    local opts
    case "$cmd" in
        '') opts="${words(spec.globals)} ${spec.commands.map((c) => c.name).join(' ')}" ;;
${spec.commands.map((c) => `        ${c.name}) opts="${words(c.flags)}" ;;`).join('\n')}
        *) opts="" ;;
    esac
    [[ -n "$cmd" ]] && opts="$opts ${words(spec.globals)}"
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _secretstore secretstore
`;
}

/** Single-quoted for zsh and fish (zsh: 'it'\''s'; fish: 'it\'s'). */
const zq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const fq = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function zsh(spec: Spec): string {
  const values = valueFlags(spec);
  const choiceCases = [...values]
    .filter(([, choices]) => choices.size > 0)
    .map(([name, choices]) => `    ${name}) compadd -- ${[...choices].join(' ')}; return ;;`);
  const plain = [...values.keys()].filter((n) => values.get(n)!.size === 0 && ![...SECRET_ID_FLAGS, ...DIR_FLAGS, ...FILE_FLAGS].includes(n));
  const described = spec.commands.map((c) => `    ${zq(`${c.name}:${c.summary}`)}`);
  return `#compdef secretstore
# secretstore completion for zsh. Load it with: source <(secretstore completion zsh)   (after compinit)
_secretstore() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} cmd= i
  local -a store commands
  for (( i = 2; i < CURRENT; i++ )); do
    case \${words[i]} in
      --store) store=(--store \${words[i+1]}); (( i++ )) ;;
      ${globalValueFlags(spec)}) (( i++ )) ;;
      -*) ;;
      *) [[ -z $cmd ]] && cmd=\${words[i]} ;;
    esac
  done
  case $prev in
    ${SECRET_ID_FLAGS.join('|')})
      compadd -- \${(f)"$(secretstore $store __complete secret-ids -- "$cur" 2>/dev/null)"}; return ;;
    ${DIR_FLAGS.join('|')}) _directories; return ;;
    ${FILE_FLAGS.join('|')}) _files; return ;;
${choiceCases.join('\n')}
    ${plain.join('|')}) return ;;
  esac
  if [[ -z $cmd && $cur != -* ]]; then
    commands=(
${described.join('\n')}
    )
    _describe -t commands 'secretstore command' commands
    return
  fi
  case $cmd in
    ${SECRET_NAME_COMMANDS.join('|')}) if [[ $cur != -* ]]; then
      compadd -- \${(f)"$(secretstore $store __complete secret-ids -- "$cur" 2>/dev/null)"}; return
    fi ;;
  esac
  case $cmd in
${spec.commands.map((c) => `    ${c.name}) compadd -- ${words(c.flags)} ;;`).join('\n')}
  esac
  compadd -- ${words(spec.globals)}
}
compdef _secretstore secretstore
`;
}

function fish(spec: Spec): string {
  const lines = [
    '# secretstore completion for fish. Load it with: secretstore completion fish | source',
    'complete -c secretstore -f',
    ...spec.commands.map((c) => `complete -c secretstore -n __fish_use_subcommand -a ${c.name} -d ${fq(c.summary)}`),
  ];
  const flagLine = (flag: Flag, condition: string) => {
    const names = flag.names.map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(' ');
    let value = '';
    if (flag.names.some((n) => SECRET_ID_FLAGS.includes(n))) value = " -x -a '(secretstore __complete secret-ids -- (commandline -ct) 2>/dev/null)'";
    else if (flag.names.some((n) => DIR_FLAGS.includes(n) || FILE_FLAGS.includes(n))) value = ' -r -F';
    else if (flag.choices) value = ` -x -a ${fq(flag.choices.join(' '))}`;
    else if (flag.takesValue) value = ' -x';
    return `complete -c secretstore${condition} ${names}${value} -d ${fq(flag.description)}`;
  };
  lines.push(
    `complete -c secretstore -n ${fq(`__fish_seen_subcommand_from ${SECRET_NAME_COMMANDS.join(' ')}`)} -a '(secretstore __complete secret-ids -- (commandline -ct) 2>/dev/null)'`,
  );
  lines.push(...spec.globals.map((f) => flagLine(f, '')));
  // One line per distinct flag, for every command that has it (the first command's description).
  const byFlag = new Map<string, { flag: Flag; commands: string[] }>();
  const globalNames = new Set(spec.globals.flatMap((f) => f.names));
  for (const cmd of spec.commands) {
    for (const flag of cmd.flags) {
      if (flag.names.every((n) => globalNames.has(n))) continue;
      const key = `${flag.names.join(' ')}|${flag.takesValue}|${flag.choices?.join(' ') ?? ''}`;
      const entry = byFlag.get(key) ?? { flag, commands: [] };
      entry.commands.push(cmd.name);
      byFlag.set(key, entry);
    }
  }
  for (const { flag, commands } of byFlag.values()) lines.push(flagLine(flag, ` -n ${fq(`__fish_seen_subcommand_from ${commands.join(' ')}`)}`));
  return lines.join('\n') + '\n';
}

export function completionScript(shell: Shell, program: Command): string {
  const spec = specOf(program);
  return shell === 'bash' ? bash(spec) : shell === 'zsh' ? zsh(spec) : fish(spec);
}

/**
 * `__complete secret-ids [prefix]`: the names of the store's secrets that start with `prefix`, one a line,
 * from the label index files (`listSecretSummaries`, cached): nothing is decrypted and no identity is read.
 * Never fails: outside a store, or on any error, it prints nothing.
 */
export async function completeSecretIds(prefix: string, where: { store?: string; cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  try {
    const [{ locateStore }, { readConfig, WorkTreeView }] = await Promise.all([import('../store/location.js'), import('../store/work-tree-view.js')]);
    const location = locateStore(where);
    // names only, unauthenticated: never an error or a warning in the middle of a completion
    const view = new WorkTreeView(location.root, await readConfig(location.root), () => Promise.reject(new Error('completion reads no identity')));
    const names = (await view.listSecretSummaries()).map((s) => s.name).filter((n) => n.startsWith(prefix));
    return names.sort().map((n) => `${n}\n`).join('');
  } catch {
    return '';
  }
}
