/** Bundles test/helpers/driver.ts into one .mjs that plain node can run, and runs it. */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { DriverSpec } from './driver.js';
import { beforeAll, afterAll } from 'vitest';
import { isolateGitConfig, tempDir } from './repo.js';

export async function buildDriver(outDir: string): Promise<string> {
  const outfile = join(outDir, 'driver.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./driver.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    // simple-git's CommonJS dependencies call require(); ESM output has none of its own.
    banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
  });
  return outfile;
}

/**
 * For a test file: the driver, built once into a temp folder of its own before the file's tests (with git's
 * configuration isolated, as every driver run needs) and removed after them. Call at the top level.
 */
export function fileDriver(): () => string {
  let out: string | undefined;
  let driver: string | undefined;
  beforeAll(async () => {
    isolateGitConfig();
    out = tempDir('secretstore-driver-');
    driver = await buildDriver(out);
  });
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });
  return () => driver!;
}

export interface DriverResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runDriver(driver: string, spec: DriverSpec, env: Record<string, string> = {}): Promise<DriverResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [driver, JSON.stringify(spec)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
