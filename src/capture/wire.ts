/** Tolerant readers for untrusted JSON: wrong types read as absent, never as a TypeError. */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Texts of a content value that is a string or an array of parts; only text-bearing parts count
 * (`text`, `input_text`, `output_text`), images/audio/files are skipped.
 */
export function textParts(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') texts.push(part);
    else if (isObject(part) && typeof part.text === 'string') {
      const type = part.type;
      if (type === undefined || type === 'text' || type === 'input_text' || type === 'output_text') texts.push(part.text);
    }
  }
  return texts;
}

/** All text of a content value; separate parts read as separate paragraphs. */
export function textOf(content: unknown): string {
  return textParts(content).join('\n\n');
}
