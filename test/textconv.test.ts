/**
 * `secretstore textconv FILE` (issue #5 item 3): git's text converter shows a sealed file's header
 * (secret, version, type, recipients by name) instead of base64, and any other file unchanged.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeStore, runCli, type TestStore } from './helpers/store.js';
import { versionPath } from '../src/core/layout.js';

const V1 = '11111111-0000-4000-8000-000000000001';
const V2 = '22222222-0000-4000-8000-000000000002';

let t: TestStore;
let arn: string;
let publicKey: string;
beforeAll(() => {
  t = makeStore();
  const r = t.cli(['create-secret', '--name', 'prod/db', '--secret-string', '-', '--client-request-token', V1], { input: 'hunter2' });
  arn = r.json<{ ARN: string }>().ARN;
  publicKey = /publicKey: (\S+)/.exec(readFileSync(join(t.dir, '.secretstore.yaml'), 'utf8'))![1]!;
});
afterAll(() => t.cleanup());

describe('secretstore textconv', () => {
  it('prints a sealed file as its header, recipients by their name in the store config', () => {
    const r = t.cli(['textconv', versionPath('prod/db', V1)]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const storeId = /storeId: (\S+)/.exec(readFileSync(join(t.dir, '.secretstore.yaml'), 'utf8'))![1]!;
    expect(r.stdout).toBe(
      [
        '# secretstore.sealed/2 (sealed; the value is not shown)',
        `secret: ${arn}`,
        `version: ${V1}`,
        'type: string',
        `store: ${storeId}`,
        'recipients:',
        '  - tester',
        'committed by: tester',
        '',
      ].join('\n'),
    );
    expect(r.stdout).not.toContain('payload');
  });

  it('shows the key of a recipient the config does not know (outside the store: every key)', () => {
    const outside = mkdtempSync(join(tmpdir(), 'secretstore-textconv-'));
    try {
      const copy = join(outside, 'v.sealed');
      copyFileSync(join(t.dir, versionPath('prod/db', V1)), copy);
      const r = runCli(['textconv', copy], t.env, outside);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`recipients:\n  - ${publicKey}\n`);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('prints any other file unchanged, byte for byte (text, binary, a damaged sealed file)', () => {
    const files: [string, Buffer][] = [
      ['notes.txt', Buffer.from('just text\nline 2')],
      ['blob.bin', Buffer.from([0, 255, 254, 1, 10, 13, 128])],
      ['broken.sealed', Buffer.from('# secretstore sealed version\nformat: secretstore.sealed/1\nsecret: x\n')],
    ];
    for (const [name, bytes] of files) {
      writeFileSync(join(t.base, name), bytes);
      const r = spawnSync(process.execPath, [CLI, 'textconv', join(t.base, name)], { cwd: t.dir, env: t.env });
      expect(r.status, name).toBe(0);
      expect(Buffer.compare(r.stdout, bytes), name).toBe(0);
    }
  });

  it('with diff.secretstore.textconv set, git diff shows headers, not base64', () => {
    const bin = join(t.base, 'secretstore-bin');
    writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
    t.git(['config', 'diff.secretstore.textconv', bin + ' textconv']);
    writeFileSync(join(t.dir, '.gitattributes'), 'secrets/**/*.sealed diff=secretstore\n');
    expect(t.cli(['put-secret-value', '--secret-id', 'prod/db', '--secret-string', '-', '--client-request-token', V2], { input: 'hunter3' }).status).toBe(0);
    const diff = t.git(['diff', 'HEAD~1', 'HEAD', '--', '*.sealed']);
    expect(diff).toContain(`+version: ${V2}`);
    expect(diff).toContain('+  - tester');
    expect(diff).not.toMatch(/payload|nonce|sealed: /);
    const plain = t.git(['diff', '--no-textconv', 'HEAD~1', 'HEAD', '--', '*.sealed']);
    expect(plain).toMatch(/\+payload: [A-Za-z0-9+/]{20,}/);
  });
});
