import { createHash } from 'node:crypto';
import { REVIEW_CSS } from './views/review.js';

/**
 * The console's one stylesheet, served from /veracity/static/ (a strict CSP allows styles from
 * the console's own origin only, and no inline style). Kept in a module so the compiled package
 * carries it without a build step; its URL holds a hash of its text, so it can be cached forever.
 */
export const CONSOLE_CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d7dbe3; --soft: #f4f6f9; --accent: #2556c4;
  --ok: #e3f4e8; --ok-line: #2f855a; --warn: #fde4cc; --warn-line: #c2410c; --bad: #f9d0d0; --bad-line: #b91c1c;
  --bar: #3b6fd6; --band: #c9d7f5; --bg: #fff; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ef; --muted: #a3abbb; --line: #3a4150; --soft: #232833; --accent: #8fb0ff;
    --ok: #17392a; --ok-line: #5cc58b; --warn: #4a2c14; --warn-line: #f59e5b; --bad: #4d1d1d; --bad-line: #f87171;
    --bar: #6f95e8; --band: #2c3d66; --bg: #161a22; }
  body { background: var(--bg); }
}
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: 0; }
.skip:focus { left: .5rem; top: .5rem; background: var(--soft); padding: .4rem .8rem; z-index: 1; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--soft); }
header .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
header nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
header nav a[aria-current="page"] { font-weight: 700; text-decoration: none; color: var(--fg); }
header form { margin-left: auto; }
main { max-width: 1400px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.muted, .note { color: var(--muted); }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0 1rem; padding: .6rem .8rem; border: 1px solid var(--line); border-radius: 6px; }
.filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .2rem .8rem; }
.filters legend { font-weight: 600; padding: 0; margin-bottom: .2rem; }
.ranges { display: flex; gap: .4rem; flex-wrap: wrap; list-style: none; margin: 0; padding: 0; }
.ranges a { display: inline-block; padding: .15rem .55rem; border: 1px solid var(--line); border-radius: 999px; text-decoration: none; }
.ranges a[aria-current="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
button, input[type=password] { font: inherit; padding: .35rem .7rem; border-radius: 5px; border: 1px solid var(--line); background: var(--soft); color: var(--fg); }
button { cursor: pointer; }
.cards { display: flex; gap: .8rem; flex-wrap: wrap; margin: .8rem 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .9rem; min-width: 150px; }
.card b { display: block; font-size: 1.35rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; width: 100%; }
caption { text-align: left; color: var(--muted); padding-bottom: .3rem; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .6rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child, .left { text-align: left; }
thead th { background: var(--soft); }
.rate b { display: block; }
.rate small { display: block; color: var(--muted); white-space: nowrap; }
/* The per-model tables have ten columns: intervals take a second line and long model names wrap,
   so the table fits a 1366-px window; a narrower screen scrolls it inside its own box. */
.rate small.ci { white-space: normal; } .rate small.ci span { white-space: nowrap; }
.models-table th, .models-table td { padding: .35rem .45rem; }
.models-table th[scope=row], table.split th[scope=row], table.profile th[scope=row] { min-width: 9rem; max-width: 16rem; overflow-wrap: anywhere; }
.models { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }
.model { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.model h3 { margin-top: 0; }
svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg text { fill: var(--fg); }
svg .t { font-size: 13px; font-weight: 600; }
svg .grid, svg .axis { stroke: var(--line); }
svg .band { fill: var(--band); }
svg .line { fill: none; stroke: var(--accent); stroke-width: 2; }
svg .pt { fill: var(--accent); }
svg .bar { fill: var(--bar); opacity: .8; }
svg .curve { fill: none; stroke: var(--warn-line); stroke-width: 2; }
svg .ci { stroke: var(--bar); stroke-width: 3; } svg .dot { fill: var(--warn-line); }
.badge { display: inline-block; font-size: .8rem; padding: 0 .45rem; border-radius: 4px; border: 1px solid var(--line); background: var(--soft); white-space: nowrap; }
.badge.flagged { background: var(--warn); border-color: var(--warn-line); }
.badge.contradicted, .badge.bad { background: var(--bad); border-color: var(--bad-line); }
.badge.unsupported { background: var(--warn); border-color: var(--warn-line); }
.badge.supported { background: var(--ok); border-color: var(--ok-line); }
.text { white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; background: var(--soft); max-height: 32rem; overflow-y: auto; }
mark.claim { color: inherit; border-radius: 2px; padding: 0 .1em; }
mark.claim[data-support="supported"] { background: transparent; border-bottom: 2px solid var(--ok-line); }
mark.claim[data-support="unsupported"] { background: var(--warn); border-bottom: 2px solid var(--warn-line); }
mark.claim[data-support="contradicted"] { background: var(--bad); border-bottom: 2px solid var(--bad-line); }
mark.claim sup a { text-decoration: none; font-size: .75em; }
.legend { display: flex; gap: .8rem; flex-wrap: wrap; font-size: .9rem; margin: .3rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.evidence { color: var(--muted); font-size: .9rem; max-width: 40rem; overflow-wrap: anywhere; text-align: left; }
td.claimtext { text-align: left; min-width: 14rem; overflow-wrap: anywhere; }
pre.json { overflow-x: auto; background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .7rem; font-size: .85rem; }
.list { list-style: none; padding: 0; margin: 0; }
.list li { border-bottom: 1px solid var(--line); padding: .5rem 0; }
.list .snippet { display: block; color: var(--muted); overflow-wrap: anywhere; }
.signin { max-width: 26rem; margin: 3rem auto; border: 1px solid var(--line); border-radius: 8px; padding: 1.2rem 1.4rem; }
.signin label { display: block; font-weight: 600; margin: .8rem 0 .3rem; }
.signin input[type=password] { width: 100%; }
.signin button { margin-top: 1rem; }
.error { color: var(--bad-line); font-weight: 600; }
select { font: inherit; padding: .3rem .5rem; border-radius: 5px; border: 1px solid var(--line); background: var(--soft); color: var(--fg); max-width: 100%; }
.filters label[for] { display: block; }
.badge.mode { background: var(--soft); border-style: dashed; }
svg .ci.a { stroke: var(--bar); } svg .ci.b { stroke: var(--warn-line); }
.comparison th:first-child { white-space: nowrap; }
table.ex td, table.ex th { text-align: left; white-space: normal; max-width: 32rem; overflow-wrap: anywhere; }
.comparison ul { padding-left: 1.2rem; }
.tag { font-size: .8rem; padding: 0 .35rem; border-radius: 3px; background: var(--warn); }
.tag.contradicted { background: var(--bad); }
.profile td small, .split td small { color: var(--muted); }
td[data-field=skipped] small { display: block; color: var(--muted); white-space: nowrap; }
.findings { margin: 0; padding-left: 1.1rem; }
table.tool-calls td { white-space: normal; overflow-wrap: anywhere; }
table.tool-calls [data-field=name] code { white-space: nowrap; }
${REVIEW_CSS}@media (max-width: 600px) { main { padding: .6rem; } .rate small { white-space: normal; } th, td { padding: .3rem .35rem; } .card { min-width: 45%; } }
/* On a phone a wide table scrolls inside its box; its row names stay in view while it does. */
@media (max-width: 600px) {
  .table-wrap tbody th[scope=row] { position: sticky; left: 0; background: var(--bg); z-index: 1; }
  .models-table th[scope=row], table.split th[scope=row], table.profile th[scope=row] { min-width: 7rem; }
  td.evidence, .evidence { min-width: 12rem; }
}
`;

export const CONSOLE_CSS_PATH = `/veracity/static/console.${createHash('sha256').update(CONSOLE_CSS).digest('hex').slice(0, 12)}.css`;
