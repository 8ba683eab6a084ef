/**
 * The hidden `secretstore hook ...` commands that the hooks installed by `init` / `install-hooks` run:
 * pre-commit and pre-merge-commit validate (and pre-commit prunes) what git is about to commit, and
 * pre-commit refuses a store change the committer may not sign; commit-msg signs it; post-merge prunes,
 * in a signed commit of its own, what a merge made by git left over the policy; post-rewrite signs
 * again the user's own commits that a rebase or an amend rewrote.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIo, GlobalOptions } from './program.js';

export function addHookCommands(program: Command, globals: () => GlobalOptions, io: CliIo): void {
  /** The store, a git runner and the signing identity, as every hook needs them. */
  const context = async () => {
    const [{ locateStore }, { openGit }, validate, signed] = await Promise.all([
      import('../store/location.js'),
      import('../git/client.js'),
      import('../offline/hook.js'),
      import('../offline/git-signing.js'),
    ]);
    const hooks = { ...validate, ...signed };
    const { store, identity } = globals();
    const loc = locateStore({ store, cwd: io.cwd, env: io.env });
    const git = openGit(loc.repoRoot, io.env);
    // Inside a hook git points GIT_INDEX_FILE at the index being committed; work on that one.
    const index = io.env.GIT_INDEX_FILE;
    const env = index === undefined ? undefined : { GIT_INDEX_FILE: index };
    const run = (args: string[]) => git.run(args, { env });
    const signing = { env: io.env, ...(identity === undefined ? {} : { identity }) };
    const commitTree = (tree: string, parents: readonly string[], message: string, who: Record<string, string>) => git.commitTree(tree, parents, message, { env: who });
    return { loc, run, signing, hooks, commitTree };
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
    .command('commit-msg')
    .description('Sign a commit that changes the store with the committer\'s writer key.')
    .argument('<file>')
    .action(async (file: string) => {
      io.operation = 'CommitMsgHook';
      const { loc, run, signing, hooks } = await context();
      warnAll(await hooks.commitMsg(loc, run, resolve(io.cwd, file), signing));
    });
  hook
    .command('post-rewrite')
    .description('Sign again the rewritten commits the user had signed (git rebase, commit --amend).')
    .argument('[kind]')
    .action(async () => {
      io.operation = 'PostRewriteHook';
      const { loc, run, signing, hooks, commitTree } = await context();
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      warnAll(await hooks.postRewrite(loc, run, commitTree, Buffer.concat(chunks).toString('utf8'), signing));
    });
  hook
    .command('post-merge')
    .description('Prune, in a signed commit of its own, what a merge made by git left over the policy.')
    .action(async () => {
      io.operation = 'PostMergeHook';
      const { loc, run, signing, hooks } = await context();
      warnAll(await hooks.postMerge(loc, run, new Date(), signing));
    });
}
