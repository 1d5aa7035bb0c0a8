import t from 'tap';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { analyse } from '../src/detect/index.js';
import { assignFailureModes, failureModeOf, failureReference } from '../src/detect/failure-mode.js';
import type { ClaimVerdict } from '../src/detect/verdict.js';
import type { Exchange } from '../src/capture/exchange.js';
import { datasetDir, defaultDetectConfig, loadRows } from '../src/tooling/train/data.js';
import { measurePlanted, measureSpans } from '../src/tooling/train/failure-mode-eval.js';

const CONTEXT = [
  'The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.',
  'It was designed by the company of engineer Gustave Eiffel and completed in 1889 for the World Fair.',
  'The recommended dose of Examplex is 5 mg twice a day, at most 20 mg a week.',
  'Call fetchUser() from src/api/users.ts, which sends GET /v1/users to the API.',
  'The museum opened in March and is open on Sundays.',
  'Anna Harkowska of Poland finished second behind Sarah Storey in Nottwil.',
].join(' ');

const cases: Array<[string, string, string]> = [
  ['a year that differs', 'The Eiffel Tower was completed in 1899.', 'number'],
  ['a unit that differs', 'The recommended dose of Examplex is 5 g twice a day.', 'number'],
  ['a dosage that is absent', 'Examplex may be taken at 40 mg a day.', 'number'],
  ['a weekday that is absent', 'The museum opened on a Tuesday in March.', 'number'],
  ['a person the context lacks', 'It was designed by Thomas Edison.', 'entity'],
  ['a name opening the sentence', 'Stephen Sauvestre designed the tower.', 'entity'],
  ['a place the context lacks', 'The Eiffel Tower stands on the Champ de Mars in Lyon.', 'entity'],
  ['two names of the context swapped', 'Sarah Storey of Poland finished second behind Anna Harkowska in Nottwil.', 'entity'],
  ['a negation', 'The Eiffel Tower is not in Paris.', 'negation'],
  ['an antonym', 'The museum closed in March.', 'negation'],
  ['a function the context lacks', 'Call getUser() to read the users.', 'reference'],
  ['a URL', 'The full history is at https://example.org/eiffel.', 'reference'],
  ['an endpoint', 'It sends GET /v2/users to the API.', 'reference'],
  ['a file path', 'The client lives in src/api/client.ts.', 'reference'],
  ['a package', 'Install it with npm install eiffel-sdk first.', 'reference'],
  ['a citation', 'This was measured by Okonkwo et al. (2019).', 'reference'],
  ['anything else', 'The tower is painted gold every year.', 'unsupported'],
  ['a reference the context has', 'Call fetchUser() from src/api/users.ts.', 'unsupported'],
];

t.test('each failure mode on hand-made claims', async (t) => {
  const ref = failureReference(CONTEXT);
  for (const [what, claim, mode] of cases) t.equal(failureModeOf(claim, ref), mode, `${what}: ${claim}`);
});

t.test('casing does not decide: all lower-case text, as some sources publish it', async (t) => {
  const ref = failureReference(CONTEXT.toLowerCase());
  t.equal(failureModeOf('it was designed by thomas edison.', ref), 'entity');
  t.equal(failureModeOf('the eiffel tower stands on the champ de mars in lyon.', ref), 'entity');
  t.equal(failureModeOf('the eiffel tower was completed in 1899.', ref), 'number');
  t.equal(failureModeOf('the eiffel tower is not in paris.', ref), 'negation');
  t.equal(failureModeOf('the tower is painted gold every year.', ref), 'unsupported');
  // A lower-case claim against a cased context, and the reverse.
  t.equal(failureModeOf('it was designed by thomas edison.', failureReference(CONTEXT)), 'entity');
  t.equal(failureModeOf('It was designed by Thomas Edison.', ref), 'entity');
});

t.test('formatting does not decide: accents, spaced thousands, numbers in words', async (t) => {
  t.equal(failureModeOf('She appeared in Café Society in 2016.', failureReference('In 2016 she appeared in Cafe\u0301 Society.')), 'unsupported');
  t.equal(failureModeOf('She faces a $1,000 fine and six months in jail.', failureReference('she faces six months in jail and a $ 1, 000 fine .')), 'unsupported');
  t.equal(failureModeOf('The team won three titles.', failureReference('The team has won 3 titles.')), 'unsupported');
  t.equal(failureModeOf('The team won four titles.', failureReference('The team has won 3 titles.')), 'number');
});

t.test('a count the reference never gives is not what a claim got wrong', async (t) => {
  const ref = failureReference('Veeram is a 2014 Tamil action film directed by Siva. Veeram is a 2016 historical drama directed by Jayaraj.');
  t.equal(failureModeOf('The two films were box-office failures that critics hated.', ref), 'unsupported');
  t.equal(failureModeOf('The second film was directed by Siva in 1998.', ref), 'number', 'a year the reference lacks still is');
  // A count the reference gives otherwise, beside the same words, is a changed number.
  t.equal(failureModeOf('The team won two titles.', failureReference('The team has won 3 titles.')), 'number');
});

t.test('any reference text works: resampled answers as well as context', async (t) => {
  const sample = 'Marie Curie won the Nobel Prize in Physics in 1903 and in Chemistry in 1911.';
  t.equal(failureModeOf('Marie Curie won the Nobel Prize in Physics in 1905.', sample), 'number');
  t.equal(failureModeOf('Pierre Curie won the Nobel Prize in Chemistry in 1911.', sample), 'entity');
  t.equal(failureModeOf('Marie Curie never won the Nobel Prize in Physics.', sample), 'negation');
  t.equal(failureModeOf('', sample), 'unsupported');
  t.equal(failureModeOf('Something.', ''), 'unsupported');
});

t.test('deterministic', async (t) => {
  const ref = failureReference(CONTEXT);
  const once = cases.map(([, c]) => failureModeOf(c, ref));
  const again = cases.map(([, c]) => failureModeOf(c, failureReference(CONTEXT)));
  t.same(again, once);
});

t.test('assignFailureModes: every unsupported or contradicted claim gets one, supported ones none', async (t) => {
  const claim = (text: string, support: ClaimVerdict['support']): ClaimVerdict => ({ text, start: 0, end: text.length, support, score: 0.5 });
  const claims = [claim('The Eiffel Tower was completed in 1899.', 'unsupported'), claim('The tower is in Paris.', 'supported'), claim('The tower is painted gold every year.', 'contradicted')];
  claims[1]!.failure_mode = 'number';
  assignFailureModes(claims, { text: CONTEXT });
  t.same(claims.map((c) => c.failure_mode), ['number', undefined, 'negation'], 'a contradicted claim with nothing else to show is a flip');
  assignFailureModes(claims);
  t.same(claims.map((c) => c.failure_mode), ['unsupported', undefined, 'unsupported'], 'nothing to compare against: unsupported');
});

function exchange(context: Exchange['context'], text: string): Exchange {
  return { id: 'fm', provider: 'openai', model: 'gpt-x', question: 'Tell me about the tower.', context, response: { text } } as Exchange;
}

t.test('analyse sets failure_mode on the claims it checks against context, and on none it supports', async (t) => {
  const v = analyse(
    exchange([{ source: 'document', text: CONTEXT }], 'The Eiffel Tower is in Paris. It was completed in 1899. It was designed by Thomas Edison. The Eiffel Tower is not in Paris.'),
    defaultDetectConfig(),
  );
  t.equal(v.hallucination.method, 'context');
  for (const c of v.hallucination.claims) {
    if (c.support === 'supported') t.equal(c.failure_mode, undefined, `supported: ${c.text}`);
    else t.ok(c.failure_mode, `${c.support} carries failure_mode: ${c.text}`);
  }
  const mode = (s: string) => v.hallucination.claims.find((c) => c.text.includes(s))?.failure_mode;
  t.equal(mode('1899'), 'number');
  t.equal(mode('Edison'), 'entity');
  t.equal(mode('not in Paris'), 'negation');

  const none = analyse(exchange([], 'The Eiffel Tower was completed in 1899.'), defaultDetectConfig());
  t.equal(none.hallucination.method, 'none');
  t.same(none.hallucination.claims.map((c) => c.failure_mode), ['unsupported'], 'an ungrounded claim was compared with nothing');
});

const dir = datasetDir();
t.test('measured on the dev rows', { skip: !existsSync(path.join(dir, 'faithbench.jsonl')) && 'dev rows missing' }, async (t) => {
  const spans = measureSpans(dir);
  t.comment(`FaithBench spans read by hand: accuracy ${spans.accuracy.toFixed(3)} (all-unsupported baseline ${spans.baseline.toFixed(3)}, n=${spans.n})`);
  t.ok(spans.accuracy > spans.baseline, 'beats calling everything unsupported');
  // QAGS is all lower case: the modes must hold without casing.
  const tally = measurePlanted(loadRows('qags-cnndm', dir).filter((r) => r.expected.hallucination === false));
  for (const kind of ['number', 'entity', 'negation', 'reference', 'unsupported']) {
    const k = tally.get(kind)!;
    t.ok(k.n >= 50 && k.right / k.n >= 0.9, `qags-cnndm planted ${kind}: ${k.right}/${k.n}`);
  }
});
