import type { ContextPart, ToolDeclaration } from './exchange.js';
import { splitUserTurn } from './documents.js';

/** What a dialect's request parser yields; index.ts adds the rest of the Exchange. */
export interface ParsedRequest {
  model?: string;
  context: ContextPart[];
  question: string;
  stream: boolean;
  /** Tools the request declared, when it declared any. */
  tools?: ToolDeclaration[];
}

/** Collects context in request order; user text is split into its documents and the rest. */
export class ContextBuilder {
  readonly parts: ContextPart[] = [];

  add(source: ContextPart['source'], text: string): void {
    const t = text.trim();
    if (t !== '') this.parts.push({ source, text: t });
  }

  /** An earlier user turn: documents it carries are 'document', its own words 'history'. */
  addUserHistory(text: string): void {
    const { documents, question } = splitUserTurn(text);
    for (const d of documents) this.add('document', d);
    if (documents.length === 0) this.add('history', text);
    else this.add('history', question);
  }

  /**
   * The final user turn: documents go to context, the question is returned. A turn sent as
   * several text parts with nothing marked in it reads as context parts followed by the question.
   */
  addFinalUser(text: string | string[]): string {
    const parts = (typeof text === 'string' ? [text] : text).filter((p) => p.trim() !== '');
    const { documents, question } = splitUserTurn(parts.join('\n\n'));
    if (documents.length === 0 && parts.length >= 2) {
      const last = parts[parts.length - 1]!;
      const earlier = parts.slice(0, -1);
      if (last.length <= SHORT_QUESTION && earlier.join('').length >= Math.max(MIN_PART_DOCUMENT, last.length)) {
        for (const d of earlier) this.add('document', d);
        return last.trim();
      }
    }
    for (const d of documents) this.add('document', d);
    return question;
  }
}

/** A final text part up to this long, after longer parts, is the question about them. */
const SHORT_QUESTION = 400;
const MIN_PART_DOCUMENT = 100;
