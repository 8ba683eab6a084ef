// CLI tests run the built CLI, as users do. `npm test` builds first; a bare `npx vitest` builds when needed.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const cli = 'dist/secretstore.js';
  if (!existsSync(cli) || statSync(cli).mtimeMs < newestSource('src')) {
    try {
      execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    } catch {
      // `npm test` builds (and fails) first; a bare vitest run goes on so library tests still run,
      // and the CLI tests fail on the old or missing build.
      console.warn('secretstore: the build failed; CLI tests will use whatever dist/ holds');
    }
  }
}
