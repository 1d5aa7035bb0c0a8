import t from 'tap';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { datasetDir } from '../src/tooling/train/data.js';
import { GOLDEN_FILES, changedRows, fingerprint, readGolden, sourceFile } from '../src/tooling/train/golden.js';

/**
 * `analyse` gives, on every dev row, the verdict it gave when src/tooling/train/golden.json was
 * written: work on speed must not move a single verdict. A deliberate change (a retrain, a new
 * feature) writes the file again with `node dist/tooling/train/golden.js --write`.
 */

const dir = datasetDir();
const stored = readGolden();

for (const name of GOLDEN_FILES) {
  t.test(`${name}: verdicts match the stored fingerprints`, { skip: !existsSync(path.join(dir, `${sourceFile(name)}.jsonl`)) && 'dev rows not found (set VERACITY_DEV_DATA)' }, async (t) => {
    const want = stored[name];
    t.ok(want, `golden.json has ${name}`);
    if (!want) return;
    const now = fingerprint(name, dir);
    t.equal(now.rows, want.rows, 'same number of rows');
    const changed = changedRows(want, now);
    t.same(changed.slice(0, 20), [], `rows whose verdict changed (${changed.length} in all)`);
    t.equal(now.sha256, want.sha256, 'file digest');
  });
}
