/**
 * Checks the relative links of markdown files: each target file or folder must exist, and a
 * `#anchor` into a markdown file must name one of its headings, slugged as GitHub does.
 * Links to other sites, mail addresses and links inside code are not checked.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface BrokenLink {
  /** The markdown file holding the link, relative to the root given. */
  file: string;
  line: number;
  target: string;
  why: string;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces made hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading keeps its text
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Markdown with fenced code blocks blanked (line numbers kept) and inline code removed. */
function withoutCode(markdown: string): string[] {
  let fence: string | null = null;
  return markdown.split('\n').map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (open && open[1]![0] === fence[0] && open[1]!.length >= fence.length) fence = null;
      return '';
    }
    if (open) {
      fence = open[1]!;
      return '';
    }
    return line.replace(/(`+)[^`]*?\1/g, '');
  });
}

/** Every anchor a markdown file offers: its headings' slugs (repeats get -1, -2, ...) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (open && open[1]![0] === fence[0] && open[1]!.length >= fence.length) fence = null;
      continue;
    }
    if (open) {
      fence = open[1]!;
      continue;
    }
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/** The broken relative links in `files` (paths relative to `root`). */
export function brokenLinks(root: string, files: string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsFor = (path: string) => {
    let a = anchorCache.get(path);
    if (!a) anchorCache.set(path, (a = anchorsOf(readFileSync(path, 'utf8'))));
    return a;
  };
  for (const file of files) {
    const path = resolve(root, file);
    const lines = withoutCode(readFileSync(path, 'utf8'));
    lines.forEach((text, i) => {
      // [text](target "title") and ![alt](target); the target ends at a space or the parenthesis.
      for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
        const target = m[1]!;
        if (target === '' || EXTERNAL.test(target)) continue;
        const hash = target.indexOf('#');
        const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
        const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
        const dest = pathPart === '' ? path : pathPart.startsWith('/') ? join(root, pathPart) : resolve(dirname(path), pathPart);
        const report = (why: string) => broken.push({ file: relative(root, path), line: i + 1, target, why });
        if (!existsSync(dest)) {
          report(`${relative(root, dest) || dest} does not exist`);
          continue;
        }
        if (anchor === null || !dest.endsWith('.md') || statSync(dest).isDirectory()) continue;
        if (!anchorsFor(dest).has(anchor)) report(`no heading in ${relative(root, dest)} has the anchor #${anchor}`);
      }
    });
  }
  return broken;
}

/** The markdown files a reader meets: README.md and every .md under the folders given. */
export function markdownFiles(root: string, folders: string[]): string[] {
  const out: string[] = [];
  if (existsSync(join(root, 'README.md'))) out.push('README.md');
  const walk = (dir: string) => {
    if (!existsSync(join(root, dir))) return;
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(rel);
      } else if (entry.name.endsWith('.md')) out.push(rel);
    }
  };
  for (const folder of folders) walk(folder);
  return out.sort();
}
