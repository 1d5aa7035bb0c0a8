/**
 * Optional PII masking (capture.redactPii) applied to the captured copy before it is queued, so
 * the text never reaches Redis. It works on raw JSON or event-stream text: every replacement is a
 * plain bracketed tag with no quotes or backslashes, so the JSON stays valid.
 */

interface Rule {
  tag: string;
  pattern: RegExp;
  accept?: (match: string) => boolean;
}

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const RULES: Rule[] = [
  { tag: '[EMAIL]', pattern: /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}/g },
  {
    tag: '[CARD]',
    pattern: /\b\d(?:[ -]?\d){12,18}\b/g,
    accept: (m) => {
      const digits = m.replace(/[ -]/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits);
    },
  },
  { tag: '[IBAN]', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g },
  { tag: '[SSN]', pattern: /\b\d{3}-\d{2}-\d{4}\b/g },
  // Phone numbers need a leading + or separators, so plain integers (timestamps, token counts) stay.
  { tag: '[PHONE]', pattern: /(?<!\d[ .-]?)(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{2,4}[ .-]\d{3,4}(?![ .-]?\d)/g },
  {
    tag: '[IP]',
    pattern: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g,
    accept: (m) => m.split('.').every((o) => Number(o) <= 255),
  },
];

export function redactPii(text: string): { text: string; count: number } {
  let count = 0;
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (m) => {
      if (rule.accept && !rule.accept(m)) return m;
      count++;
      return rule.tag;
    });
  }
  return { text: out, count };
}

/** The tags masked values become: readers of masked text can tell a mask from a value. */
export const REDACTION_TAGS: readonly string[] = RULES.map((r) => r.tag);
