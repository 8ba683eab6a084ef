/**
 * What the entry (bin.ts) runs in its own process, bundled by scripts/build.mjs into dist/program.cjs and
 * loaded through the code cache (code-cache.ts): the whole program (`main`), the agent (`secretstore agent
 * run`), and the passphrase prompt a client answers for the agent. The last two load on first use.
 */
import type { AskPassphrase } from '../agent/client.js';

export { main } from './main.js';

export async function runAgent(folder: string, env: NodeJS.ProcessEnv): Promise<void> {
  await (await import('../agent/server.js')).runAgent(folder, env);
}

export const askPassphrase: AskPassphrase = async (request, env) => (await import('../terminal/passphrase.js')).askPassphrase(request, env);
