import { stemmer } from 'stemmer';
import { COMMON_WORDS } from './models/lexicon.js';
import { BRITISH_AMERICAN } from './models/spelling.js';

/** A British spelling's American form ("favourite" → "favorite"), so either dialect meets the other. */
const AMERICAN: Map<string, string> = (() => {
  const m = new Map<string, string>();
  const words = BRITISH_AMERICAN.split(' ');
  for (let i = 0; i + 1 < words.length; i += 2) m.set(words[i]!, words[i + 1]!);
  return m;
})();
/** A lower-case word in American spelling. */
const americanOf = (lower: string): string => AMERICAN.get(lower) ?? lower;

/**
 * Word-level normalisation shared by the detectors: one tokeniser, one notion of "content word",
 * one way of writing numbers, dates and units, so that a claim and its context meet on equal terms.
 */

export interface Token {
  /** Surface form as written. */
  raw: string;
  /** Normalised key: a stem for words, a canonical value for numbers (`#181674817`), months (`@3`). */
  key: string;
  start: number;
  end: number;
  /** Not a function word. */
  content: boolean;
  /** Written with a capital letter somewhere other than a sentence start, or all caps. */
  proper: boolean;
  number: boolean;
  /**
   * A content word outside the most frequent English words: a name or a specific term whatever
   * its casing (lower-cased text has no capitals to tell names by).
   */
  rare: boolean;
  /** A word that flips the polarity of its clause (`isNegation`). */
  negation: boolean;
}

const STOPWORDS = new Set(
  (
    'a an the and or but if then else of to in on at by for with from as into onto upon about over under ' +
    'this that these those there here it its it\'s he she they them his her their theirs we us our you your i me my ' +
    'him hers himself herself itself themselves myself yourself ourselves ' +
    'is are was were be been being am do does did done doing have has had having will would shall should can could ' +
    'may might must also so such than too very just only which who whom whose what when where why how ' +
    'all any both each few more most other some own same s t ll d re ve m o y via per while during ' +
    'after before between through against above below up down out off again further once because until ' +
    'one\'s is\'s passage text article summary mentions mentioned describes states stated says said notes ' +
    'discusses highlights provides reports reported explains according yes yeah ' +
    // Connectives and sentence adverbs: they join or frame statements and state nothing themselves.
    'additionally furthermore moreover however overall notably meanwhile nonetheless nevertheless therefore ' +
    'thus hence indeed besides likewise similarly consequently specifically particularly although though ' +
    'whereas whilst among amongst titled entitled ' +
    // Prepositions and conjunctions that only place or join, as "in", "after" and "until" do.
    'since whether till throughout toward towards along amid amidst within across ' +
    // Quantifiers that count nothing a context could check.
    'several various multiple certain numerous'
  ).split(/\s+/),
);

/** Words that flip the polarity of a clause. */
export const NEGATIONS = new Set([
  'not', 'no', 'never', 'none', 'nobody', 'nothing', 'neither', 'nor', 'without', 'cannot', "can't", "won't",
  "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "hasn't", "haven't", "hadn't",
  "shouldn't", "wouldn't", "couldn't", 'nowhere', 'n\'t', 'fail', 'fails', 'failed', 'denied', 'denies', 'deny',
]);

const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6,
  july: 7, jul: 7, august: 8, aug: 8, september: 9, sep: 9, sept: 9, october: 10, oct: 10,
  november: 11, nov: 11, december: 12, dec: 12,
};

const NUMBER_WORDS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  hundred: 100, dozen: 12, first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7,
  eighth: 8, ninth: 9, tenth: 10, eleventh: 11, twelfth: 12, thirteenth: 13, fourteenth: 14, fifteenth: 15,
  sixteenth: 16, seventeenth: 17, eighteenth: 18, nineteenth: 19, twentieth: 20, thirtieth: 30, fortieth: 40,
  fiftieth: 50, sixtieth: 60, seventieth: 70, eightieth: 80, ninetieth: 90, hundredth: 100,
  twice: 2, thrice: 3, single: 1, double: 2, triple: 3, half: 0.5,
};

const SCALES: Record<string, number> = {
  thousand: 1e3, k: 1e3, million: 1e6, m: 1e6, mn: 1e6, billion: 1e9, bn: 1e9, b: 1e9, trillion: 1e12,
};

const isCapital = (word: string): boolean => /^\p{Lu}/u.test(word);

/**
 * Two words read as one: "per cent" as "percent", and a name of two words as the abbreviation
 * that stands for it (`name`: written in capitals, as an abbreviation is, since "us" is a pronoun
 * and "US" the country; and only where both words are capitalised or neither is, since
 * "Manchester United states that …" names no country).
 */
const PHRASES = new Map<string, { as: string; name: boolean }>([
  ['per cent', { as: 'percent', name: false }],
  ['per cents', { as: 'percent', name: false }],
  ['united states', { as: 'US', name: true }],
  ['united kingdom', { as: 'UK', name: true }],
  ['great britain', { as: 'UK', name: true }],
  ['european union', { as: 'EU', name: true }],
  ['chief executive', { as: 'CEO', name: true }],
  ['chief executives', { as: 'CEO', name: true }],
]);
/** The second words of PHRASES as written, in lower case, capitalised or in capitals: the only tokens worth a look-up. */
const PHRASE_ENDS = new Set(
  [...PHRASES.keys()].flatMap((p) => {
    const end = p.slice(p.indexOf(' ') + 1);
    return [end, end[0]!.toUpperCase() + end.slice(1), end.toUpperCase()];
  }),
);

/**
 * Spelling variants and near-synonyms folded to one key so that a paraphrase is not read as a new fact.
 * Kept small and general on purpose: a wrong synonym hides a hallucination.
 */
const SYNONYMS: Record<string, string> = {
  us: 'usa', 'u.s.': 'usa', 'u.s.a.': 'usa', america: 'usa', american: 'usa',
  uk: 'britain', 'u.k.': 'britain', british: 'britain', england: 'britain', english: 'britain',
  film: 'movie', films: 'movie', movies: 'movie', picture: 'movie',
  begin: 'start', began: 'start', begun: 'start', starts: 'start', commenced: 'start', commence: 'start',
  purchase: 'buy', purchased: 'buy', bought: 'buy', acquire: 'buy', acquired: 'buy', acquisition: 'buy',
  killed: 'die', died: 'die', dead: 'die', death: 'die', deaths: 'die',
  big: 'large', huge: 'large', larger: 'large', bigger: 'large', largest: 'large', biggest: 'large',
  small: 'little', smaller: 'little', smallest: 'little', tiny: 'little',
  car: 'vehicle', cars: 'vehicle', automobile: 'vehicle',
  kid: 'child', kids: 'child', children: 'child',
  man: 'male', men: 'male', woman: 'female', women: 'female',
  people: 'person', persons: 'person', individuals: 'person', individual: 'person',
  nation: 'country', nations: 'country', countries: 'country',
  town: 'city', cities: 'city', towns: 'city',
  author: 'writer', authors: 'writer', writers: 'writer', wrote: 'write', written: 'write', writes: 'write',
  said: 'say', says: 'say', told: 'say', stated: 'say', claimed: 'say',
  cop: 'police', cops: 'police', officers: 'police', officer: 'police',
  approximately: 'about', around: 'about', roughly: 'about', nearly: 'about', almost: 'about',
  percent: '%', 'per cent': '%', pct: '%',
  dollars: '$', dollar: '$', usd: '$', pounds: '£', gbp: '£', euros: '€', euro: '€',
  km: 'kilometre', kilometers: 'kilometre', kilometres: 'kilometre', kilometer: 'kilometre',
  mi: 'mile', miles: 'mile', kg: 'kilogram', kilograms: 'kilogram', lb: 'pound', lbs: 'pound',
  ft: 'foot', feet: 'foot', metres: 'metre', meters: 'metre', meter: 'metre',
  hrs: 'hour', hr: 'hour', hours: 'hour', mins: 'minute', minutes: 'minute', yrs: 'year', years: 'year',
};

/** Word pairs whose swap turns a supported statement into a contradicted one. */
const ANTONYM_PAIRS: [string, string][] = [
  ['increase', 'decrease'], ['rise', 'fall'], ['rose', 'fell'], ['gain', 'loss'], ['win', 'lose'],
  ['won', 'lost'], ['before', 'after'], ['first', 'last'], ['higher', 'lower'], ['more', 'less'],
  ['most', 'least'], ['larger', 'smaller'], ['older', 'younger'], ['earlier', 'later'], ['above', 'below'],
  ['accept', 'reject'], ['accepted', 'rejected'], ['approve', 'deny'], ['approved', 'denied'], ['allow', 'forbid'],
  ['allowed', 'banned'], ['support', 'oppose'], ['supported', 'opposed'], ['open', 'closed'], ['alive', 'dead'],
  ['male', 'female'], ['north', 'south'], ['east', 'west'], ['guilty', 'innocent'], ['success', 'failure'],
  ['successful', 'unsuccessful'], ['positive', 'negative'], ['true', 'false'], ['legal', 'illegal'],
  ['public', 'private'], ['cheap', 'expensive'], ['cheapest', 'expensive'], ['start', 'end'], ['begin', 'end'],
  ['started', 'ended'], ['arrive', 'leave'], ['buy', 'sell'], ['bought', 'sold'], ['hire', 'fire'],
  ['hired', 'fired'], ['join', 'leave'], ['joined', 'left'], ['include', 'exclude'], ['included', 'excluded'],
  ['maximum', 'minimum'], ['majority', 'minority'], ['strong', 'weak'], ['up', 'down'], ['high', 'low'],
  // A direction before a figure ("up by 11 per cent") against a verb of the other direction.
  ['up', 'fall'], ['up', 'fell'], ['up', 'fallen'], ['up', 'decrease'], ['up', 'drop'], ['up', 'decline'],
  ['down', 'rise'], ['down', 'rose'], ['down', 'risen'], ['down', 'increase'], ['down', 'grow'], ['down', 'climb'],
];

/**
 * Irregular past forms folded to their base, so "built" meets "build" as "completed" meets
 * "complete" through the stemmer. Forms that are also common words of another meaning ("found",
 * "left", "saw", "rose", "fell", "lay") are left alone.
 */
const IRREGULAR: Record<string, string> = {
  built: 'build', won: 'win', ran: 'run', led: 'lead', held: 'hold', made: 'make', took: 'take', taken: 'take',
  gave: 'give', given: 'give', got: 'get', gotten: 'get', went: 'go', gone: 'go', came: 'come', became: 'become',
  knew: 'know', known: 'know', grew: 'grow', grown: 'grow', drew: 'draw', drawn: 'draw', threw: 'throw',
  thrown: 'throw', wrote: 'write', written: 'write', spoke: 'speak', spoken: 'speak', broke: 'break',
  broken: 'break', chose: 'choose', chosen: 'choose', drove: 'drive', driven: 'drive', ate: 'eat', eaten: 'eat',
  fought: 'fight', taught: 'teach', caught: 'catch', brought: 'bring', thought: 'think', sought: 'seek',
  sold: 'sell', told: 'tell', paid: 'pay', sent: 'send', spent: 'spend', lost: 'lose', met: 'meet', kept: 'keep',
  slept: 'sleep', began: 'begin', begun: 'begin', sang: 'sing', sung: 'sing', swam: 'swim', struck: 'strike',
  stole: 'steal', stolen: 'steal', hid: 'hide', hidden: 'hide', flew: 'fly', flown: 'fly', wore: 'wear',
  worn: 'wear', tore: 'tear', torn: 'tear', shot: 'shoot', fled: 'flee', bled: 'bleed', fed: 'feed',
  sped: 'speed', shook: 'shake', shaken: 'shake', rode: 'ride', ridden: 'ride', rang: 'ring', rung: 'ring',
  bore: 'bear', borne: 'bear', born: 'bear', forgot: 'forget', forgotten: 'forget', forgave: 'forgive',
  froze: 'freeze', frozen: 'freeze', understood: 'understand', stood: 'stand', withdrew: 'withdraw',
  withdrawn: 'withdraw', undertook: 'undertake', overtook: 'overtake', arose: 'arise', arisen: 'arise',
  awoke: 'awake', bought: 'buy', dealt: 'deal', dug: 'dig', hung: 'hang', meant: 'mean', sank: 'sink',
  sunk: 'sink', shrank: 'shrink', spun: 'spin', stuck: 'stick', stung: 'sting', swore: 'swear', sworn: 'swear',
  swept: 'sweep', wept: 'weep', woke: 'wake', woken: 'wake', wound: 'wind', rebuilt: 'rebuild', beaten: 'beat',
  bitten: 'bite', bit: 'bite', blew: 'blow', blown: 'blow', did: 'do', done: 'do', forbade: 'forbid',
  foresaw: 'foresee', overcame: 'overcome', shone: 'shine', slid: 'slide', lent: 'lend',
};

/**
 * Near-synonyms that a paraphrase uses for one another ("completed" / "built", "purchased" /
 * "acquired"). Unlike SYNONYMS they are not folded into one key: a claim word that the context
 * lacks is matched to a related word the context has, and the claim scorer sees how many words
 * matched only that way. General English, never picked from the dev rows.
 */
const RELATED_GROUPS: string[][] = [
  ['build', 'construct', 'erect', 'complete', 'finish', 'create', 'make', 'establish', 'develop'],
  ['found', 'establish', 'start', 'launch', 'create', 'form', 'set', 'open', 'introduce'],
  ['end', 'finish', 'complete', 'conclude', 'close', 'stop', 'cease', 'terminate'],
  ['say', 'state', 'tell', 'claim', 'announce', 'report', 'add', 'note', 'explain', 'declare', 'assert', 'remark', 'comment', 'describe', 'mention', 'insist', 'argue', 'suggest', 'warn'],
  ['win', 'earn', 'receive', 'gain', 'obtain', 'get', 'award', 'secure', 'achieve', 'claim'],
  ['lead', 'head', 'run', 'manage', 'direct', 'chair', 'command', 'captain', 'coach'],
  ['show', 'reveal', 'indicate', 'demonstrate', 'find', 'suggest', 'prove', 'confirm', 'discover', 'uncover'],
  ['help', 'assist', 'aid', 'support', 'enable'],
  ['release', 'publish', 'issue', 'launch', 'debut', 'premiere', 'air', 'broadcast'],
  ['arrest', 'detain', 'apprehend', 'capture', 'hold', 'jail', 'imprison'],
  ['injure', 'hurt', 'wound', 'harm'],
  ['attack', 'assault', 'hit', 'strike', 'beat', 'punch'],
  ['kill', 'murder', 'slay', 'shoot', 'stab'],
  ['die', 'decease', 'perish', 'pass'],
  ['leave', 'depart', 'quit', 'exit', 'resign', 'retire'],
  ['reach', 'arrive', 'hit', 'attain'],
  ['use', 'employ', 'utilise', 'utilize', 'apply'],
  ['need', 'require', 'demand'],
  ['try', 'attempt', 'seek', 'aim', 'plan', 'intend', 'hope', 'want', 'wish'],
  ['allow', 'permit', 'let', 'enable', 'authorise', 'authorize', 'approve'],
  ['marry', 'wed'],
  ['live', 'reside', 'dwell', 'settle'],
  ['locate', 'situate', 'base', 'sit', 'lie', 'place', 'position'],
  ['charge', 'accuse', 'indict', 'allege'],
  ['convict', 'sentence', 'jail', 'imprison'],
  ['sign', 'agree', 'join', 'recruit', 'hire', 'appoint', 'name', 'select', 'choose', 'pick'],
  ['play', 'star', 'appear', 'perform', 'feature', 'portray'],
  ['write', 'author', 'pen', 'compose'],
  ['compete', 'play', 'race', 'participate', 'contest'],
  ['host', 'hold', 'organise', 'organize', 'stage'],
  ['include', 'contain', 'feature', 'comprise', 'consist', 'involve', 'incorporate'],
  ['cause', 'lead', 'result', 'trigger', 'prompt', 'spark'],
  ['call', 'name', 'term', 'dub', 'label', 'title', 'know'],
  // "up" and "down" are content words only right before a figure ("up by 11 per cent"), where a
  // verb of rising or falling says the same.
  ['up', 'rise', 'rose', 'risen', 'increase', 'grow', 'climb', 'jump', 'soar'],
  ['down', 'fall', 'fell', 'fallen', 'decrease', 'drop', 'decline', 'dip', 'slump', 'plunge'],
  ['move', 'relocate', 'transfer', 'shift'],
  ['raise', 'increase', 'boost', 'rise', 'grow', 'climb', 'jump', 'surge', 'soar'],
  ['cut', 'reduce', 'decrease', 'lower', 'drop', 'fall', 'decline', 'slash', 'plunge'],
  ['study', 'research', 'investigate', 'examine', 'analyse', 'analyze', 'review', 'probe'],
  ['criticise', 'criticize', 'condemn', 'slam', 'blast', 'attack'],
  ['ban', 'prohibit', 'forbid', 'bar', 'block'],
  ['buy', 'purchase', 'acquire', 'obtain'],
  ['sell', 'auction', 'trade'],
  ['visit', 'tour', 'travel', 'go'],
  ['rescue', 'save', 'free', 'release'],
  ['discuss', 'talk', 'speak', 'address', 'debate'],
  ['speak', 'talk', 'say', 'tell'],
  ['give', 'provide', 'offer', 'supply', 'donate', 'grant', 'deliver'],
  ['take', 'capture', 'seize', 'grab', 'steal'],
  ['see', 'watch', 'view', 'witness', 'observe', 'notice', 'spot'],
  ['produce', 'make', 'manufacture', 'generate', 'create'],
  ['important', 'significant', 'major', 'key', 'crucial', 'vital', 'essential', 'critical', 'main'],
  ['famous', 'renowned', 'celebrated', 'noted', 'notable', 'prominent', 'popular', 'well'],
  ['rich', 'wealthy', 'affluent'],
  ['fast', 'quick', 'rapid', 'swift'],
  ['difficult', 'hard', 'tough', 'challenging'],
  ['area', 'region', 'zone', 'district', 'territory'],
  ['company', 'firm', 'business', 'corporation', 'group', 'organisation', 'organization', 'brand'],
  ['job', 'role', 'post', 'position', 'work', 'career'],
  ['team', 'club', 'side', 'squad'],
  ['game', 'match', 'fixture', 'contest'],
  ['doctor', 'physician', 'surgeon', 'medic'],
  ['shop', 'store', 'retailer', 'outlet'],
  ['home', 'house', 'residence', 'property'],
  ['photo', 'photograph', 'picture', 'image', 'snap'],
  ['statement', 'announcement', 'report', 'remark', 'comment'],
  ['crash', 'collision', 'accident', 'smash'],
  ['mother', 'mum', 'mom'],
  ['father', 'dad'],
  ['wife', 'spouse', 'partner'],
  ['husband', 'spouse', 'partner'],
  ['son', 'child', 'boy'],
  ['daughter', 'child', 'girl'],
  ['child', 'kid', 'youngster', 'boy', 'girl', 'baby'],
  ['medicine', 'medication', 'drug', 'treatment', 'pill', 'dose', 'dosage'],
  ['illness', 'disease', 'condition', 'sickness', 'disorder'],
  ['money', 'cash', 'fund', 'funding'],
  ['cost', 'price', 'fee', 'charge', 'value'],
  ['annual', 'yearly'],
  ['daily', 'everyday'],
  ['also', 'additionally', 'furthermore', 'moreover'],
];

const stemCache = new Map<string, string>();

export const ANTONYMS: Map<string, Set<string>> = (() => {
  const m = new Map<string, Set<string>>();
  const add = (a: string, b: string): void => {
    const ka = stemOf(a);
    const kb = stemOf(b);
    if (!m.has(ka)) m.set(ka, new Set());
    m.get(ka)!.add(kb);
  };
  for (const [a, b] of ANTONYM_PAIRS) {
    add(a, b);
    add(b, a);
  }
  return m;
})();

/** Lower-case stem of a word, through the synonym table first; memoised because the same words recur. */
export function stemOf(word: string): string {
  const asWritten = word.toLowerCase();
  const cached = stemCache.get(asWritten);
  if (cached !== undefined) return cached;
  const lower = americanOf(asWritten);
  const syn = SYNONYMS[lower] ?? IRREGULAR[lower];
  let key: string;
  if (syn !== undefined) key = /^[a-z]{4,}$/.test(syn) ? stemmer(syn) : syn;
  else if (lower.length <= 3) key = lower;
  else key = stemmer(lower);
  if (stemCache.size > 200_000) stemCache.clear();
  stemCache.set(asWritten, key);
  return key;
}

/** For each stem, the stems it may stand in for (RELATED_GROUPS), itself excluded. */
export const RELATED: Map<string, Set<string>> = (() => {
  const m = new Map<string, Set<string>>();
  for (const group of RELATED_GROUPS) {
    const keys = [...new Set(group.map(stemOf))];
    for (const a of keys) {
      if (!m.has(a)) m.set(a, new Set());
      for (const b of keys) if (b !== a) m.get(a)!.add(b);
    }
  }
  for (const [a, b] of ANTONYM_PAIRS) {
    // A word and its antonym are never near-synonyms, whatever the groups say.
    m.get(stemOf(a))?.delete(stemOf(b));
    m.get(stemOf(b))?.delete(stemOf(a));
  }
  return m;
})();

/** Rank of a lower-case word among the most frequent English words (0 = most frequent); Infinity when not listed. */
const RANK: Map<string, number> = new Map(COMMON_WORDS.split(' ').map((w, i) => [w, i]));
/** Words past this rank (or not listed) are `rare`. */
export const COMMON_RANK = Number(process.env.VERACITY_COMMON_RANK ?? 10_000);

export function wordRank(lower: string): number {
  return RANK.get(americanOf(lower)) ?? Infinity;
}

/** Scale words after which a decimal written apart ("31. 8 million") is still one number. */
export const SCALE_AFTER_DECIMAL = 'million|billion|trillion|per ?cent';

/** Currency and percent signs: each is a token of its own, keyed as itself, and no content word. */
export const SIGNS: ReadonlySet<string> = new Set(['$', '£', '€', '%']);

/**
 * One token of text, the first alternative that matches:
 * - a time of day with a.m. or p.m. ("2pm", "3.30 p.m.", "7 : 00 p. M.") or with a colon ("14:00");
 * - a number with thousands separators, spaced apart as some sources write them ("26, 000");
 * - a number, a decimal written apart before a scale word ("31. 8 million"), an ordinal ("3rd");
 * - "U.S.", "U.S.A." or "U.K." (the countries); a word with inner apostrophes ("don't"), an initial
 *   with its dot when another follows ("J." of "J.K."); a currency or % sign.
 */
const TOKEN_RE = new RegExp(
  [
    String.raw`(?<!\d)(?:1[0-2]|0?\d)(?: ?: ?\d{2}|\.\d{2})?\s?[aApP]\.? ?[mM]\.?(?![\p{L}\d])`,
    String.raw`\d{1,2}:\d{2}(?![\d:])`,
    String.raw`\d{1,3}(?:,\d{3}|, \d{3}(?!\d))+(?:\.\d+)?`,
    String.raw`\d+(?:\.\d+|\. \d+(?= (?:${SCALE_AFTER_DECIMAL})\b))?(?:st|nd|rd|th|s)?`,
    String.raw`U\.S\.(?:A\.)?|U\.K\.`,
    String.raw`[\p{L}\p{M}]+(?:['’][\p{L}]+)*(?:\.(?=[\p{L}]\.))?`,
    String.raw`[$£€%]`,
  ].join('|'),
  'gu',
);

const TENS = new Set(['#20', '#30', '#40', '#50', '#60', '#70', '#80', '#90']);

function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) return '#?';
  const rounded = Math.round(n * 1000) / 1000;
  return `#${rounded}`;
}

/**
 * What a word token is, apart from where it stands: everything `tokenize` derives from the word
 * as written. Worked out once per distinct word (texts repeat their words, and the same words
 * recur across exchanges); only the sentence position is decided per occurrence.
 */
interface WordInfo {
  key: string;
  number: boolean;
  content: boolean;
  rare: boolean;
  /** A capital in it, and it is a content word that is not a number: a name unless it opens a sentence. */
  properInside: boolean;
  /** All capitals and longer than a letter: a name even at a sentence start. */
  allCaps: boolean;
  /** Capitalised "May": the month inside a sentence, the verb at its start. */
  mayMonth: boolean;
  /** The multiplier of a scale word ("million"), when it may fold into the number before it. */
  scale: number | undefined;
  /** `isNegation` of the word. */
  negation: boolean;
  /** The word as it would be taken at a sentence start, when that differs ("May"). */
  atStart?: WordInfo;
}

const wordInfoCache = new Map<string, WordInfo>();
const WORD_CACHE_MAX = 100_000;

/** A token that is a time of day: hour, minutes, and "a" or "p" for a.m. / p.m. */
const CLOCK = /^(\d{1,2}):(\d{2})$|^(\d{1,2})(?: ?[.:] ?(\d{2}))?\s?([aApP])\.? ?[mM]\.?$/;

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The letters without their accents: "Café" (either way it is encoded) is "Cafe", "Müller"
 * "Muller". `form` NFKD also folds compatibility characters ("ﬁ" is "fi").
 */
export function withoutAccents(word: string, form: 'NFD' | 'NFKD' = 'NFD'): string {
  return word.normalize(form).replace(/\p{M}+/gu, '');
}

function describeWord(raw: string, sentenceStart: boolean): WordInfo {
  // A curly apostrophe is the straight one: "don’t" is "don't", "they’re" "they're".
  const lower = raw.toLowerCase().replace(/’/g, "'");
  let key: string;
  let isNumber = false;
  let content = true;
  const clock = CLOCK.exec(raw);
  if (clock) {
    // A time of day, however written: "2:00 PM", "2pm", "3.30 p.m." and "14:00" meet.
    let hour = Number(clock[1] ?? clock[3]);
    const minutes = Number(clock[2] ?? clock[4] ?? 0);
    const half = clock[5]?.toLowerCase();
    if (half === 'p' && hour < 12) hour += 12;
    if (half === 'a' && hour === 12) hour = 0;
    // "45:10" is no time of day: kept as written.
    key = hour <= 24 && minutes < 60 ? `T${(hour % 24) * 60 + minutes}` : `T${raw}`;
    isNumber = true;
  } else if (/^\d/.test(raw)) {
    isNumber = true;
    const digits = raw.replace(/[, ]/g, '').replace(/(st|nd|rd|th|s)$/, '');
    key = canonicalNumber(Number(digits));
  } else if (lower in MONTHS && (raw[0] !== raw[0]!.toLowerCase() || lower.length > 3) && lower !== 'may') {
    key = `@${MONTHS[lower]}`;
    isNumber = true;
  } else if (lower === 'may' && raw === 'May' && !sentenceStart) {
    key = '@5';
    isNumber = true;
  } else if (lower in NUMBER_WORDS) {
    key = canonicalNumber(NUMBER_WORDS[lower]!);
    isNumber = true;
  } else if (raw === 'US') {
    // The country, not the pronoun: "in US cinemas" is "in American cinemas".
    key = 'usa';
  } else if (SIGNS.has(raw)) {
    key = raw;
    content = false;
  } else {
    // Possessives match their noun: "Disney's" / "Disney". Accents do not decide: "Café" is
    // "Cafe", and one written with a combining accent is the same word.
    const plain = NON_ASCII.test(raw) ? withoutAccents(raw.replace(/’/g, "'")) : raw;
    key = stemOf(STOPWORDS.has(lower) ? plain : plain.replace(/['’]s$/i, ''));
    content = !STOPWORDS.has(lower) && !STOPWORDS.has(key) && !NEGATIONS.has(lower) && key.length > 0;
  }
  const hasUpper = raw !== raw.toLowerCase();
  return {
    key,
    number: isNumber,
    content,
    rare: content && !isNumber && wordRank(lower.replace(/['’]s$/, '')) >= COMMON_RANK,
    properInside: hasUpper && content && !isNumber,
    allCaps: raw.length > 1 && raw === raw.toUpperCase(),
    mayMonth: lower === 'may' && raw === 'May',
    scale: !isNumber && lower in SCALES ? SCALES[lower] : undefined,
    negation: isNegation(raw),
  };
}

function wordInfo(raw: string, sentenceStart: boolean): WordInfo {
  let info = wordInfoCache.get(raw);
  if (info === undefined) {
    info = describeWord(raw, false);
    if (info.mayMonth) info.atStart = describeWord(raw, true);
    if (wordInfoCache.size >= WORD_CACHE_MAX) wordInfoCache.clear();
    wordInfoCache.set(raw, info);
  }
  return sentenceStart && info.atStart ? info.atStart : info;
}

/** A sentence ends somewhere in text[from, to): a stop, a colon or a line break. */
function breaksSentence(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */ || c === 33 /* ! */ || c === 63 /* ? */ || c === 58 /* : */ || c === 10 /* \n */) return true;
  }
  return false;
}

/**
 * Tokenise with offsets. Numbers become canonical values (a scale word after a number multiplies it,
 * `$ 160 million` and `$160 million` agree); month names become `@n`; words become stems.
 */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let hundreds = false;
  TOKEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  let prevEnd = -1;
  let sentenceStart = true;
  while ((m = TOKEN_RE.exec(text)) !== null) {
    const raw = m[0];
    const start = m.index;
    const end = start + raw.length;
    if (prevEnd >= 0 && breaksSentence(text, prevEnd, start)) sentenceStart = true;
    const w = wordInfo(raw, sentenceStart);
    const prev = out.length > 0 ? out[out.length - 1] : undefined;
    // "160 million", "2.5bn": fold the scale into the number before it.
    if (w.scale !== undefined && prev && prev.number && prev.key.startsWith('#') && /^\s*$/.test(text.slice(prev.end, start))) {
      const value = Number(prev.key.slice(1)) * w.scale;
      prev.key = canonicalNumber(value);
      prev.raw = text.slice(prev.start, end);
      prev.end = end;
      prevEnd = end;
      continue;
    }
    // "thirty-four" is 34.
    if (
      w.number && prev && prev.number && text.slice(prev.end, start) === '-' && /^[a-z]+$/i.test(raw) && /^[a-z]+$/i.test(prev.raw) &&
      TENS.has(prev.key) && /^#[1-9]$/.test(w.key)
    ) {
      prev.key = canonicalNumber(Number(prev.key.slice(1)) + Number(w.key.slice(1)));
      prev.raw = text.slice(prev.start, end);
      prev.end = end;
      prevEnd = end;
      sentenceStart = false;
      continue;
    }
    // "per cent" is "percent", "United States" is "US" (PHRASES).
    const phrase = PHRASE_ENDS.has(raw) && prev && /^\s+$/.test(text.slice(prev.end, start)) ? PHRASES.get(`${prev.raw.toLowerCase()} ${raw.toLowerCase()}`) : undefined;
    if (phrase && prev && (!phrase.name || isCapital(prev.raw) === isCapital(raw))) {
      const info = wordInfo(phrase.as, false);
      prev.raw = text.slice(prev.start, end);
      prev.key = info.key;
      prev.content = info.content;
      prev.rare = info.rare;
      prev.end = end;
      prevEnd = end;
      sentenceStart = false;
      continue;
    }
    // "the 2007-08 season", "2007 -- 08": the second year of a range written short is that year.
    // (`w` is shared through the word cache: the key is changed on the token only.)
    let key = w.key;
    if (w.number && prev && /^\d\d$/.test(raw) && YEAR_RANGE_DASH.test(text.slice(prev.end, start))) {
      const year = fullYear(prev.key, Number(raw));
      if (year !== undefined) key = `#${year}`;
    }
    // "the no 1 jersey", "No. 10 Downing Street": "no" before a number is its abbreviation.
    if (w.number && prev?.negation === true && /^no\.?$/i.test(prev.raw)) prev.negation = false;
    if (w.number && w.key === '#100') hundreds = true;
    // "up 11 per cent", "down by a third": a direction before a figure is what the figure says.
    if (w.number) markDirection(out);
    out.push({
      raw,
      key,
      start,
      end,
      content: w.content,
      proper: w.properInside && (!sentenceStart || w.allCaps),
      number: w.number,
      rare: w.rare,
      negation: w.negation,
    });
    prevEnd = end;
    sentenceStart = false;
  }
  return hundreds ? joinHundreds(out, text) : out;
}

/**
 * Small counts and ranks written as words: "two films", "the first … the second …", "scored
 * twice". A summary counts what its source lists and numbers what it enumerates; where the
 * context never gives that number there is nothing to hold the word to, so grounding passes it
 * over and failure modes do not blame it.
 */
export const COUNT_WORDS: ReadonlySet<string> = new Set(['one', 'two', 'three', 'first', 'second', 'third', 'twice', 'double']);

/** A number token written as one of the `COUNT_WORDS`. */
export const isCountWord = (t: Token): boolean => t.number && COUNT_WORDS.has(t.raw.toLowerCase());

/** What joins the two years of a range: a hyphen or dash, perhaps spaced ("2007 -- 08"). */
const YEAR_RANGE_DASH = /^\s*(?:-|--|\u2013|\u2014)\s*$/;

/**
 * The year that two digits after `key` (a year, "#2007") stand for: the first after it with those
 * last digits ("2007-08" is 2008, "1999-00" is 2000), or undefined when `key` is no year or the
 * range would run past twenty years (then the two digits are something else: "1990-95" is a
 * range, "2010-45" likely a score or a count).
 */
function fullYear(key: string, twoDigits: number): number | undefined {
  if (!/^#\d{4}$/.test(key)) return undefined;
  const from = Number(key.slice(1));
  if (from < 1000 || from > 2100) return undefined;
  let year = from - (from % 100) + twoDigits;
  if (year <= from) year += 100;
  return year - from <= 20 ? year : undefined;
}

/** Words that say which way a figure went when written right before it ("up by 11 per cent"). */
const DIRECTIONS = new Set(['up', 'down']);

/**
 * "up" and "down" are small words (phrasal verbs: "set up", "broke down") except right before a
 * figure, or before "by" and a figure: there they are the fact, and "down by 11 per cent" must
 * not read as the context's "up by 11 per cent".
 */
function markDirection(out: Token[]): void {
  let b = out.length - 1;
  if (b >= 0 && out[b]!.raw.toLowerCase() === 'by') b--;
  const t = out[b];
  if (t && !t.content && DIRECTIONS.has(t.raw.toLowerCase())) t.content = true;
}

/** A number written in words, below a hundred: "six", "seventy-five". */
function isSmallNumberWord(t: Token): boolean {
  if (!t.number || !/^[a-z]+(?:-[a-z]+)?$/i.test(t.raw)) return false;
  const v = Number(t.key.slice(1));
  return t.key.startsWith('#') && Number.isInteger(v) && v >= 1 && v <= 99;
}

/**
 * Number words said the long way join into one figure: "six hundred" is 600, "two hundred and
 * seventy-five" 275, "six hundred thousand" 600,000 (the scale has already folded into "hundred").
 */
function joinHundreds(tokens: Token[], text: string): Token[] {
  /** Only white space between two tokens. */
  const spaced = (a: Token, b: Token): boolean => /^\s+$/.test(text.slice(a.end, b.start));
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = out[out.length - 1];
    if (!(t.number && /^hundred\b/i.test(t.raw) && prev && isSmallNumberWord(prev) && spaced(prev, t))) {
      out.push(t);
      continue;
    }
    let value = Number(prev.key.slice(1)) * Number(t.key.slice(1));
    let end = t.end;
    if (/^hundred$/i.test(t.raw)) {
      // "… hundred and seventy-five", "… hundred five".
      const and = tokens[i + 1]?.raw.toLowerCase() === 'and' ? tokens[i + 1] : undefined;
      const rest = tokens[i + (and ? 2 : 1)];
      if (rest && isSmallNumberWord(rest) && (and ? spaced(t, and) && spaced(and, rest) : spaced(t, rest))) {
        value += Number(rest.key.slice(1));
        end = rest.end;
        i += and ? 2 : 1;
      }
    }
    prev.key = canonicalNumber(value);
    prev.raw = text.slice(prev.start, end);
    prev.end = end;
  }
  return out;
}

/**
 * A context number that a claim's rounder figure stands for: "$181.7 million" for 181,674,817,
 * "about 2.5 million" for 2,481,000. The claim's figure must have at most four significant digits
 * and round the context's to them; a different figure of the same size is no match.
 */
export function roundedFrom(claimKey: string, numbers: Iterable<string>): string | undefined {
  if (!claimKey.startsWith('#')) return undefined;
  const x = Number(claimKey.slice(1));
  if (!Number.isFinite(x) || x === 0) return undefined;
  const digits = significantDigits(x);
  if (digits > 4) return undefined;
  for (const k of numbers) {
    if (!k.startsWith('#')) continue;
    const y = Number(k.slice(1));
    if (!Number.isFinite(y) || y === x || significantDigits(y) <= digits) continue;
    if (Number(y.toPrecision(digits)) === x) return k;
  }
  return undefined;
}

function significantDigits(x: number): number {
  return String(Math.abs(x)).replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length || 1;
}

const negationCache = new Map<string, boolean>();

export function isNegation(raw: string): boolean {
  let negation = negationCache.get(raw);
  if (negation === undefined) {
    const lower = raw.toLowerCase().replace(/’/g, "'");
    negation = NEGATIONS.has(lower) || lower.endsWith("n't");
    if (negationCache.size >= WORD_CACHE_MAX) negationCache.clear();
    negationCache.set(raw, negation);
  }
  return negation;
}
