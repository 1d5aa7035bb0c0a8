// Texts for the inline benchmark: a ~1,000-token answer grounded in a longer context, built from
// varied sentences (names, numbers, places) so the detectors do the work a real answer makes them do.

const DISTRICTS = ['Harbor', 'Northgate', 'Riverside', 'Old Town', 'Eastfield', 'Westmoor', 'Southbank', 'Hillcrest', 'Lakeshore', 'Marston', 'Brookvale', 'Kingsley'];
const TOPICS: Array<(d: string, i: number) => string> = [
  (d, i) => `The ${d} district issued ${1200 + i * 37} housing permits in ${2015 + (i % 8)}, most of them for apartments near the rail line.`,
  (d, i) => `Its public library, opened in ${1950 + i * 3}, lends about ${40 + i} thousand books a year and runs evening classes for adults.`,
  (d, i) => `Average rent in ${d} rose by ${3 + (i % 7)} percent after the tram extension reached ${DISTRICTS[(i + 3) % DISTRICTS.length]} Square.`,
  (d, i) => `The council planted ${200 + i * 11} trees along the ${d} canal, and volunteers from the ${DISTRICTS[(i + 5) % DISTRICTS.length]} school water them in summer.`,
  (d, i) => `Bus line ${10 + i} connects ${d} with the central station every ${5 + (i % 4)} minutes during the morning peak.`,
];

function sentences(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) out.push(TOPICS[i % TOPICS.length]!(DISTRICTS[Math.floor(i / TOPICS.length) % DISTRICTS.length]!, i));
  return out;
}

/** About 1,400 tokens of context: every sentence the long answer makes, and more. */
export const LONG_CONTEXT = `City report, chapter 4.\n\n${sentences(64).join(' ')}`;

/** About 1,000 tokens (≈ 4,400 characters) of answer, every sentence supported by LONG_CONTEXT. */
export const LONG_ANSWER = sentences(48).join(' ');

export const LONG_QUESTION = 'Summarise what the city report says about each district.';
