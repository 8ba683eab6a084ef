/**
 * The hidden `secretstore hook ...` commands that the hooks installed by `init` / `install-hooks` run:
 * pre-commit and pre-merge-commit validate (and pre-commit prunes) what git is about to commit;
 * post-merge prunes, in a commit of its own, what a merge made by git left over the policy.
 */
import type { Command } from 'commander';
import type { CliIo, GlobalOptions } from './program.js';

export function addHookCommands(program: Command, globals: () => GlobalOptions, io: CliIo): void {
  /** The store, a git runner and the signing identity, as every hook needs them. */
  const context = async () => {
    const [{ locateStore }, { openGit }, hooks] = await Promise.all([
      import('../shell/location.js'),
      import('../shell/git.js'),
      import('../shell/hook.js'),
    ]);
    const { store, identity } = globals();
    const loc = locateStore({ store, cwd: io.cwd, env: io.env });
    const git = openGit(loc.repoRoot, io.env);
    // Inside a hook git points GIT_INDEX_FILE at the index being committed; work on that one.
    const index = io.env.GIT_INDEX_FILE;
    const env = index === undefined ? undefined : { GIT_INDEX_FILE: index };
    const run = (args: string[]) => git.run(args, { env });
    const signing = { env: io.env, ...(identity === undefined ? {} : { identity }) };
    return { loc, run, signing, hooks };
  };
  const warnAll = (notes: readonly string[]) => {
    for (const note of notes) io.warn(note);
  };

  const hook = program.command('hook', { hidden: true }).description('Git hooks installed by init and install-hooks.');
  hook
    .command('pre-commit')
    .description('Validate and prune the staged change to the store.')
    .action(async () => {
      io.operation = 'PreCommitHook';
      const { loc, run, signing, hooks } = await context();
      warnAll(await hooks.preCommit(loc, run, new Date(), signing));
    });
  hook
    .command('pre-merge-commit')
    .description('Validate a merge made by git before it is committed (post-merge prunes it).')
    .action(async () => {
      io.operation = 'PreMergeCommitHook';
      const { loc, run, signing, hooks } = await context();
      warnAll(await hooks.preCommit(loc, run, new Date(), signing, { prune: false }));
    });
  hook
    .command('post-merge')
    .description('Prune, in a commit of its own, what a merge made by git left over the policy.')
    .action(async () => {
      io.operation = 'PostMergeHook';
      const { loc, run, signing, hooks } = await context();
      warnAll(await hooks.postMerge(loc, run, new Date(), signing));
    });
}
