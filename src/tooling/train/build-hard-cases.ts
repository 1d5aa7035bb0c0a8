import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSAGES, type HardCasePassage, type HardCaseRow } from './hard-cases-source.js';

/**
 * Writes `src/tooling/train/hard-cases.jsonl`: every hand-written hard case as a real exchange in the
 * dev files' wire format. The context reaches the model in six ways (OpenAI system prompt, OpenAI
 * "Context:" block, OpenAI tool result, Anthropic system prompt, Anthropic document block, Anthropic
 * tool result), turned per row so that no way of sending context goes with one label.
 *
 *   npx tsc -p tsconfig.json && node dist/tooling/train/build-hard-cases.js
 */

export const SHAPES = ['openai-system', 'openai-context', 'openai-tool', 'anthropic-system', 'anthropic-document', 'anthropic-tool'] as const;
export type Shape = (typeof SHAPES)[number];

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-3-5-haiku-20241022';
const SEARCH_TOOL = {
  name: 'search_documents',
  description: 'Searches the document store and returns the best matching passage.',
  schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

function openaiRequest(shape: Shape, p: HardCasePassage, callId: string): unknown {
  switch (shape) {
    case 'openai-system':
      return {
        model: OPENAI_MODEL,
        messages: [
          { role: 'system', content: `Answer using only the context below.\n\nContext:\n${p.context}` },
          { role: 'user', content: p.ask },
        ],
      };
    case 'openai-context':
      return { model: OPENAI_MODEL, messages: [{ role: 'user', content: `Context:\n${p.context}\n\nQuestion: ${p.ask}` }] };
    case 'openai-tool':
      return {
        model: OPENAI_MODEL,
        tools: [{ type: 'function', function: { name: SEARCH_TOOL.name, description: SEARCH_TOOL.description, parameters: SEARCH_TOOL.schema } }],
        messages: [
          { role: 'user', content: p.ask },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: callId, type: 'function', function: { name: SEARCH_TOOL.name, arguments: JSON.stringify({ query: p.ask }) } }],
          },
          { role: 'tool', tool_call_id: callId, content: p.context },
        ],
      };
    default:
      throw new Error(`not an OpenAI shape: ${shape}`);
  }
}

function anthropicRequest(shape: Shape, p: HardCasePassage, callId: string): unknown {
  const base = { model: ANTHROPIC_MODEL, max_tokens: 512 };
  switch (shape) {
    case 'anthropic-system':
      return { ...base, system: `Use only this document to answer.\n\n<document>\n${p.context}\n</document>`, messages: [{ role: 'user', content: p.ask }] };
    case 'anthropic-document':
      return {
        ...base,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: p.context } },
              { type: 'text', text: p.ask },
            ],
          },
        ],
      };
    case 'anthropic-tool':
      return {
        ...base,
        tools: [{ name: SEARCH_TOOL.name, description: SEARCH_TOOL.description, input_schema: SEARCH_TOOL.schema }],
        messages: [
          { role: 'user', content: p.ask },
          { role: 'assistant', content: [{ type: 'tool_use', id: callId, name: SEARCH_TOOL.name, input: { query: p.ask } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: p.context }] },
        ],
      };
    default:
      throw new Error(`not an Anthropic shape: ${shape}`);
  }
}

export function hardCaseExchange(p: HardCasePassage, row: HardCaseRow, index: number, shape: Shape): Record<string, unknown> {
  const id = `hard-${p.pair}-${index}`;
  const expected = { task: 'hard-case', hallucination: row.kind === 'edit', kind: row.kind, edit: row.edit, pair: p.pair, source: p.source };
  if (shape.startsWith('openai')) {
    return {
      id,
      provider: 'openai',
      request: openaiRequest(shape, p, `call_${p.pair.replace(/-/g, '_')}_${index}`),
      response: {
        id: `chatcmpl-${id}`,
        object: 'chat.completion',
        created: 1700000000,
        model: OPENAI_MODEL,
        choices: [{ index: 0, message: { role: 'assistant', content: row.answer }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      },
      expected,
    };
  }
  return {
    id,
    provider: 'anthropic',
    request: anthropicRequest(shape, p, `toolu_${p.pair.replace(/-/g, '_')}_${index}`),
    response: {
      id: `msg_${id}`,
      type: 'message',
      role: 'assistant',
      model: ANTHROPIC_MODEL,
      content: [{ type: 'text', text: row.answer }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    },
    expected,
  };
}

/** Every row, in passage order; the shape turns with both the passage and the row. */
export function hardCaseLines(passages: readonly HardCasePassage[] = PASSAGES): string[] {
  const pairs = new Set<string>();
  const lines: string[] = [];
  passages.forEach((p, pi) => {
    if (pairs.has(p.pair)) throw new Error(`pair ${p.pair} appears twice`);
    pairs.add(p.pair);
    p.rows.forEach((row, ri) => {
      // A short answer ("Delhi.") may be a span of the passage; a sentence copied whole is no rewrite.
      if (row.answer.split(' ').length > 3 && p.context.includes(row.answer)) throw new Error(`${p.pair} row ${ri} copies the passage: not a rewrite`);
      lines.push(JSON.stringify(hardCaseExchange(p, row, ri, SHAPES[(pi + ri) % SHAPES.length]!)));
    });
  });
  return lines;
}

export const HARD_CASES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/tooling/train/hard-cases.jsonl');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const lines = hardCaseLines();
  writeFileSync(HARD_CASES_FILE, lines.join('\n') + '\n');
  process.stdout.write(`wrote ${lines.length} rows from ${PASSAGES.length} passages to ${HARD_CASES_FILE}\n`);
}
