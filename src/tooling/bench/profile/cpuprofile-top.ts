// Summarises V8 .cpuprofile files (node --cpu-prof): self time per function and per source file,
// as a share of the profile's samples, idle and GC shown apart.
//
//   node dist/tooling/bench/profile/cpuprofile-top.js FILE.cpuprofile [--top 30]
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const dist = u.lastIndexOf('/dist/');
  if (dist >= 0) return u.slice(dist + 1);
  return u.startsWith('node:') ? u : path.basename(u);
}

/** Self time by function and by file (node_modules package, dist/ file or node: module). */
export function summarise(profile: Profile): { totalMs: number; functions: Row[]; files: Row[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  let total = 0;
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const { functionName, url, lineNumber } = n.callFrame;
    const file = shortUrl(url);
    const fn = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const group = url ? (file.includes('/') && !file.startsWith('dist/') ? file.split('/')[0]!.replace(/^@.*/, file.split('/').slice(0, 2).join('/')) : file) : functionName;
    files.set(group, (files.get(group) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) => [...m].map(([name, us]) => ({ name, ms: us / 1000, share: us / total })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total / 1000, functions: rows(fns), files: rows(files) };
}

function main(): void {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 30;
  const filesArg = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
  for (const file of filesArg) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    const busy = s.totalMs - (s.functions.find((r) => r.name === '(idle)')?.ms ?? 0);
    console.log(`\n## ${file}: ${(s.totalMs / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s not idle\n`);
    console.log('| self ms | % of busy | function |\n|---|---|---|');
    for (const r of s.functions.filter((r) => r.name !== '(idle)').slice(0, top)) console.log(`| ${r.ms.toFixed(0)} | ${((100 * r.ms) / busy).toFixed(1)} | ${r.name} |`);
    console.log('\n| self ms | % of busy | file or package |\n|---|---|---|');
    for (const r of s.files.filter((r) => r.name !== '(idle)').slice(0, top)) console.log(`| ${r.ms.toFixed(0)} | ${((100 * r.ms) / busy).toFixed(1)} | ${r.name} |`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
