/**
 * Detector throughput on one core over the FaithBench dev rows, printed beside a reference pass
 * measured in the same run (tokenising the same context and response once, the least any
 * detector must do), so that the figure can be read on a shared machine: the ratio moves less
 * than the raw rate when other processes take the CPU.
 *
 *   npm run build && node dist/detect/train/bench-detect.js [--rounds 5]
 */
import { analyse } from '../index.js';
import { tokenize } from '../text.js';
import { defaultDetectConfig, loadRows } from './data.js';

const cfg = defaultDetectConfig();
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : 5;
const rows = loadRows('faithbench');

function rate(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return rows.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

for (const r of rows) analyse(r.exchange, cfg);
const analyseRates: number[] = [];
const tokenRates: number[] = [];
for (let k = 0; k < ROUNDS; k++) {
  // Interleaved, so a burst of load elsewhere falls on both.
  analyseRates.push(rate(() => { for (const r of rows) analyse(r.exchange, cfg); }));
  tokenRates.push(rate(() => { for (const r of rows) { for (const c of r.exchange.context) tokenize(c.text); tokenize(r.exchange.response.text); } }));
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const a = median(analyseRates);
const tk = median(tokenRates);
console.log(`analyse: ${a.toFixed(0)} exchanges/s (median of ${ROUNDS} rounds over ${rows.length} FaithBench rows, one core; best ${Math.max(...analyseRates).toFixed(0)})`);
console.log(`tokenise-only reference: ${tk.toFixed(0)} exchanges/s; analyse costs ${(tk / a).toFixed(2)}x the reference`);
