/**
 * The graph of relative imports between the TypeScript files under a folder, and its cycles.
 *
 * Every import counts: static `import`, `export ... from`, `import type` and dynamic `import()`.
 * A cycle of types still ties two files together for a reader, and a dynamic import hides a cycle
 * rather than removing it. Imports of packages and of files outside the folder are left out.
 */
import ts from 'typescript';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** File (relative to the root, with `/`) -> the files it imports, in source order. */
export function importGraph(root: string): Map<string, string[]> {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(?:ts|mts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  walk(root);
  const name = (path: string) => relative(root, path).split('\\').join('/');
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolveImport(resolve(dirname(file), fileName));
      if (target && !deps.includes(name(target))) deps.push(name(target));
    }
    graph.set(name(file), deps);
  }
  return graph;
}

/** `./x.js` is `./x.ts` on disk (NodeNext); `./dir` is `./dir/index.ts`. */
function resolveImport(path: string): string | undefined {
  const candidates = [path.replace(/\.(m?)js$/, '.$1ts'), path.replace(/\.jsx$/, '.tsx'), `${path}.ts`, join(path, 'index.ts'), path];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile() && /\.(?:ts|mts|tsx)$/.test(c));
}

/**
 * Each group of files that import one another in a circle (a strongly connected component of
 * more than one file, or a file importing itself), as one cycle through it: `[a, b, c, a]`.
 */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => cycleThrough(group, graph));
}

/** A shortest way from the group's first file back to itself, staying inside the group. */
function cycleThrough(group: string[], graph: Map<string, string[]>): string[] {
  const start = group[0]!;
  const members = new Set(group);
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(from.get(path[0]!)!);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...group, start];
}
