import type { ContextPart } from './exchange.js';
import { splitUserTurn } from './documents.js';

/** What a dialect's request parser yields; index.ts adds the rest of the Exchange. */
export interface ParsedRequest {
  model?: string;
  context: ContextPart[];
  question: string;
  stream: boolean;
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

  /** The final user turn: documents go to context, the question is returned. */
  addFinalUser(text: string): string {
    const { documents, question } = splitUserTurn(text);
    for (const d of documents) this.add('document', d);
    return question;
  }
}
