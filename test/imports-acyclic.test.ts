import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCycles, importGraph } from './helpers/import-graph.js';

// Type-only and dynamic imports count (see helpers/import-graph.ts): a cycle of types still ties
// two files together, and a dynamic import hides a cycle without removing it.

t.test('no file under src/ imports itself back through others', async (t) => {
  const graph = importGraph(join(import.meta.dirname, '..', 'src'));
  t.ok(graph.size > 50 && graph.get('cli.ts')!.length > 0, `the walk sees src/ (${graph.size} files)`);
  const cycles = importCycles(graph);
  t.same(cycles.map((c) => c.join(' -> ')), [], `import cycles:\n${cycles.map((c) => `  ${c.join(' -> ')}`).join('\n')}`);
});

t.test('the running service never imports the tooling (benchmarks, training)', async (t) => {
  const graph = importGraph(join(import.meta.dirname, '..', 'src'));
  t.ok([...graph.keys()].some((f) => f.startsWith('tooling/')), 'the walk sees src/tooling/');
  const leaks = [...graph].flatMap(([file, deps]) => (file.startsWith('tooling/') ? [] : deps.filter((d) => d.startsWith('tooling/')).map((d) => `${file} -> ${d}`)));
  t.same(leaks, [], `runtime files importing tooling:\n  ${leaks.join('\n  ')}`);
});

t.test('the walk finds cycles of every kind of import, and only cycles', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-imports-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'sub'));
  const files: Record<string, string> = {
    // a -> b by value, b -> a by type only
    'a.ts': "import { b } from './b.js';\nexport const a = b + 1;\n",
    'b.ts': "import type { A } from './a.js';\nexport const b = 1;\nexport type B = A;\n",
    // c -> sub/d by re-export, sub/d -> c by dynamic import
    'c.ts': "export { d } from './sub/d.js';\n",
    'sub/d.ts': "export const d = 1;\nexport const later = () => import('../c.js');\n",
    // no cycle: a chain, a package import and a folder's index
    'e.ts': "import { readFileSync } from 'node:fs';\nimport { f } from './sub/index.js';\nexport const e = [readFileSync, f];\n",
    'sub/index.ts': "import { a } from '../a.js';\nexport const f = a;\n",
    // a file importing itself
    'g.ts': "export const g = 1;\nexport * from './g.js';\n",
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const graph = importGraph(dir);
  t.same(graph.get('c.ts'), ['sub/d.ts']);
  t.same(graph.get('e.ts'), ['sub/index.ts'], 'package imports are left out');
  t.same(importCycles(graph), [
    ['a.ts', 'b.ts', 'a.ts'],
    ['c.ts', 'sub/d.ts', 'c.ts'],
    ['g.ts', 'g.ts'],
  ]);
  writeFileSync(join(dir, 'b.ts'), 'export const b = 1;\n');
  writeFileSync(join(dir, 'sub/d.ts'), 'export const d = 1;\n');
  writeFileSync(join(dir, 'g.ts'), 'export const g = 1;\n');
  t.same(importCycles(importGraph(dir)), [], 'none once each is broken');
});
