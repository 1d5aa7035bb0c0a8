import t from 'tap';
import { analyse } from '../src/detect/index.js';
import { extractClaims, splitSentences } from '../src/detect/claims.js';
import { buildContextIndex, claimFeatures } from '../src/detect/grounding.js';
import { antonymous, restatedBy } from '../src/detect/semantics/wordnet.js';
import { roundedFrom, tokenize } from '../src/detect/text.js';
import { ConfigSchema } from '../src/config/schema.js';
import type { Exchange } from '../src/capture/exchange.js';

const cfg = ConfigSchema.parse({}).detect;
const key = (word: string): string => tokenize(word)[0]!.key;

function exchange(context: string, answer: string, question = 'Summarise the context.'): Exchange {
  return {
    id: 'meaning',
    provider: 'openai',
    route: 'chat.completions',
    model: 'test-model',
    stream: false,
    question,
    context: [{ source: 'document', text: context }],
    response: { text: answer },
  } as unknown as Exchange;
}

function features(context: string, answer: string) {
  const index = buildContextIndex(context, '');
  const [claim] = extractClaims(answer);
  return claimFeatures(claim!, index);
}

t.test('WordNet: a claim word is restated by a synonym, a narrower word or a derivation the context uses', async (t) => {
  const restated: Array<[string, string]> = [
    ['decreased', 'fell'],
    ['people', 'nurses'],
    ['draws', 'attracts'],
    ['annually', 'year'],
    ['employs', 'hired'],
    ['vehicle', 'truck'],
    ['Scottish', 'Scotland'],
    ['French', 'France'],
    ['Scotland', 'Scottish'],
  ];
  for (const [claim, context] of restated) t.equal(restatedBy(key(claim), new Set([key(context), key("table"), key("river")])), key(context), `${claim} ← ${context}`);
  // Opposites, siblings and a broader context word restate nothing.
  const not: Array<[string, string]> = [
    ['rejected', 'approved'],
    ['increase', 'decrease'],
    ['Tuesday', 'Monday'],
    ['doctor', 'nurse'],
    ['truck', 'vehicle'],
  ];
  for (const [claim, context] of not) t.equal(restatedBy(key(claim), new Set([key(context), key("table"), key("river")])), undefined, `${claim} is not restated by ${context}`);
});

t.test('WordNet: opposites are told from synonyms', async (t) => {
  for (const [a, b] of [['rejected', 'approved'], ['increase', 'decrease'], ['won', 'lost'], ['opened', 'closed'], ['imports', 'exports']]) {
    t.ok(antonymous(key(a!), key(b!)), `${a} / ${b}`);
  }
  for (const [a, b] of [['big', 'large'], ['bought', 'purchased'], ['fell', 'decreased']]) t.notOk(antonymous(key(a!), key(b!)), `${a} / ${b}`);
});

t.test('numbers: words, hyphens, "per cent" and rounder figures meet the context\'s', async (t) => {
  t.same(tokenize('thirty-four episodes').map((x) => x.key)[0], '#34');
  t.same(tokenize('two million visitors').map((x) => x.key)[0], '#2000000');
  t.equal(tokenize('8 per cent')[1]!.key, tokenize('8 percent')[1]!.key);
  t.equal(roundedFrom('#181700000', ['#181674817', '#160000000']), '#181674817');
  t.equal(roundedFrom('#181800000', ['#181674817']), undefined, 'a different figure of the same size is no match');
  t.equal(roundedFrom('#181674817', ['#181700000']), undefined, 'a more precise figure than the context gives is not a rounding');
});

const NURSES = 'The firm hired 40 nurses last year, bringing its staff to 600.';
const COUNCIL = 'The city council approved the new parking plan on Tuesday.';

t.test('relations: a number moved to another number\'s place, roles reversed, a word swapped', async (t) => {
  t.ok(features(NURSES, 'The firm hired 600 nurses last year, bringing its staff to 40.').numberSwap, 'numbers swapped between slots');
  t.notOk(features(NURSES, 'After adding 40 nurses last year, the firm employs 600 people.').numberSwap, 'the same numbers restated');
  t.notOk(
    features('The incident occurred on the A9 north of Berriedale in Caithness at about 14:00.', 'There was a crash on the A9 in Caithness.').numberSwap,
    'a number beside words the context writes near another number, but not in its place',
  );
  t.ok(features('Smith sued Jones over the contract in 2019.', 'Jones sued Smith over the contract in 2019.').roleSwap, 'agent and patient reversed');
  t.notOk(features('Smith sued Jones over the contract in 2019.', 'Jones was sued by Smith over the contract in 2019.').roleSwap, 'the passive says the same');
  t.notOk(features(COUNCIL, 'The new parking plan was approved by the city council on Tuesday.').roleSwap, 'the passive says the same');
  t.notOk(features('Exports fell by 8 percent in March.', 'March saw an 8 percent fall in exports.').roleSwap, 'a nominalisation is no role swap');
  t.ok(features(COUNCIL, 'The city council rejected the new parking plan on Tuesday.').antonymFlip, 'an opposite verb in the same place');
});

t.test('relations: two names that trade prepositions trade parts ("from Chelsea at Middlesbrough")', async (t) => {
  const LOAN = 'Patrick Bamford, 21, is on loan at Middlesbrough from Chelsea and was named player of the year.';
  const swapped = analyse(exchange(LOAN, 'Bamford, on loan at Chelsea from Middlesbrough, was named player of the year.'), cfg).hallucination;
  t.equal(swapped.claims[0]?.support, 'contradicted', 'loaned the other way');
  t.ok(swapped.flagged);
  t.notOk(features(LOAN, 'Bamford, on loan from Chelsea at Middlesbrough, was named player of the year.').roleSwap, 'the same prepositions in another order');
  const MOVE = 'The firm moved its head office from Leeds to Manchester in 2019.';
  t.ok(features(MOVE, 'The firm moved its head office from Manchester to Leeds in 2019.').roleSwap, 'the other direction');
  t.notOk(features(MOVE, 'In 2019 the firm moved its head office to Manchester from Leeds.').roleSwap);
  // A name the passage writes after both prepositions decides nothing.
  t.notOk(features('Flights from Leeds to Paris and from Paris to Leeds run daily.', 'Flights from Paris to Leeds run daily.').roleSwap);
});

t.test('the meaning-changing edits of the issue are contradicted, whatever the learned score', async (t) => {
  const wrong: Array<[string, string]> = [
    [COUNCIL, 'The city council rejected the new parking plan on Tuesday.'],
    [NURSES, 'The firm hired 600 nurses last year, bringing its staff to 40.'],
    ['Smith sued Jones over the contract in 2019.', 'Jones sued Smith over the contract in 2019.'],
    ['Exports fell by 8 percent in March.', 'Exports rose by 8 percent in March.'],
  ];
  for (const [context, answer] of wrong) {
    const v = analyse(exchange(context, answer), cfg);
    t.equal(v.hallucination.flagged, true, answer);
    t.equal(v.hallucination.claims[0]?.support, 'contradicted', answer);
  }
});

t.test('numbers: a currency sign is no word, and a number the context writes beside nothing can still be moved', async (t) => {
  const POSEIDON = 'Poseidon grossed $ 181,674,817 at the worldwide box office on a budget of $ 160 million .';
  const swapped = analyse(exchange(POSEIDON, 'Poseidon grossed $160 million at the worldwide box office on a budget of $181,674,817.'), cfg).hallucination.claims[0]!;
  t.equal(swapped.support, 'contradicted', 'the gross and the budget swapped across "$"');
  t.equal(swapped.failure_mode, 'number', 'a moved number is a number failure, not a flipped polarity');
  t.notOk(features(POSEIDON, 'Made on a budget of $160 million, Poseidon took in about $181.7 million worldwide.').numberSwap, 'a rounder figure in its own place');

  const SPENDING = "UKIP, which won May's election, spent £2,956,737, while the Tories' campaign expenditure was £2,980,815.";
  t.ok(features(SPENDING, 'UKIP spent £2,980,815 and the Tories £2,956,737.').numberSwap, 'the two sums traded places');
  t.notOk(features(SPENDING, 'UKIP spent £2,956,737 and the Tories £2,980,815.').numberSwap, 'the two sums in their places');
  t.notOk(features(SPENDING, 'UKIP spent £2,956,737 and the Tories spent £2,980,815.').numberSwap, 'a list that writes "spent" beside both');
  t.notOk(features(SPENDING, 'The Tories spent £2,980,815.').numberSwap, 'the second sum alone, in other words');
});

t.test('numbers: a figure the context never gives, in a slot it fills with another, is a changed number', async (t) => {
  const POSEIDON = 'Poseidon grossed $ 181,674,817 at the worldwide box office on a budget of $ 160 million .';
  const changed = analyse(exchange(POSEIDON, 'Poseidon grossed $181,674,817 worldwide on a budget of $60 million.'), cfg).hallucination.claims[0]!;
  t.equal(changed.support, 'contradicted', 'the budget changed from $160 million to $60 million');
  t.equal(changed.failure_mode, 'number');
  t.ok(features('Exports fell by 8 percent in March.', 'Exports fell by 10 percent in March.').numberSwap, 'another percentage');
  // Near misses that must not read as a changed number.
  t.notOk(features('Home for the Holidays is a 1972 film starring Sally Field.', 'There are two films called Home for the Holidays.').numberSwap, 'a count where the context has a year');
  t.notOk(features('The crash happened near Berriedale at about 14:00.', 'The crash happened near Berriedale at around 2:00 PM.').numberSwap, 'a time of day written another way');
  t.notOk(features(NURSES, 'The firm hired 40 nurses, bringing its staff from 560 to 600.').numberSwap, 'a figure worked out beside the one the context gives');
});

t.test('numbers: thousands and decimals that a source writes spaced apart are one number', async (t) => {
  t.equal(tokenize('about 26, 000 people')[1]!.key, '#26000');
  t.equal(tokenize('surge to 31. 8 million sufferers')[2]!.key, '#31800000');
  t.same(tokenize('in 2014, 500 people').filter((x) => x.number).map((x) => x.key), ['#2014', '#500'], 'a year, then a count');
  t.same(splitSentences('It will surge to 31. 8 million sufferers. Dr Jean said so.').length, 2, 'the decimal does not end the sentence');
  const v = analyse(exchange('There are about 26, 000 yanomami living in brazil.', 'About 26,000 Yanomami live in Brazil.'), cfg);
  t.equal(v.hallucination.claims[0]?.support, 'supported', `the same figure written without the space → ${v.hallucination.score}`);
});

t.test('relations: an opposite needs one neighbour, and is found under the word as written', async (t) => {
  const LOCKE = 'The 41-year-old - who will speak at a press conference on Friday morning - has lost just once in seven games since taking over.';
  t.ok(features(LOCKE, 'Gary Locke has won just once in seven games since taking over.').antonymFlip, '"won" where the context says "lost", one neighbour shared');
  t.notOk(features(LOCKE, 'Gary Locke has lost just once in seven games since taking over.').antonymFlip, 'the same verb');
  t.notOk(features(LOCKE, 'Gary Locke has been beaten just once in seven games since taking over.').antonymFlip, 'another word that is no opposite');
  t.notOk(features('The team won the first game and lost the second.', 'The team lost the second game.').antonymFlip, 'a context that says both');
});

t.test('a negation governs the words of its clause, not the whole passage', async (t) => {
  const GREALISH = 'Grealish has not been fined over the incident and will be in the squad for the trip to Manchester City.';
  t.notOk(features(GREALISH, 'Grealish will be in the squad for the trip to Manchester City.').negationFlip, 'the claim says none of what "not" governs');
  t.ok(features(GREALISH, 'Grealish has been fined over the incident and will be in the squad for the trip to Manchester City.').negationFlip, '"fined" without the "not"');
  const GARROD = 'Miss Garrod had been wearing contact lenses since she was 15 with no problems, but woke up one day with an itchy and irritable right eye.';
  t.notOk(features(GARROD, 'Garrod had been wearing contact lenses since she was 15, but woke up one day with an itchy and irritable right eye.').negationFlip, '"no" governs "problems" only');
  const BETS = 'One bookie has taken five bets for more than $10,000 on the party to win the most seats, with not a single bet of this size on Labour.';
  t.notOk(features(BETS, 'One bookie has taken five bets for more than $10,000 on the party to win the most seats.').negationFlip, '"bet", said outside the negation too');
  const VOICE = 'Known as trusted voice, it can unlock a phone simply by hearing its owner say ok google.';
  t.notOk(features(VOICE, 'Known as trusted voice, it can unlock a phone simply by hearing its owner say ok google though not as securely as a password.').negationFlip, 'the claim\'s negation governs words the passage never says');
  t.ok(features('The council approved the new parking plan on Tuesday.', 'The council did not approve the new parking plan on Tuesday.').negationFlip, 'a negated claim against a plain passage');
  t.ok(features('Joseph Roth was an Austrian journalist and novelist.', 'No, Joseph Roth was a journalist.').negationFlip, '"No, …" denies the whole claim');
  t.notOk(tokenize('the no 1 jersey')[1]!.negation, '"no 1" is a number');
  t.notOk(features('Casillas made the jersey his own as a 16-year-old in 1996.', 'Casillas made the no 1 jersey his own as a 16-year-old in 1996.').negationFlip);
  const verdict = analyse(exchange(GREALISH, 'Grealish will be in the squad for the trip to Manchester City.'), cfg);
  t.not(verdict.hallucination.claims[0]?.support, 'contradicted');
});

t.test('an opposite the claim says itself, or an age\'s "old", flips nothing', async (t) => {
  const LEAGUE = 'Nottingham lead the league on 28 points, with Sheffield Steelers on 27 and Belfast 25.';
  t.notOk(features(LEAGUE, 'Nottingham leads the league with 28 points, followed by Sheffield Steelers with 27 and Belfast with 25.').antonymFlip, '"followed" beside the claim\'s own "leads"');
  t.ok(features(LEAGUE, 'Nottingham follows the league on 28 points, with Sheffield Steelers on 27 and Belfast 25.').antonymFlip, 'without "leads", "follows" is still the opposite');
  const TITLE = 'Sheerin guided Arbroath to their first national trophy by winning the Third Division title and promotion in 2011.';
  t.notOk(features(TITLE, 'Despite relegation, Sheerin guided Arbroath to their first national trophy by winning the Third Division title and promotion in 2011.').antonymFlip, 'the claim says "promotion" too');
  t.ok(features(TITLE, 'Sheerin guided Arbroath to their first national trophy by winning the Third Division title and relegation in 2011.').antonymFlip, '"relegation" in its place');
  const AGE = 'The 41-year-old, who will speak at a press conference on Friday morning, has lost just once in seven games.';
  t.notOk(features(AGE, 'He will discuss his new role at a press conference on Friday morning.').antonymFlip, 'an age is no opposite of "new"');
  t.ok(features('The old stand will speak for the club at a press conference on Friday morning.', 'The new stand will speak for the club at a press conference on Friday morning.').antonymFlip, '"old" that is no age still is');
  const verdict = analyse(exchange(LEAGUE, 'Nottingham leads the league with 28 points, followed by Sheffield Steelers with 27 and Belfast with 25.'), cfg);
  t.not(verdict.hallucination.claims[0]?.support, 'contradicted');
});

t.test('connectives and framing words state nothing, so they cost a claim nothing', async (t) => {
  for (const w of ['Additionally', 'however', 'Moreover', 'overall', 'titled', 'several', 'various', 'since', 'within', 'across', 'towards']) t.notOk(tokenize(w)[0]!.content, `${w} is no content word`);
  for (const w of ['inside', 'outside', 'behind', 'despite', 'unless']) t.ok(tokenize(w)[0]!.content, `${w} says where or on what terms, and stays a content word`);
  const plain = analyse(exchange('Exports fell by 8 percent in March.', 'Exports fell by 8 percent in March.'), cfg).hallucination.score;
  const joined = analyse(exchange('Exports fell by 8 percent in March.', 'Additionally, exports fell by 8 percent in March.'), cfg).hallucination.score;
  t.equal(joined, plain, '"Additionally," adds nothing to check');
});

t.test('a light verb counts as the noun it carries, unless it is a passive predicate', async (t) => {
  const score = (context: string, answer: string) => analyse(exchange(context, answer), cfg).hallucination.score;
  const plain = score(COUNCIL, 'On Tuesday the city council approved the new parking plan.');
  const light = score(COUNCIL, 'On Tuesday the city council gave its approval to the new parking plan.');
  t.ok(light < 0.5, `"gave its approval" restates "approved" → ${light} (plain ${plain})`);
  const FESTIVAL = 'The festival opened in May with a roast lamb supper in the village hall.';
  t.equal(features(FESTIVAL, 'The festival saw a supper in the village hall.').coverage, 1, '"saw a supper": the verb counts as the noun');
  t.ok(features(FESTIVAL, 'A supper is seen at the festival in the village hall.').coverage < 1, 'the passive "is seen" keeps "seen" as a word the context lacks');
});

t.test('a currency or percent word is the sign the context writes', async (t) => {
  t.equal(features('Poseidon had a budget of $ 160 million.', 'Poseidon had a budget of 160 million dollars.').coverage, 1, '"dollars" for "$"');
  t.equal(features('Exports fell by 8% in March.', 'Exports fell by 8 percent in March.').coverage, 1, '"percent" for "%"');
  t.ok(features('Poseidon had a budget of £ 160 million.', 'Poseidon had a budget of 160 million dollars.').coverage < 1, '"dollars" where the context writes "£"');
});

t.test('numbers said the long way are one figure', async (t) => {
  const numbers = (text: string) => tokenize(text).filter((x) => x.number).map((x) => x.key);
  t.same(numbers('two hundred and seventy-five years'), ['#275']);
  t.same(numbers('more than six hundred guests'), ['#600']);
  t.same(numbers('six hundred thousand people'), ['#600000']);
  t.same(numbers('one hundred one nights'), ['#101']);
  t.same(numbers('a hundred men'), ['#100'], '"a hundred" stays 100');
  t.same(numbers('200 and seventy'), ['#200', '#70'], 'digits then words are two figures');
  t.same(numbers('two and seventy'), ['#2', '#70'], 'no "hundred", no joining');
  const said = features('The dynasty ruled Egypt for 275 years.', 'The dynasty ruled Egypt for two hundred and seventy-five years.');
  t.equal(said.numberMissing, 0, '"two hundred and seventy-five" is the context\'s 275');
  const wrong = features('The dynasty ruled Egypt for 275 years.', 'The dynasty ruled Egypt for two hundred and seventy years.');
  t.equal(wrong.numberMissing, 1, '"two hundred and seventy" is not');
});

t.test('a light verb reaches its noun past a figure; "him" is no content word, "US" is', async (t) => {
  const EXPORTS = 'Exports fell by 8 percent in March.';
  t.equal(features(EXPORTS, 'March saw an 8 percent fall in exports.').coverage, 1, '"saw an 8 percent fall": the verb counts as "fall"');
  t.ok(features(EXPORTS, 'March saw an 8 percent rise in exports.').coverage < 1, 'a noun the context lacks leaves the verb missing too');
  t.equal(tokenize('saw him').filter((x) => x.content).length, 1, 'only "saw"');
  const us = tokenize('in US cinemas')[1]!;
  t.ok(us.content, '"US" in capitals is a content word');
  t.equal(us.key, tokenize('in American cinemas')[1]!.key, 'the country, as "American" is');
  t.notOk(tokenize('let us go')[1]!.content, '"us" is the pronoun');
});

t.test('numbers in their own place, a count beside a year, a name as a predicate: no contradiction; other moves still are', async (t) => {
  const SMITH = 'The Dons loaned Smith, 21, to United in July and he has five goals this season. Smith has scored four times in 89 appearances.';
  t.notOk(features(SMITH, 'Smith has scored five goals this season.').numberSwap, '"five goals" is the context\'s, though "scored" sits beside "four" there');
  t.ok(features(SMITH, 'Smith has scored five times in 89 appearances.').numberSwap, '"five times in 89 appearances" still moves a number');
  const STOREY = 'Storey has 22 medals. She has won 11 gold medals. She won six medals at the 1992 Paralympics.';
  t.notOk(features(STOREY, 'With 22 medals, eleven of them gold, Storey is a Paralympian.').numberSwap, 'a count does not take the place of the year 1992');
  const STOREY_CYCLING = 'Storey won six medals at the 1992 Paralympics before switching to cycling in 2005.';
  t.ok(features(STOREY_CYCLING, 'Storey switched to cycling in 1992, after winning six medals.').numberSwap, '"cycling in 1992": a year read through "in" moved to another year\'s place');
  t.notOk(features(STOREY_CYCLING, 'Storey switched to cycling in 2005 after winning six medals at the 1992 Paralympics.').numberSwap);
  const ROSETTA = 'The Rosetta Stone, found in 1799, is inscribed with a decree issued at Memphis, Egypt in 196 BC.';
  t.ok(features(ROSETTA, 'The Rosetta Stone, found in 196 BC, is inscribed with a decree issued at Memphis in 1799.').numberSwap, '"196 BC" is a year, and took 1799\'s place');
  t.notOk(features(ROSETTA, 'The Rosetta Stone, found in 1799, bears a decree issued in 196 BC.').numberSwap);
  const FILM = 'The film will be released in US cinemas on 17 March 2017. It was announced in January that Emma Watson had been cast.';
  t.ok(features(FILM, 'The film will be released in US cinemas in January 2017.').numberSwap, 'a month the article gives 2017 another of');
  t.ok(features(FILM, 'The film will be released in US cinemas on 18 March 2017.').numberSwap, 'a day the article gives March another of');
  for (const same of ['The film will be released in US cinemas on March 17, 2017.', 'The film will be released in US cinemas in March 2017.']) t.notOk(features(FILM, same).numberSwap, same);
  const MISSY = 'A widower was reunited with his dog on Saturday after a deadly tornado hit Illinois on Thursday.';
  t.ok(features(MISSY, 'The widower was reunited with his dog on Thursday.').numberSwap, 'the day of the reunion moved to the day of the tornado');
  t.notOk(features(MISSY, 'The widower was reunited with his dog on Saturday.').numberSwap);
  t.notOk(features(MISSY, 'A tornado hit Illinois on Thursday.').numberSwap);
  const PARK = 'Presque Isle State Park is a 3112 acre park on a sandy peninsula in Lake Erie.';
  t.ok(features(PARK, 'Presque Isle State Park is a 1312 acre park on a sandy peninsula in Lake Erie.').numberSwap, 'a four-digit figure changed in its slot, though 1312 could be a year');
  const MILNER = 'The former Manchester City man, 30, won 61 caps for England after making his senior debut in 2009.';
  t.notOk(features(MILNER, 'Milner, 30, won sixty-one senior England caps after debuting in 2009.').roleSwap, 'a name is no predicate whose roles could turn');
  t.ok(features('Jones sued Smith over the contract in 2019.', 'Smith sued Jones over the contract in 2019.').roleSwap, 'a verb still is');
});

t.test('numbers: a word beside several of the claim\'s numbers, an ordinal against a count, a score or the odds move nothing', async (t) => {
  const LEAGUE = 'Nottingham lead the league on 28 points, with Sheffield Steelers on 27 and Belfast 25.';
  t.notOk(features(LEAGUE, 'Nottingham leads the league with 28 points, followed by Sheffield Steelers with 27 points and Belfast with 25 points.').numberSwap, '"points" after every figure names no slot');
  t.ok(features(LEAGUE, 'Nottingham lead the league on 27 points.').numberSwap, '"27 points" alone took 28\'s place');
  const RATM = 'Audioslave recorded three albums before disbanding in 2007. Renegades is the fourth studio album by Rage Against the Machine, released on December 5, 2000.';
  t.notOk(features(RATM, 'Their fourth album, Renegades, was released in 2000.').numberSwap, 'an ordinal does not take a count\'s place');
  t.ok(features(RATM, 'Audioslave recorded four albums before disbanding in 2007.').numberSwap, 'a count still takes a count\'s');
  const MILNER = 'Milner holds the record for the most capped England Under-21 player, picking up 46 caps after making his first appearance in 2004.';
  t.notOk(features(MILNER, 'Milner holds the record for the most caps in the Under-21 side with 46 appearances.').numberSwap, '"46 appearances" against "his first appearance"');
  const MOLE = 'mr mole , ap mccoy \'s mount in the celebration chase , has been installed as one of three 7-2 co-favourites in the seven-runner line-up .';
  t.notOk(features(MOLE, 'Mr Mole, ridden by AP McCoy, is one of the three co-favourites at odds of 7-2.').numberSwap, '"7-2" is the odds: "co-favourites" is no slot of its 2');
  const STOREY = 'Storey won six medals at the 1992 Paralympics. She won four golds at the 2012 Games in London and has now won 21 world titles.';
  t.notOk(features(STOREY, 'Storey achieved four gold medals at the 2012 London Paralympics.').numberSwap, '"gold" two words before 2012 is its own word');
  t.ok(features(STOREY, 'Storey won six medals at the 2012 Paralympics.').numberSwap, 'a year in another year\'s place still moved');
});

t.test('"up" and "down" before a figure say which way it went', async (t) => {
  const content = (text: string) => tokenize(text).filter((x) => x.content && !x.number).map((x) => x.key);
  t.same(content('is up by 11 per cent').filter((k) => k !== '%'), ['up']);
  t.same(content('fell down 5%'), ['fell', 'down']);
  t.same(content('they set up a company'), ['set', 'compani'], 'a phrasal verb\'s "up" stays a small word');
  const GPS = 'The number of GPs from abroad is up by 11 per cent in a decade.';
  t.ok(features(GPS, 'The number of GPs from abroad is down by 11 per cent in a decade.').antonymFlip, '"down by 11 per cent" is the opposite');
  t.notOk(features(GPS, 'The number of GPs from abroad is up by 11 per cent in a decade.').antonymFlip);
  const risen = features(GPS, 'The number of GPs from abroad has risen 11 per cent in a decade.');
  t.equal(risen.coverage, 1, '"risen" says what "up" before the figure says');
  t.notOk(risen.antonymFlip);
  t.ok(features(GPS, 'The number of GPs from abroad has fallen 11 per cent in a decade.').antonymFlip, '"fallen" is the opposite of "up"');
  t.ok(features('Exports were down by 8 percent in March.', 'Exports rose 8 percent in March.').antonymFlip, '"rose" is the opposite of "down"');
});

t.test('relations: two words in each other\'s places are an exchange of roles', async (t) => {
  const LOAN = 'The Dons loaned Smith, 21, to United in July and he has five goals this season.';
  t.ok(features(LOAN, 'United loaned Smith, 21, to the Dons in July and he has five goals this season.').roleSwap, 'lender and borrower exchanged');
  t.notOk(features(LOAN, 'The Dons loaned Smith, 21, to United in July and he has five goals this season.').roleSwap, 'the passage\'s own order');
  t.notOk(features(LOAN, 'Smith, 21, was loaned to United by the Dons in July.').roleSwap, 'the passive says the same');
  const ROUTE = 'Route 495 is a freeway in Hudson County, New Jersey, in the United States that connects the New Jersey Turnpike to New York State Route 495.';
  t.notOk(features(ROUTE, 'Route 495 is a freeway in New Jersey that connects the New Jersey Turnpike to New York State Route 495.').roleSwap, 'words the passage says twice ("New Jersey") exchange nothing');
  const ARBROATH = 'Arbroath were relegated to Scottish League Two after finishing season 2013-14 bottom of League One.';
  t.notOk(features(ARBROATH, 'Arbroath was relegated to Scottish League Two after finishing bottom of League One in the 2013-14 season.').roleSwap, 'a phrase moved is no exchange');
  const BAYERN = 'Bayern were crowned champions on sunday as their nearest rivals wolfsburg went down to a 1 - 0 defeat at borussia monchengladbach.';
  t.ok(features(BAYERN, 'Borussia Monchengladbach went down to a 1-0 defeat at Wolfsburg on Sunday.').roleSwap, 'a name of two words exchanged with a name of one');
  t.notOk(features(BAYERN, 'Wolfsburg went down to a 1-0 defeat at Borussia Monchengladbach on Sunday.').roleSwap);
  const LOCKE = 'kilmarnock interim manager gary locke has been given the role on a permanent basis after signing a three-year deal .';
  t.notOk(features(LOCKE, 'Gary Locke, the interim manager of Kilmarnock, has been appointed on a permanent basis after signing a three-year deal.').roleSwap, '"the manager of Kilmarnock" is "Kilmarnock manager"');
});

t.test('relations: the passage\'s agent written as the object of the same verb', async (t) => {
  const RICHARDS = 'Richards served as Governor of Texas from 1991 to 1995 and was defeated for re-election in 1994 by George W. Bush.';
  t.ok(features(RICHARDS, 'Richards defeated George W. Bush for re-election in 1994.').roleSwap, 'the defeated made the winner');
  t.notOk(features(RICHARDS, 'George W. Bush defeated Richards for re-election in 1994.').roleSwap, 'the active, right way round');
  t.notOk(features(RICHARDS, 'Richards was defeated by George W. Bush in 1994.').roleSwap, 'the passive, as the passage says');
  t.notOk(features('Exports were hit by a strike in March.', 'Exports rose in March despite a strike.').roleSwap, 'no agent after the verb, no reversal');
});

t.test('relations: a name where the passage writes another between the same words', async (t) => {
  const MOLE = 'mr mole , ap mccoy \'s mount in the grade one celebration chase at sandown on saturday , is one of three co-favourites .';
  t.ok(features(MOLE, 'Mr Mole, AP McCoy\'s mount in the Grade One Celebration Chase at Newbury on Saturday, is one of three co-favourites.').roleSwap, 'Newbury for Sandown, in lower-cased text too');
  t.notOk(features(MOLE, 'Mr Mole, AP McCoy\'s mount in the Grade One Celebration Chase at Sandown on Saturday, is one of three co-favourites.').roleSwap);
  t.ok(features('The plan was approved on Tuesday by the council.', 'The plan was approved on Monday by the council.').roleSwap, 'so does another day of the week');
  t.notOk(features('The plan was approved on Tuesday by the council.', 'The plan was approved by the council on Tuesday.').roleSwap, 'the same name moved');
  t.notOk(features('bagniewski is also said to be in talks with martin o\' malley\'s people and may support him .', 'Bagniewski is also said to be in talks with Martin O\'Malley\'s people.').roleSwap, 'one name written apart and together');
});

t.test('relations: another doer, a name from elsewhere in the article before what another name did', async (t) => {
  const QPR =
    'Charlie Austin celebrates with Matt Phillips after scoring during QPR\'s 3-3 draw with Aston Villa on Tuesday. ' +
    'The striker has 14 goals this season. Villa remain in the bottom half. Their manager was pleased with the point. ' +
    'Ramsey has been linked with a move to Burnley.';
  t.ok(features(QPR, 'Ramsey scored in QPR\'s 3-3 draw with Aston Villa on Tuesday.').roleSwap, 'Ramsey for Phillips and Austin');
  t.notOk(features(QPR, 'Matt Phillips scored in QPR\'s 3-3 draw with Aston Villa on Tuesday.').roleSwap, 'a name the passage has');
  const BAYERN =
    'The result means Bayern, who beat Hertha Berlin 1-0 on Saturday to go 15 points clear, have taken the title. ' +
    'Guardiola has his 19th major honour. The club celebrated in the city. Wolfsburg were beaten at home.';
  t.notOk(features(BAYERN, 'Wolfsburg beat Hertha Berlin 1-0 on Saturday to go 15 points clear.').roleSwap, 'a name set off by punctuation is not read as the doer');
  const verdict = analyse(exchange(QPR, 'Ramsey scored in QPR\'s 3-3 draw with Aston Villa on Tuesday.'), cfg);
  t.equal(verdict.hallucination.claims[0]?.support, 'contradicted');
  t.equal(verdict.hallucination.claims[0]?.failure_mode, 'entity');
});

t.test('a time of day is one token, however it is written', async (t) => {
  const key = (text: string) => tokenize(text).find((x) => x.number)!.key;
  for (const written of ['2:00 PM', '2pm', '2 p.m.', '2 : 00 p. m.', '14:00']) t.equal(key(`at ${written} on Sunday`), key('at 14:00 on Sunday'), written);
  t.equal(key('at 3.30pm'), key('at 15:30'), '"3.30pm"');
  t.not(key('at 2pm'), key('at 2am'));
  t.equal(key('up 3.30 per cent'), '#3.3', 'a decimal is no time');
  t.equal(key('14 people'), '#14', 'nor is a number alone');
  const v = analyse(exchange('The crash happened on the A9 north of Berriedale at about 14:00.', 'The crash happened on the A9 north of Berriedale at around 2pm.'), cfg);
  t.equal(v.hallucination.claims[0]?.support, 'supported', `"2pm" restates "14:00" → ${v.hallucination.score}`);
});

t.test('British and American spellings of a word are one word', async (t) => {
  const key = (w: string) => tokenize(w)[0]!.key;
  for (const [gb, us] of [['favourites', 'favorites'], ['organisation', 'organization'], ['centre', 'center'], ['realised', 'realized'], ['grey', 'gray']]) t.equal(key(gb), key(us), `${gb} / ${us}`);
  t.not(key('four'), key('for'), 'a rule alone maps nothing: "four" is no British "for"');
  const article = 'Mr Mole is one of three co-favourites for the race, and the organisation has finalised the field.';
  const same = analyse(exchange(article, 'Mr Mole is one of three co-favourites for the race, and the organisation has finalised the field.'), cfg).hallucination.score;
  const american = analyse(exchange(article, 'Mr Mole is one of three co-favorites for the race, and the organization has finalized the field.'), cfg).hallucination.score;
  t.equal(american, same, 'the American spelling scores as the article\'s own');
});

t.test('a contradicted claim says what it got wrong', async (t) => {
  const mode = (context: string, answer: string) => analyse(exchange(context, answer), cfg).hallucination.claims[0]?.failure_mode;
  t.equal(mode(NURSES, 'The firm hired 600 nurses last year, bringing its staff to 40.'), 'number');
  t.equal(mode('Smith sued Jones over the contract in 2019.', 'Jones sued Smith over the contract in 2019.'), 'entity');
  t.equal(mode(COUNCIL, 'The city council rejected the new parking plan on Tuesday.'), 'negation');
});

t.test('a reworded claim that says the same passes', async (t) => {
  const same: Array<[string, string]> = [
    ['Exports fell by 8 percent in March.', 'In March, exports decreased by 8 percent.'],
    ['Exports fell by 8 percent in March.', 'Exports dropped eight per cent in March.'],
    [COUNCIL, 'The new parking plan was approved by the city council on Tuesday.'],
    ['Smith sued Jones over the contract in 2019.', 'Jones was sued by Smith over the contract in 2019.'],
  ];
  for (const [context, answer] of same) {
    const v = analyse(exchange(context, answer), cfg);
    t.equal(v.hallucination.flagged, false, `${answer} → ${v.hallucination.score}`);
    t.equal(v.hallucination.claims[0]?.support, 'supported', answer);
  }
});

t.test('Splices: copied runs from two sentences joined into one fact count; a reordering within one sentence does not', async (t) => {
  const sentences = 'The committee chairman Tom Reed opened the session on Monday. Protesters from the union shouted angry slogans outside the hall.';
  const spliced = 'Tom Reed shouted angry slogans outside the hall.';
  t.equal(features(sentences, spliced).spliced, 1, '"Tom Reed" from one sentence put to what protesters did in another');
  const verdict = analyse(exchange(sentences, spliced), cfg).hallucination;
  t.equal(verdict.claims[0]!.support, 'unsupported');
  t.ok(verdict.flagged, `flagged (score ${verdict.score})`);

  const oneSentence = 'Tom Reed, who has chaired the committee that meets every spring in the old town, shouted angry slogans outside the hall.';
  t.equal(features(oneSentence, spliced).spliced, 0, 'both runs from one sentence: a clause left out, not two facts joined');
  t.notOk(analyse(exchange(oneSentence, spliced), cfg).hallucination.flagged);

  // Two clauses, each copied from its own sentence, and a junction at the claim's own comma.
  const both = analyse(exchange(sentences, 'Tom Reed opened the session, and protesters shouted angry slogans outside the hall.'), cfg).hallucination;
  t.notOk(both.flagged, `two clauses (score ${both.score})`);
  t.equal(features(sentences, 'Committee chairman Tom Reed, protesters shouted angry slogans outside the hall.').spliced, 0, 'junction at a comma');
});

t.test('Ages: "a 21-year-old striker" says what "Striker Keating, 21," says', async (t) => {
  const context = 'Striker Keating, 21, was recommended to Gulls boss Kevin Nicholson by ex-Port Vale manager Micky Adams.';
  const f = features(context, 'Keating, a 21-year-old striker, was recommended to Gulls boss Kevin Nicholson by ex-Port Vale manager Micky Adams.');
  t.equal(f.coverage, 1, '"year" and "old" are no words the context lacks');
  t.equal(f.pairCoverage, 1, 'and break no word pair');
  t.notOk(analyse(exchange(context, 'Keating, a 21-year-old striker, was recommended to Kevin Nicholson by Micky Adams.'), cfg).hallucination.flagged);
  // The context's own "27-year-old" is matched word for word; an age it never gives is a number it lacks.
  t.equal(features('The 27-year-old centre-back joined Torquay.', 'The 27-year-old centre-back joined Torquay.').coverage, 1);
  const written = features('The skilful 17-year-old forward from Montego Bay United trained with West Ham.', 'The 17-year-old Montego Bay United forward trained with West Ham.');
  t.ok(written.bigramCoverage > 0.6, `an age the context writes as "17-year-old" keeps its words (pairs side by side ${written.bigramCoverage})`);
  t.ok(features(context, 'Keating, a 23-year-old striker, was recommended to Kevin Nicholson.').numberMissing > 0, 'a different age is still missing');
});

t.test('Roles: words in reverse order across two sentences reverse no roles', async (t) => {
  const context = "His photographs show the pretty insects' scale - covered wings. Butterfly wings are covered by thousands of microscopic scales split into two to three layers.";
  const f = features(context, 'Butterfly wings are covered by thousands of microscopic scales split into two to three layers.');
  t.notOk(f.roleSwap, '"covered wings. Butterfly" is no "Butterfly wings covered" reversed');
  t.equal(analyse(exchange(context, 'Butterfly wings are covered by thousands of microscopic scales.'), cfg).hallucination.claims[0]!.support, 'supported');
  // Within one sentence the reversal still counts.
  t.ok(features('The council sued the developer over the plan.', 'The developer sued the council over the plan.').roleSwap);
});

t.test('Negation: "will not be finalised until Friday" says when it will be', async (t) => {
  const context = 'His book of rides for his final day as a professional jockey will not be finalised until Friday morning.';
  const claim = "McCoy's book of rides for his final day as a professional jockey will be finalised on Friday morning.";
  t.notOk(features(context, claim).negationFlip);
  t.not(analyse(exchange(context, claim), cfg).hallucination.claims[0]!.support, 'contradicted');
  // Without "until" the negation still holds, and across a clause break "until" is not its own.
  const runners = 'The full list of runners for the race will be confirmed on Friday morning.';
  t.notOk(features('The full list of runners for the race will not be confirmed until Friday morning.', runners).negationFlip);
  t.ok(features('The full list of runners for the race will not be confirmed on Friday morning.', runners).negationFlip);
  t.ok(features('The full list of runners for the race will not be confirmed, until further notice, on Friday morning.', runners).negationFlip);
});

t.test('Abbreviations: "UK" restates "United Kingdom", "CEO" restates "chief executive"', async (t) => {
  const moved = features('He moved to the United Kingdom in 2010 and joined the firm.', 'He moved to the UK in 2010 and joined the firm.');
  t.equal(moved.coverage, 1);
  t.equal(moved.pairCoverage, 1);
  t.equal(features('The film opens in United States cinemas on 17 March 2017.', 'The film opens in US cinemas on 17 March 2017.').coverage, 1);
  t.equal(features('Aberdeen chief executive Duncan Fraser praised the chairman.', 'Aberdeen CEO Duncan Fraser praised the chairman.').coverage, 1);
  // Two words only make the name when written alike: "Manchester United states" names no country.
  t.notOk(tokenize('Manchester United states that it will appeal.').some((w) => w.key === key('US')));
  t.ok(tokenize('the United States Navy').some((w) => w.key === key('US')));
});

t.test('Year ranges: "2007-08" and "2007 -- 2008" are the same two years', async (t) => {
  const years = (text: string): string[] => tokenize(text).filter((w) => w.number).map((w) => w.key);
  t.same(years('the 2007-08 season'), ['#2007', '#2008']);
  t.same(years('the 2007 -- 08 season'), ['#2007', '#2008']);
  t.same(years('from 1999\u201300'), ['#1999', '#2000']);
  t.same(years('in 2007-2008'), ['#2007', '#2008']);
  // Two digits after a number that is no year, or too far on, are themselves.
  t.same(years('won 21-17'), ['#21', '#17']);
  t.same(years('the 1960-05 fixture'), ['#1960', '#5']);
  const f = features('He finished third in three-point percentage during the 2007 -- 08 season.', 'He finished third in three-point percentage in the 2007-2008 season.');
  t.equal(f.numberMissing, 0, 'the claim\'s 2008 is the context\'s "08"');
});

t.test('Asides: a summary that leaves out a relative clause or bracket keeps the words around it together', async (t) => {
  const context = "Josh Gad, who voiced Olaf the snowman in Disney's animated hit Frozen, is also on board as Gaston's sidekick LeFou.";
  t.equal(features(context, 'Josh Gad is on board as LeFou.').pairCoverage, 1, 'the relative clause is left out');
  t.equal(features('The senator (a former teacher from a small farming town in northern Ohio) voted against the bill.', 'The senator voted against the bill.').pairCoverage, 1, 'a bracket');
  t.equal(features('The chairman -- elected last spring after a long and bitter contest with two rivals -- resigned on Monday.', 'The chairman resigned on Monday.').pairCoverage, 1, 'words between dashes');
  // Only asides are left out: words the passage keeps apart in its own clauses stay apart.
  t.ok(features("Josh Gad voiced Olaf the snowman in Disney's animated hit Frozen and is also on board as Gaston's sidekick LeFou.", 'Josh Gad is on board as LeFou.').pairCoverage < 1, 'no aside, no pair');
});

t.test('Numbers: a summary that leaves out or moves the dates and figures keeps the words around them together', async (t) => {
  const MILLERS = 'The multi-camera series aired from October 3, 2013 to July 18, 2015 and ran 34 episodes over two seasons on CBS.';
  t.equal(features(MILLERS, 'The series aired on CBS.').pairCoverage, 1, 'the dates, the episodes and the seasons left out');
  t.equal(features(MILLERS, 'The series ran for two seasons on CBS.').pairCoverage, 1);
  // Word pairs let the figures go; the figures themselves are still read.
  t.ok(features(MILLERS, 'The series aired from October 3, 2013 to July 18, 2015 and ran 43 episodes over two seasons on CBS.').numberMissing > 0, 'a changed figure is still a number the context lacks');
  t.ok(features(NURSES, 'The firm hired 600 nurses last year, bringing its staff to 40.').numberSwap, 'and swapped figures are still swapped');
  // The words around a figure are written again for pairs only: no run of the passage is copied through them.
  t.equal(features('The series aired on 3 October 2013 on CBS.', 'The series aired on CBS.').bigramCoverage, 0.5, '"aired CBS" is no run the passage writes');
});

t.test('Count words: "two films", "the first", "the second" the context never gives are passed over', async (t) => {
  const context = 'Veeram is a 2014 Indian Tamil action film directed by Siva. Veeram is a 2016 Indian epic historical drama film directed by Jayaraj.';
  const two = features(context, 'Veeram is the title of two Indian films.');
  t.equal(two.numberMissing, 0, '"two" is a count of what the context lists');
  const second = features(context, 'The second is a 2016 Indian epic historical drama film directed by Jayaraj.');
  t.equal(second.coverage, 1, '"second" numbers what the answer enumerates');
  t.equal(second.pairCoverage, 1);
  // Where the context gives the number, the word is held to it, and a figure in digits always is.
  t.ok(features('He scored three goals in the final.', 'He scored two goals in the final.').numberMissing > 0 || features('He scored three goals in the final.', 'He scored two goals in the final.').numberSwap, 'a count the context gives otherwise still differs');
  t.ok(features(context, 'Veeram is the title of 2 Indian films.').numberMissing > 0, 'a figure in digits is held to the context');
  // A word the question asks with is the answer, not a count: it stays one of the claim's words.
  const bands = 'Hole was formed in 1989. The Wolfhounds were formed in 1985.';
  const [claim] = extractClaims('Hole was the first band founded.');
  const asked = claimFeatures(claim!, buildContextIndex(bands, 'Which band was founded first, Hole or The Wolfhounds?'));
  const unasked = claimFeatures(claim!, buildContextIndex(bands, 'Tell me about the bands.'));
  t.equal(asked.n, unasked.n + 1, '"first" answers the question');
});

t.test('Accents: a word with an accent, composed or combining, or none, is one word', async (t) => {
  t.equal(key('Caf\u00e9'), key('Cafe\u0301'));
  t.equal(key('Caf\u00e9'), key('Cafe'));
  t.equal(key('M\u00fcller\u2019s'), key('Muller'));
  const f = features('In 2016 she appeared in Cafe\u0301 Society.', 'In 2016 she appeared in Caf\u00e9 Society.');
  t.equal(f.coverage, 1);
  t.equal(f.properMissing, 0);
});

t.test('Count words: a count the context writes in another sentence moved no fact there', async (t) => {
  const context =
    'McManus opened the scoring for Morton on the quarter-hour. Forbes doubled the lead soon after. The hosts dominated possession. The visitors rarely threatened. Alloa scored one late in reply.';
  const f = features(context, 'Forbes doubled the lead with one shot.');
  t.equal(f.specificElsewhere, 0, '"one" is no name or figure taken from another fact');
  // A name from another sentence still counts.
  t.ok(features(context, 'Forbes doubled the lead for Alloa.').specificElsewhere > 0);
});

t.test('Names: a full name the context writes in parts is one name, two people made into one are not', async (t) => {
  const SHEERIN = 'Former Dons midfielder Sheerin, 39, has been player-manager at Arbroath since 2010. The chairman respected the wishes of Paul and his family.';
  t.equal(features(SHEERIN, 'Paul Sheerin has been player-manager at Arbroath since 2010.').pairCoverage, 1, '"Paul" and "Sheerin" written apart');
  const GOALS = 'A shot by Kyle McAusland pulled Alloa back into the game. Another finish by Denny Johnstone ensured the win.';
  t.ok(features(GOALS, 'Kyle Johnstone ensured the win.').pairCoverage < 1, 'each part belongs to another full name');
  t.ok(features(GOALS, 'Denny McAusland pulled Alloa back into the game.').pairCoverage < 1);
  // A capital that only opens a sentence is no name.
  t.ok(features('Despite the rain, the match went ahead. Arbroath won the match.', 'Despite Arbroath the match went ahead.').pairCoverage < 1);
});

t.test('Countries: "U.S." and "U.K." are the countries "US", "United States", "American", "UK" and "British" name', async (t) => {
  t.equal(key('U.S.'), key('US'));
  t.equal(key('U.S.A.'), tokenize('United States')[0]!.key, '"United States" reads as the country');
  t.equal(key('U.S.'), key('American'));
  t.equal(key('U.K.'), key('British'));
  t.equal(features('The film will be released in U.S. cinemas on 17 March 2017.', 'The film will be released in American cinemas on 17 March 2017.').coverage, 1);
  // Other dotted initials stay as they were.
  t.same(tokenize('J.K. Rowling').map((x) => x.key), ['j.', 'k', 'rowl']);
});

t.test('What the source lacks: "the passage does not mention X" is contradicted where one place in it says X', async (t) => {
  const LOCKE = 'Gary Locke has been given the job at Kilmarnock on a permanent basis. Locke shakes hands with chairman Jim Mann after signing his contract.';
  const said = features(LOCKE, 'The passage does not mention Gary Locke shaking hands with chairman Jim Mann.');
  t.equal(said.absence, 'broken');
  t.ok(said.negationFlip, 'read as a flipped polarity');
  const v = analyse(exchange(LOCKE, 'The passage does not mention Gary Locke shaking hands with chairman Jim Mann.'), cfg).hallucination;
  t.equal(v.claims[0]?.support, 'contradicted');
  t.equal(features(LOCKE, 'The passage does not mention the length of his contract or his salary.').absence, 'holds', 'what the source lacks');
  t.equal(features(LOCKE, 'The passage does not provide any details about his coaching record.').absence, 'holds', 'a kind of detail');
  t.equal(features(LOCKE, 'Jim Mann is not mentioned in the passage as the manager.').absence, undefined, 'partly said: no reading');
  t.equal(features(LOCKE, 'Locke shakes hands with chairman Jim Mann.').absence, undefined, 'no absence claim');
  t.notOk(features(LOCKE, 'The passage does not mention the length of his contract.').negationFlip);
});

t.test('A curly apostrophe is the straight one: "didn’t" negates and is no content word', async (t) => {
  const [curly] = tokenize('didn’t');
  const [straight] = tokenize("didn't");
  t.equal(curly!.key, straight!.key);
  t.equal(curly!.content, false);
  t.ok(curly!.negation);
  t.equal(tokenize('they’re')[0]!.key, tokenize("they're")[0]!.key);
  t.notOk(tokenize('don’t')[0]!.proper, 'no capital, no name');
  t.ok(features(COUNCIL, 'The city council didn’t approve the new parking plan on Tuesday.').negationFlip, 'a curly negation flips the fact');
  t.equal(features(COUNCIL, 'The city council didn’t reject the new parking plan on Tuesday.').coverage, features(COUNCIL, "The city council didn't reject the new parking plan on Tuesday.").coverage);
});

t.test('Ordinals past the tenth are numbers, as "14th" is', async (t) => {
  t.equal(key('fourteenth'), key('14th'));
  t.equal(key('twentieth'), key('20th'));
  t.equal(key('hundredth'), key('100th'));
  t.equal(features('Hourglass is the 14th studio album by James Taylor.', 'Hourglass is the fourteenth studio album by James Taylor.').numberMissing, 0);
});

t.test('Pronouns: a sentence that opens with "He" is read after the name of the sentence before, for word pairs', async (t) => {
  const SHEERIN = 'Sheerin, 39, has been player-manager at Arbroath since 2010. He previously played for Aberdeen and St Johnstone.';
  t.equal(features(SHEERIN, 'Sheerin previously played for Aberdeen.').pairCoverage, 1, 'the summary names him where the article says "He"');
  const LOCKE = 'Gary Locke shook hands with chairman Jim Mann. He signed a two-year contract on Monday.';
  t.equal(features(LOCKE, 'Gary Locke signed a two-year contract on Monday.').pairCoverage, 1);
  t.ok(features(LOCKE, 'Jim Mann signed a two-year contract on Monday.').pairCoverage < 1, 'only the first name stands in for the pronoun');
  t.ok(features('Sheerin has been player-manager at Arbroath since 2010. The club previously played in League One.', 'Sheerin previously played in League One.').pairCoverage < 1, 'no pronoun, no reading');
});

t.test('An answer that names one of the question\'s names, with what the context says of another', async (t) => {
  const context =
    'Boston College is a private Jesuit research university located in the village of Chestnut Hill, Massachusetts. ' +
    'Stanford University is a private research university in Stanford, California, adjacent to Palo Alto.';
  const question = 'Which private research university is located in Chestnut Hill, Boston College or Stanford University?';
  const ask = (answer: string) => claimFeatures(extractClaims(answer)[0]!, buildContextIndex(context, question));
  t.ok(ask('Stanford University is located in Chestnut Hill.').specificElsewhere > 0, "Chestnut Hill is Boston College's");
  t.equal(ask('Boston College is located in Chestnut Hill.').specificElsewhere, 0);
  t.equal(ask('Stanford University is adjacent to Palo Alto.').specificElsewhere, 0);
  // Without the question's names to choose between, the reading does not apply.
  t.equal(claimFeatures(extractClaims('Stanford University is located in Chestnut Hill.')[0]!, buildContextIndex(context, 'Summarise.')).specificElsewhere, 0);
});
