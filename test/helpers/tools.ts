/**
 * Whether a test that drives an outside tool (the AWS CLI, script, openssl, zsh, fish, pass, gpg) runs. On a
 * developer's machine a missing tool skips it; in CI (CI=true, which .ci/run sets after installing them all)
 * it runs regardless, so a missing tool fails loudly instead of skipping quietly.
 */
import { existsSync } from 'node:fs';

export function hasTool(path: string): boolean {
  return existsSync(path) || process.env.CI === 'true';
}

export const HAS_SCRIPT = hasTool('/usr/bin/script');
