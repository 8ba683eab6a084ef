// The house rule of src/: each folder imports only the folders its README's `May import:` line names,
// so the store never reaches up into the commands built on it (issue 14.16).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '..', 'src');
const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());

interface Allowed {
  readonly any: Set<string>;
  /** Named `x (types only)`: its types, never its code. */
  readonly types: Set<string>;
}

/** `core, crypto (types only), errors.ts` → the folders and root files a folder may import. */
function allowed(folder: string): Allowed {
  const readme = readFileSync(join(SRC, folder, 'README.md'), 'utf8');
  const line = /^May import: (.*)$/m.exec(readme);
  if (!line) throw new Error(`src/${folder}/README.md has no "May import:" line`);
  const result: Allowed = { any: new Set(), types: new Set() };
  for (const entry of line[1].split(',').map((name) => name.trim())) {
    const typesOnly = /^(\S+) \(types only\)$/.exec(entry);
    if (typesOnly) result.types.add(typesOnly[1]);
    else if (entry) result.any.add(entry);
  }
  return result;
}

interface Import {
  readonly spec: string;
  readonly typesOnly: boolean;
}

/** Every relative module a file names: static, dynamic and type imports, and `typeof import(...)`. */
function importsOf(file: string): Import[] {
  // Examples in doc comments are not imports.
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\*|\/\/)/.test(line))
    .join('\n');
  const found: Import[] = [];
  // `import type {...} from`, `export type {...} from` and `typeof import(...)` bring types only.
  const statement = /(^\s*(?:import|export)\s+(type\s)?[^'";]*?\bfrom\s*|(typeof\s+)?\bimport\s*\(\s*|^\s*import\s+)(['"])(\.\.?\/[^'"\n]+)\4/gms;
  for (const m of text.matchAll(statement)) found.push({ spec: m[5], typesOnly: Boolean(m[2] || m[3]) });
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The folder (or, for a root file, its name) an import lands in. */
function landsIn(file: string, spec: string): string {
  const target = relative(SRC, normalize(join(dirname(file), spec)));
  const [first, ...rest] = target.split('/');
  return rest.length > 0 ? first : first.replace(/\.js$/, '.ts');
}

describe('src/ layers (issue 14.16)', () => {
  it('every folder of src/ says in its README what it owns and what it may import', () => {
    for (const folder of folders) expect(() => allowed(folder), `src/${folder}`).not.toThrow();
  });

  it.each(folders)('src/%s imports only what its README allows', (folder) => {
    const may = allowed(folder);
    const wrong: string[] = [];
    for (const file of filesUnder(join(SRC, folder))) {
      for (const { spec, typesOnly } of importsOf(file)) {
        const target = landsIn(file, spec);
        if (target === folder || may.any.has(target) || (typesOnly && may.types.has(target))) continue;
        wrong.push(`${relative(SRC, file)} imports ${typesOnly ? 'types from ' : ''}${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the check sees imports of every kind (a rule that matched nothing would pass anything)', () => {
    const store = filesUnder(join(SRC, 'store')).flatMap(importsOf);
    expect(store).toContainEqual({ spec: '../trust/authenticate.js', typesOnly: false });
    expect(store.some((i) => i.typesOnly)).toBe(true);
    expect(store.length).toBeGreaterThan(50);
  });
});
