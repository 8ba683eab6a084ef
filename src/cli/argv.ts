/** What can be told about a command line before the program is built (by main, and by the agent). */

/** Global options followed by a value (see buildProgram). */
const VALUED_GLOBALS: ReadonlySet<string> = new Set(['--store', '--identity', '--output', '--query']);

/** The command named on the command line: the first argument that is neither an option nor a global option's value. */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) return arg;
    if (VALUED_GLOBALS.has(arg)) i++;
  }
  return undefined;
}
