import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anchorsOf, brokenLinks, markdownFiles, slug } from './helpers/doc-links.js';

const root = join(import.meta.dirname, '..');

t.test('every relative link in README.md and docs/ (and the other pages beside the code) resolves', async (t) => {
  const files = markdownFiles(root, ['docs', 'deploy', 'grafana', 'src']);
  t.ok(files.includes('README.md') && files.filter((f) => f.startsWith('docs/')).length >= 4, `README.md and the docs pages are found: ${files.join(', ')}`);
  const broken = brokenLinks(root, files);
  t.same(broken.map((b) => `${b.file}:${b.line} (${b.target}): ${b.why}`), [], 'no broken link');
});

t.test('the README is the front door: short, with the Quickstart near the top, linking every docs page', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const lines = readme.split('\n');
  t.ok(lines.length <= 300, `README.md has ${lines.length} lines`);
  const quick = lines.findIndex((l) => /^## Quickstart/.test(l));
  t.ok(quick >= 0 && quick < 60, `Quickstart heading on line ${quick + 1}`);
  t.match(lines.slice(quick, 60).join('\n'), /npm run quickstart[\s\S]*npm test/, 'both commands within the first 60 lines');
  for (const page of markdownFiles(root, ['docs']).filter((f) => f.startsWith('docs/'))) {
    t.ok(readme.includes(`](${page})`), `README links ${page}`);
  }
});

t.test('slugs follow GitHub', async (t) => {
  t.equal(slug('Redis modes, many proxies and failover'), 'redis-modes-many-proxies-and-failover');
  t.equal(slug('What is stored, for how long, and what never is'), 'what-is-stored-for-how-long-and-what-never-is');
  t.equal(slug('Open-ended answers: sampling and shadow models'), 'open-ended-answers-sampling-and-shadow-models');
  t.equal(slug('`veracity report` and [links](x.md)'), 'veracity-report-and-links');
  t.same([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n## B: c\n')], ['a', 'a-1', 'b-c']);
});

t.test('the checker finds broken files and anchors, and ignores code, other sites and good links', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-doclinks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'page.md'), '# Page\n\n## A section, with commas\n\nText.\n');
  writeFileSync(
    join(dir, 'README.md'),
    [
      '# Top',
      '[good](docs/page.md) [good anchor](docs/page.md#a-section-with-commas) [self](#top)',
      '[missing file](docs/nope.md)',
      '[missing anchor](docs/page.md#no-such-section)',
      '[bad self anchor](#bottom)',
      '[site](https://example.com/x.md) [mail](mailto:a@b.c) `[in code](nope.md)`',
      '```',
      '[in a fence](nope.md)',
      '```',
      '[folder](docs/) [source file with a line](docs/page.md)',
    ].join('\n'),
  );
  const broken = brokenLinks(dir, markdownFiles(dir, ['docs']));
  t.same(
    broken.map((b) => [b.file, b.line, b.target]),
    [
      ['README.md', 3, 'docs/nope.md'],
      ['README.md', 4, 'docs/page.md#no-such-section'],
      ['README.md', 5, '#bottom'],
    ],
  );
  t.match(broken[0]!.why, /does not exist/);
  t.match(broken[1]!.why, /no heading in docs\/page\.md has the anchor #no-such-section/);
});
