/**
 * The package version. The bundle has it baked in by scripts/build.mjs (esbuild `define`), so
 * `secretstore --version` reads no file; code run from source (tests, tsc's dist/lib) reads package.json.
 */
import { readFileSync } from 'node:fs';

declare const __SECRETSTORE_VERSION__: string | undefined;

export function packageVersion(): string {
  if (typeof __SECRETSTORE_VERSION__ === 'string') return __SECRETSTORE_VERSION__;
  // src/cli/version.ts and dist/lib/cli/version.js sit two and three folders below package.json.
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { bin?: Record<string, string>; version?: string };
      if (pkg.bin?.secretstore && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}
