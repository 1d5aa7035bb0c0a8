/**
 * Splits a user turn into the documents it carries and the instruction/question left over.
 * Real prompts mark documents in a handful of general ways (XML-ish tags, fenced or triple-quoted
 * blocks, "Label:" headings, "… the following:" intros); anything else long is treated as a
 * document body with its short instruction kept as the question.
 */

export interface SplitTurn {
  documents: string[];
  /** What is left once documents are removed; never empty when the input was not. */
  question: string;
}

/** Nouns that, as a heading or the end of an intro, announce a document. */
const DOC_NOUNS = new Set([
  'context', 'contexts', 'document', 'documents', 'doc', 'docs', 'article', 'articles', 'passage', 'passages',
  'text', 'texts', 'background', 'reference', 'references', 'source', 'sources', 'knowledge', 'content',
  'contents', 'input', 'excerpt', 'excerpts', 'transcript', 'story', 'information', 'info', 'facts', 'fact',
  'data', 'evidence', 'paragraph', 'paragraphs', 'report', 'email', 'letter', 'conversation', 'dialogue',
  'dialog', 'review', 'reviews', 'abstract', 'notes', 'snippet', 'snippets', 'material', 'materials',
  'results', 'result', 'title', 'essay', 'news', 'post', 'message', 'chunk', 'chunks', 'page', 'pages',
  'section', 'chapter', 'code', 'table', 'record', 'records', 'documentation', 'file', 'policy',
]);
const QUESTION_NOUNS = new Set([
  'question', 'questions', 'query', 'q', 'task', 'instruction', 'instructions', 'request', 'prompt', 'ask',
  'problem', 'goal', 'objective',
]);
/** Trailing cues such as "Answer:" that only prompt the model to start writing. */
const CUE_NOUNS = new Set(['answer', 'a', 'response', 'output', 'assistant', 'completion', 'reply', 'summary', 'translation']);
/** Words that may sit in a document heading without making it an instruction ("The source text:"). */
const HEADING_FILLER = new Set([
  'the', 'a', 'an', 'this', 'these', 'that', 'following', 'given', 'provided', 'below', 'above', 'here', 'is',
  'are', 'source', 'input', 'reference', 'original', 'full', 'relevant', 'retrieved', 'supporting', 'news',
  'background', 'search', 'web', 'user', 'your', 'my', 'of', 'and', 'base', 'context', 'additional', 'some',
]);
const DOC_TAG = /^(?:context|contexts|document|documents|doc|docs|article|passage|passages|text|source|sources|knowledge|content|excerpt|transcript|reference|references|background|information|info|data|evidence|paragraph|report|email|story|conversation|dialogue|record|records|search_results?|result|results|chunk|page|file|input|snippet|material|document_content|source_text|input_text)s?$/i;
const QUESTION_TAG = /^(?:question|query|task|instruction|instructions|request|prompt|user_question|user_query|ask|problem)$/i;
const INSTRUCTION_START =
  /^(?:please\s+)?(?:summari[sz]e|answer|explain|describe|list|give|tell|write|translate|rewrite|paraphrase|classify|extract|identify|find|determine|based|using|according|what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|should|would|will|provide|generate|create|compare|analy[sz]e|evaluate|check|verify|read|given|in|from|considering|respond|reply|name|state|outline|highlight|condense|shorten|simplify|correct|fix|review|assess|decide|choose|select|return|output|produce|compose|draft)\b/i;

const LONG_TURN = 600;
const SHORT_INSTRUCTION = 400;

export function splitUserTurn(input: string): SplitTurn {
  const original = input.trim();
  if (original === '') return { documents: [], question: '' };
  const found: Found = { documents: [], labelledQuestion: false };

  let rest = extractTags(original, found);
  rest = extractFences(rest, found.documents);
  rest = extractHeadedSections(rest, found);
  if (found.documents.length === 0 && !found.labelledQuestion) {
    rest = extractIntroduced(rest, found.documents);
    if (found.documents.length === 0) rest = extractLongBody(rest, found.documents);
  }

  const question = tidy(rest);
  return {
    documents: found.documents.map(tidy).filter((d) => d !== ''),
    question: question !== '' ? question : fallbackQuestion(original),
  };
}

interface Found {
  documents: string[];
  /** The turn marks its question explicitly (<question>, "Question:"), so the rest is not the question. */
  labelledQuestion: boolean;
}

function tidy(s: string): string {
  return s.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** A turn that is all document still answers something: keep its first sentence as the question. */
function fallbackQuestion(original: string): string {
  const first = firstSentence(original);
  return first.length > 0 && first.length <= SHORT_INSTRUCTION ? first : original.slice(0, SHORT_INSTRUCTION).trim();
}

// <document>…</document>, <context id="1">…</context>, nested <documents><document>…
function extractTags(text: string, found: Found): string {
  const open = /<([A-Za-z][\w.:-]{0,40})(?:\s[^<>]*)?>/g;
  // Where each tag name is last closed: an opening after it cannot match, so long runs of
  // unclosed tags cost one scan per name instead of one per tag.
  const lastClose = new Map<string, number>();
  const lastCloseOf = (name: string): number => {
    let at = lastClose.get(name);
    if (at === undefined) {
      at = -1;
      if (text.includes(`</${name}`)) {
        const close = new RegExp(`</${name.replace(/[.]/g, '\\.')}\\s*>`, 'g');
        for (let m = close.exec(text); m; m = close.exec(text)) at = m.index;
      }
      lastClose.set(name, at);
    }
    return at;
  };
  let out = '';
  let copied = 0;
  for (let m = open.exec(text); m; m = open.exec(text)) {
    const name = m[1]!;
    const bodyStart = m.index + m[0].length;
    if (lastCloseOf(name) < bodyStart) continue;
    const close = new RegExp(`</${name.replace(/[.]/g, '\\.')}\\s*>`, 'g');
    close.lastIndex = bodyStart;
    const c = close.exec(text);
    if (!c) continue;
    const inner = text.slice(bodyStart, c.index).replace(/<\/?[A-Za-z][\w.:-]{0,40}(\s[^<>]*)?\/?>/g, '\n').trim();
    let replacement = '\n';
    if (QUESTION_TAG.test(name)) {
      found.labelledQuestion = true;
      replacement = `\n${inner}\n`;
    } else if (DOC_TAG.test(name) || c.index - bodyStart >= 200 || (inner.includes('\n') && inner.length >= 80)) {
      // Judged on the raw span too, so markup left alone is always short and rescanning it stays cheap.
      if (inner !== '') found.documents.push(inner);
    } else continue; // inline markup such as <b>…</b>: leave it, look inside
    out += `${text.slice(copied, m.index)}${replacement}`;
    copied = c.index + c[0].length;
    open.lastIndex = copied;
  }
  return out + text.slice(copied);
}

// ```lang … ```, ~~~ … ~~~, """ … """, ''' … '''
function extractFences(text: string, documents: string[]): string {
  const take = (_whole: string, _fence: string, body: string): string => {
    if (body.trim() !== '') documents.push(body);
    return '\n';
  };
  return text
    .replace(/(```|~~~)[\w+#.-]*[ \t]*\r?\n([\s\S]*?)\r?\n?[ \t]*\1/g, take)
    .replace(/("""|''')([\s\S]*?)\1/g, take);
}

type Kind = 'plain' | 'document' | 'question' | 'cue';
interface Section {
  kind: Kind;
  label?: string;
  lines: string[];
}

const HEADING =
  /^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?([A-Za-z][A-Za-z0-9 '’_/()#[\]-]{0,60}?)[ \t]*(?:\*\*|__)?[ \t]*:[ \t]*(?:\*\*|__)?[ \t]*(.*)$/;
const MARKDOWN_HEADING = /^[ \t]*#{1,6}[ \t]+([A-Za-z][A-Za-z0-9 '’_/()#[\]-]{0,60}?)[ \t]*#*[ \t]*$/;

function classifyLabel(label: string): { kind: Kind; instruction?: string } | undefined {
  const words = label
    .toLowerCase()
    .replace(/[()[\]#'’]/g, ' ')
    .split(/[\s_/-]+/)
    .filter((w) => w !== '' && !/^\d+$/.test(w));
  if (words.length === 0 || words.length > 7) return undefined;
  const last = words[words.length - 1]!;
  if (words.length <= 3 && QUESTION_NOUNS.has(last)) return { kind: 'question' };
  if (words.length <= 2 && CUE_NOUNS.has(last)) return { kind: 'cue' };
  if (!DOC_NOUNS.has(last)) return undefined;
  const extra = words.slice(0, -1).filter((w) => !HEADING_FILLER.has(w) && !DOC_NOUNS.has(w));
  if (extra.length === 0) return words.length <= 4 ? { kind: 'document' } : undefined;
  // "Summarize the following article:" — a document heading that is also the instruction.
  return INSTRUCTION_START.test(label.trim()) ? { kind: 'document', instruction: `${label.trim()}:` } : undefined;
}

function extractHeadedSections(text: string, found: Found): string {
  const alreadyFound = found.documents.length > 0;
  const sections: Section[] = [{ kind: 'plain', lines: [] }];
  for (const line of text.split(/\r?\n/)) {
    const md = MARKDOWN_HEADING.exec(line);
    const heading = md ? undefined : HEADING.exec(line);
    const label = md?.[1] ?? heading?.[1];
    const kind = label !== undefined ? classifyLabel(label) : undefined;
    if (kind === undefined) {
      sections[sections.length - 1]!.lines.push(line);
      continue;
    }
    if (kind.instruction) sections.push({ kind: 'plain', lines: [kind.instruction] });
    sections.push({ kind: kind.kind, label, lines: heading?.[2] ? [heading[2]] : [] });
  }
  if (!sections.some((s) => s.kind === 'document' || s.kind === 'question')) return text;

  // "Context: … Question: …" on one line: split the inline question off the document.
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i]!;
    if (s.kind !== 'document') continue;
    const body = s.lines.join('\n');
    const inline = /(?:[.!?]["')\]]?|\n)\s+(?:question|query|q)\s*:\s*/i.exec(body);
    if (inline && inline.index > 0) {
      s.lines = [body.slice(0, inline.index + 1)];
      sections.splice(i + 1, 0, { kind: 'question', lines: [body.slice(inline.index + inline[0].length)] });
    }
  }

  const hasQuestion = sections.some((s) => s.kind === 'question' && s.lines.join('').trim() !== '');
  if (hasQuestion) found.labelledQuestion = true;
  // The question and the instructions around it, in the order the user wrote them.
  const kept: string[] = [];
  const cues: string[] = [];
  for (const s of sections) {
    const body = s.lines.join('\n').trim();
    // "Here is the text:" after a fenced block already taken: what follows is the instruction.
    if (s.kind === 'document' && alreadyFound && body.length <= SHORT_INSTRUCTION && looksLikeInstruction(body)) {
      kept.push(body);
      continue;
    }
    if (s.kind === 'document') {
      if (body === '') continue;
      // "Context:\n…\n\nSummarize the passage above." — the trailing instruction is not document.
      const { doc, instruction } = hasQuestion ? { doc: body, instruction: '' } : splitTrailingInstruction(body);
      found.documents.push(s.label && /^title$/i.test(s.label.trim()) ? `${s.label.trim()}: ${doc}` : doc);
      if (instruction) kept.push(instruction);
    } else if (s.kind === 'question') {
      if (body !== '') kept.push(body);
    } else if (s.kind === 'cue') {
      if (body !== '') kept.push(body);
      else if (s.label) cues.push(`${s.label.trim()}:`);
    } else if (body !== '') {
      kept.push(hasQuestion ? extractUnlabelledBodies(body, found.documents) : body);
    }
  }
  // "Text: …\nSummary:" — the cue is all the instruction there is.
  if (kept.every((k) => k.trim() === '') && cues.length > 0) kept.push(cues.join('\n'));
  return kept.filter((k) => k.trim() !== '').join('\n\n');
}

/** The last paragraph, else the last line, when it reads as an instruction about the text above. */
function splitTrailingInstruction(body: string): { doc: string; instruction: string } {
  for (const separator of [/\n[ \t]*\n/, /\n/]) {
    const pieces = body.split(separator);
    if (pieces.length < 2) continue;
    const last = pieces[pieces.length - 1]!.trim();
    if (last.length <= SHORT_INSTRUCTION && looksLikeInstruction(last)) {
      return { doc: body.slice(0, body.lastIndexOf(last)).trim(), instruction: last };
    }
  }
  return { doc: body, instruction: '' };
}

function looksLikeInstruction(s: string): boolean {
  const t = s.trim();
  return (
    /\?["')\]]?$/.test(t) ||
    INSTRUCTION_START.test(t) ||
    /\b(?:above|below|the (?:passage|text|article|document|context)|in (?:one|two|three|\d+) (?:sentences?|words?|paragraphs?))\b/i.test(t)
  );
}

// "Summarize the following: <text>" / "Translate this text into French:\n<text>"
function extractIntroduced(text: string, documents: string[]): string {
  const colon = /^([^\n:]{3,300}?):[ \t]*(\r?\n)?/.exec(text) ?? /^([^\n]{3,300}?[.!])[ \t]*(\r?\n[ \t]*\r?\n)/.exec(text);
  if (!colon) return text;
  const intro = colon[1]!.trim();
  const body = text.slice(colon[0].length);
  const byColon = text.charAt(intro.length === 0 ? 0 : colon[1]!.length) === ':';
  const introduces = byColon
    ? /\b(?:following|below|this|these|given|provided|attached|here)\b/i.test(intro) || INSTRUCTION_START.test(intro)
    : /\b(?:following|below)\b/i.test(intro);
  if (!introduces || body.trim().length < 40) return text;
  const { doc, instruction } = splitTrailingInstruction(body.trim());
  documents.push(doc);
  const head = byColon ? `${intro}:` : intro;
  return instruction ? `${head}\n\n${instruction}` : head;
}

/** Words an instruction to the model uses and a document about the world rarely does. */
const INSTRUCTION_CUE =
  /\b(?:you|your|please|answer|question|summar\w*|context|following|below|above|respond|reply|explain|use|using|based on|according to|don't know|do not know|helpful|assistant)\b/i;

/**
 * "Use the following pieces of context… \n\n<context>\n\nQuestion: …": the question is labelled but
 * the context is not. Unlabelled paragraphs that read as prose rather than instructions are documents.
 */
function extractUnlabelledBodies(text: string, documents: string[]): string {
  const kept: string[] = [];
  const bodies: string[] = [];
  for (const paragraph of text.split(/\n[ \t]*\n/)) {
    const p = paragraph.trim();
    if (p === '') continue;
    if (p.length > SHORT_INSTRUCTION || (p.length >= 60 && !INSTRUCTION_CUE.test(p))) bodies.push(p);
    else kept.push(p);
  }
  if (bodies.length > 0) documents.push(bodies.join('\n\n'));
  return kept.join('\n\n');
}

// No markers at all but a long turn: the long body is the document, the short instruction the question.
function extractLongBody(text: string, documents: string[]): string {
  const t = text.trim();
  if (t.length < LONG_TURN) return text;
  const paragraphs = t.split(/\n[ \t]*\n/).map((p) => p.trim()).filter((p) => p !== '');
  if (paragraphs.length >= 2) {
    const last = paragraphs[paragraphs.length - 1]!;
    const first = paragraphs[0]!;
    if (last.length <= SHORT_INSTRUCTION && (looksLikeInstruction(last) || first.length > SHORT_INSTRUCTION)) {
      documents.push(paragraphs.slice(0, -1).join('\n\n'));
      return last;
    }
    if (first.length <= SHORT_INSTRUCTION) {
      documents.push(paragraphs.slice(1).join('\n\n'));
      return first;
    }
  }
  const sentences = t.match(/[^.!?\n]+(?:[.!?]+["')\]]?|\n|$)/g)?.map((s) => s.trim()).filter((s) => s !== '') ?? [];
  if (sentences.length >= 2) {
    const last = sentences[sentences.length - 1]!;
    const first = sentences[0]!;
    if (/\?["')\]]?$/.test(last) || (!INSTRUCTION_START.test(first) && looksLikeInstruction(last))) {
      documents.push(t.slice(0, t.lastIndexOf(last)).trim());
      return last;
    }
    documents.push(t.slice(t.indexOf(first) + first.length).trim());
    return first;
  }
  return text;
}

function firstSentence(s: string): string {
  const m = /^[^\n]*?[.!?](?=\s|$)/.exec(s.trim());
  return (m ? m[0] : (s.trim().split('\n')[0] ?? '')).trim();
}
