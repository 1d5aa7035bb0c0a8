import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { CaptureError, fromRecord } from '../src/capture/index.js';

const DEV = '/work/shared/datasets/dev';
const EIFFEL =
  'The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889.';

const chatResponse = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Gustave Eiffel.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 50, completion_tokens: 4, total_tokens: 54 },
};

function chat(messages: unknown[]) {
  return fromRecord({ id: 'x', provider: 'openai', request: { model: 'gpt-4o', messages }, response: chatResponse });
}

t.test('every dev row yields a question, and grounded rows yield context', async (t) => {
  for (const file of readdirSync(DEV).filter((f) => f.endsWith('.jsonl'))) {
    const rows = readFileSync(`${DEV}/${file}`, 'utf8').split('\n').filter((l) => l.trim() !== '');
    let bad = 0;
    for (const line of rows) {
      const row = JSON.parse(line);
      const ex = fromRecord(row);
      const grounded = file.startsWith('halueval') || file.startsWith('faithbench');
      if (ex.question.trim() === '' || (grounded && ex.context.length === 0) || ex.response.text === undefined) bad++;
      if (grounded && ex.context.some((c) => c.text.includes('Question:'))) bad++;
    }
    t.equal(bad, 0, `${file}: ${rows.length} rows, all usable`);
  }
});

t.test('OpenAI chat: system, developer, tool, function and history placements', async (t) => {
  const ex = chat([
    { role: 'system', content: 'You are terse.' },
    { role: 'developer', content: [{ type: 'text', text: 'Cite sources.' }] },
    { role: 'user', content: 'Who built the tower?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: EIFFEL },
    { role: 'function', name: 'lookup', content: 'Height: 330 m.' },
    { role: 'assistant', content: 'It was built by Eiffel.' },
    { role: 'user', content: [{ type: 'text', text: 'And when?' }, { type: 'image_url', image_url: { url: 'data:x' } }] },
  ]);
  t.same(ex.context, [
    { source: 'system', text: 'You are terse.' },
    { source: 'system', text: 'Cite sources.' },
    { source: 'history', text: 'Who built the tower?' },
    { source: 'tool', text: EIFFEL },
    { source: 'tool', text: 'Height: 330 m.' },
    { source: 'history', text: 'It was built by Eiffel.' },
  ]);
  t.equal(ex.question, 'And when?');
  t.equal(ex.model, 'gpt-4o');
  t.equal(ex.route, 'chat.completions');
  t.same(ex.response, {
    text: 'Gustave Eiffel.',
    finishReason: 'stop',
    model: 'gpt-4o-2024-08-06',
    usage: { inputTokens: 50, outputTokens: 4 },
  });
});

t.test('tool results after the last user turn are context, the user turn stays the question', async (t) => {
  const ex = chat([
    { role: 'user', content: 'Who designed the Eiffel Tower?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'wiki', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: EIFFEL }] },
  ]);
  t.equal(ex.question, 'Who designed the Eiffel Tower?');
  t.same(ex.context, [{ source: 'tool', text: EIFFEL }]);
});

const documentShapes: Array<[string, string, string]> = [
  ['Context/Question labels', `Context:\n${EIFFEL}\n\nQuestion: Who designed it?`, 'Who designed it?'],
  ['XML document tag', `<document>\n${EIFFEL}\n</document>\n\nWho designed it?`, 'Who designed it?'],
  ['nested XML tags', `<documents><document index="1"><document_content>${EIFFEL}</document_content></document></documents>\nWho designed it?`, 'Who designed it?'],
  ['backtick fence', `Read this:\n\`\`\`\n${EIFFEL}\n\`\`\`\nWho designed it?`, 'Read this:\n\nWho designed it?'],
  ['triple quotes', `Answer from the text in triple quotes. Who designed it?\n"""${EIFFEL}"""`, 'Answer from the text in triple quotes. Who designed it?'],
  ['Document heading', `Document: ${EIFFEL}\nWho designed it?`, 'Who designed it?'],
  ['Article heading, trailing instruction', `Article:\n${EIFFEL}\n\nSummarize the article above.`, 'Summarize the article above.'],
  ['Passage heading with Task', `Passage: ${EIFFEL}\n\nTask: Name the engineer.`, 'Name the engineer.'],
  ['Text heading with cue', `Text: ${EIFFEL}\nSummary:`, 'Summary:'],
  ['markdown headings', `## Context\n${EIFFEL}\n\n## Question\nWho designed it?`, 'Who designed it?'],
  ['summarize the following', `Summarize the following: ${EIFFEL}`, 'Summarize the following:'],
  ['intro sentence then body', `Summarize the following article in one sentence.\n\n${EIFFEL}`, 'Summarize the following article in one sentence.'],
  ['one-line context and question', `Context: ${EIFFEL} Question: Who designed it?`, 'Who designed it?'],
  ['long unmarked body with a final question', `${EIFFEL} ${EIFFEL} ${EIFFEL}\n\nWho designed it?`, 'Who designed it?'],
  ['unlabelled context before a labelled question', `Use the following pieces of context to answer the question at the end. If you don't know the answer, say so.\n\n${EIFFEL}\n\nQuestion: Who designed it?\nHelpful Answer:`, "Use the following pieces of context to answer the question at the end. If you don't know the answer, say so.\n\nWho designed it?"],
  ['#Label# headings', `#Knowledge#: ${EIFFEL}\n#Question#: Who designed it?\n#Answer#:`, 'Who designed it?'],
  ['short passage after a "following" instruction', 'Provide a concise summary of the following passage.\n\nGustave Eiffel designed the tower, finished in 1889.', 'Provide a concise summary of the following passage.'],
  ['question tag keeps its place', `Answer from the article.\n<article>${EIFFEL}</article>\n<question>Who designed it?</question>`, 'Answer from the article.\n\nWho designed it?'],
  ['long unmarked body with a leading instruction', `Please summarize this for me. ${EIFFEL} ${EIFFEL} ${EIFFEL}`, 'Please summarize this for me.'],
];

t.test('documents embedded in the final user turn are split out', async (t) => {
  for (const [name, content, question] of documentShapes) {
    const ex = chat([{ role: 'user', content }]);
    t.equal(ex.question, question, `${name}: question`);
    const docs = ex.context.filter((c) => c.source === 'document');
    t.equal(docs.length, 1, `${name}: one document`);
    t.ok(docs[0]?.text.includes('Gustave Eiffel'), `${name}: document text`);
    t.notOk(docs[0]?.text.includes('designed it?'), `${name}: question not in the document`);
  }
});

t.test('a final turn of several text parts: earlier parts are documents, the last the question', async (t) => {
  const oa = chat([{ role: 'user', content: [{ type: 'text', text: EIFFEL }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }, { type: 'text', text: 'Who designed it' }] }]);
  t.equal(oa.question, 'Who designed it');
  t.same(oa.context, [{ source: 'document', text: EIFFEL }]);
  const an = fromRecord({
    id: 'p',
    provider: 'anthropic',
    request: { model: 'claude-opus-4-6', max_tokens: 9, messages: [{ role: 'user', content: [{ type: 'text', text: EIFFEL }, { type: 'text', text: 'Who designed it' }] }] },
    response: { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Eiffel.' }], stop_reason: 'end_turn' },
  });
  t.equal(an.question, 'Who designed it');
  t.same(an.context, [{ source: 'document', text: EIFFEL }]);
  const short = chat([{ role: 'user', content: [{ type: 'text', text: 'Hi there.' }, { type: 'text', text: 'How are you?' }] }]);
  t.equal(short.question, 'Hi there.\n\nHow are you?');
  t.same(short.context, []);
});

t.test('short plain questions stay whole and carry no context', async (t) => {
  for (const q of ['What is the capital of France?', 'Note: I am new here. How do I kill a Python process?', 'Hi']) {
    const ex = chat([{ role: 'user', content: q }]);
    t.equal(ex.question, q);
    t.same(ex.context, []);
  }
});

t.test('earlier user turns: their documents are documents, their words history', async (t) => {
  const ex = chat([
    { role: 'user', content: `<article>${EIFFEL}</article>\nRemember this.` },
    { role: 'assistant', content: 'Noted.' },
    { role: 'user', content: 'Who designed it?' },
  ]);
  t.same(ex.context, [
    { source: 'document', text: EIFFEL },
    { source: 'history', text: 'Remember this.' },
    { source: 'history', text: 'Noted.' },
  ]);
});

t.test('OpenAI completions: prompt string or array, text and token logprobs', async (t) => {
  const response = {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 1700000000,
    model: 'gpt-3.5-turbo-instruct',
    choices: [
      {
        text: ' Gustave Eiffel',
        index: 0,
        logprobs: { tokens: [' Gust', 'ave', ' Eiffel'], token_logprobs: [-0.1, -0.01, -0.2], top_logprobs: null, text_offset: [0, 5, 8] },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 60, completion_tokens: 3, total_tokens: 63 },
  };
  for (const prompt of [`Context:\n${EIFFEL}\n\nQuestion: Who designed it?\nAnswer:`, [`Context:\n${EIFFEL}\n\nQuestion: Who designed it?\nAnswer:`, 'A second prompt of the batch.']]) {
    const ex = fromRecord({ id: 'c', provider: 'openai', request: { model: 'gpt-3.5-turbo-instruct', prompt }, response });
    t.equal(ex.route, 'completions');
    t.equal(ex.question, 'Who designed it?');
    t.same(ex.context, [{ source: 'document', text: EIFFEL }]);
    t.same(ex.response, {
      text: ' Gustave Eiffel',
      finishReason: 'stop',
      model: 'gpt-3.5-turbo-instruct',
      usage: { inputTokens: 60, outputTokens: 3 },
      logprobs: [
        { token: ' Gust', logprob: -0.1 },
        { token: 'ave', logprob: -0.01 },
        { token: ' Eiffel', logprob: -0.2 },
      ],
    });
  }
});

t.test('OpenAI chat: refusal and logprobs', async (t) => {
  const ex = fromRecord({
    id: 'r',
    provider: 'openai',
    request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Help me pick a lock.' }], logprobs: true },
    response: {
      ...chatResponse,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, refusal: "I'm sorry, I can't help with that." },
          logprobs: { content: [{ token: "I'm", logprob: -0.3, bytes: [73, 39, 109], top_logprobs: [] }], refusal: null },
          finish_reason: 'stop',
        },
      ],
    },
  });
  t.equal(ex.response.text, '');
  t.equal(ex.response.refusal, "I'm sorry, I can't help with that.");
  t.same(ex.response.logprobs, [{ token: "I'm", logprob: -0.3 }]);
});

t.test('OpenAI responses: instructions, input items, function_call_output, output text', async (t) => {
  const ex = fromRecord({
    id: 'resp',
    provider: 'openai',
    request: {
      model: 'gpt-4.1',
      instructions: 'Answer from the tool output only.',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Who designed the Eiffel Tower?' }] },
        { type: 'function_call', call_id: 'call_1', name: 'wiki', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: EIFFEL },
      ],
    },
    response: {
      id: 'resp_1',
      object: 'response',
      created_at: 1700000000,
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      model: 'gpt-4.1-2025-04-14',
      output: [
        { type: 'reasoning', id: 'rs_1', summary: [] },
        {
          type: 'message',
          id: 'msg_1',
          status: 'incomplete',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Gustave Eiffel', annotations: [], logprobs: [{ token: 'Gust', logprob: -0.5, bytes: [], top_logprobs: [] }] }],
        },
      ],
      usage: { input_tokens: 80, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 85 },
    },
  });
  t.equal(ex.route, 'responses');
  t.equal(ex.question, 'Who designed the Eiffel Tower?');
  t.same(ex.context, [
    { source: 'system', text: 'Answer from the tool output only.' },
    { source: 'tool', text: EIFFEL },
  ]);
  t.same(ex.response, {
    text: 'Gustave Eiffel',
    finishReason: 'max_output_tokens',
    model: 'gpt-4.1-2025-04-14',
    usage: { inputTokens: 80, outputTokens: 5 },
    logprobs: [{ token: 'Gust', logprob: -0.5 }],
  });

  const simple = fromRecord({
    id: 's',
    provider: 'openai',
    request: { model: 'gpt-4.1', input: `Summarize the following: ${EIFFEL}` },
    response: { object: 'response', status: 'completed', model: 'gpt-4.1', output: [{ type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] }] },
  });
  t.equal(simple.question, 'Summarize the following:');
  t.same(simple.context, [{ source: 'document', text: EIFFEL }]);
  t.same(simple.response, { text: '', refusal: 'No.', finishReason: 'completed', model: 'gpt-4.1' });
});

const anthropicResponse = {
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-20250514',
  content: [
    { type: 'text', text: 'Gustave ' },
    { type: 'text', text: 'Eiffel.' },
  ],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 20, output_tokens: 6 },
};

t.test('Anthropic: system blocks, document blocks, tool_result blocks, history', async (t) => {
  const ex = fromRecord({
    id: 'a',
    provider: 'anthropic',
    request: {
      model: 'claude-sonnet-4-20250514',
      max_tokens: 256,
      system: [{ type: 'text', text: 'Answer from the documents.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'Find out who built the tower.' },
        { role: 'assistant', content: [{ type: 'text', text: 'Searching.' }, { type: 'tool_use', id: 'tu_1', name: 'wiki', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: EIFFEL }] },
            { type: 'tool_result', tool_use_id: 'tu_2', content: 'Height: 330 m.' },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Paris is the capital of France.' }, title: 'Paris' },
            { type: 'document', source: { type: 'content', content: [{ type: 'text', text: 'Chunk one.' }, { type: 'text', text: 'Chunk two.' }] } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'text', text: 'Who designed it?' },
          ],
        },
      ],
    },
    response: anthropicResponse,
  });
  t.equal(ex.route, 'messages');
  t.equal(ex.question, 'Who designed it?');
  t.same(ex.context, [
    { source: 'system', text: 'Answer from the documents.' },
    { source: 'history', text: 'Find out who built the tower.' },
    { source: 'history', text: 'Searching.' },
    { source: 'tool', text: EIFFEL },
    { source: 'tool', text: 'Height: 330 m.' },
    { source: 'document', text: 'Paris\nParis is the capital of France.' },
    { source: 'document', text: 'Chunk one.\n\nChunk two.' },
  ]);
  t.same(ex.response, {
    text: 'Gustave Eiffel.',
    finishReason: 'end_turn',
    model: 'claude-sonnet-4-20250514',
    usage: { inputTokens: 120, outputTokens: 6 },
  });
});

t.test('Anthropic: a final turn of only tool results keeps the earlier user question', async (t) => {
  const ex = fromRecord({
    id: 'a2',
    provider: 'anthropic',
    request: {
      model: 'claude-sonnet-4-20250514',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Who designed the Eiffel Tower?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'tu_1', name: 'wiki', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: EIFFEL }] },
      ],
    },
    response: anthropicResponse,
  });
  t.equal(ex.question, 'Who designed the Eiffel Tower?');
  t.same(ex.context, [
    { source: 'system', text: 'Be brief.' },
    { source: 'tool', text: EIFFEL },
  ]);
});

t.test('error bodies parse to an empty response rather than throwing', async (t) => {
  const oa = fromRecord({
    id: 'e',
    provider: 'openai',
    request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
    response: { error: { message: 'Rate limit', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
  });
  t.equal(oa.response.text, '');
  const an = fromRecord({
    id: 'e',
    provider: 'anthropic',
    request: { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
    response: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
  });
  t.equal(an.response.text, '');
});

t.test('input it cannot understand throws CaptureError with a code, never TypeError', async (t) => {
  const bad: unknown[] = [
    { id: 'b', provider: 'openai', request: null, response: chatResponse },
    { id: 'b', provider: 'openai', request: { model: 'x' }, response: chatResponse },
    { id: 'b', provider: 'openai', request: { messages: 'hi' }, response: chatResponse },
    { id: 'b', provider: 'openai', request: { messages: [] }, response: 'not json' },
    { id: 'b', provider: 'anthropic', request: { messages: {} }, response: anthropicResponse },
    { id: 'b', provider: 'anthropic', request: { messages: [] }, response: [1, 2] },
    { id: 'b', provider: 'gemini', request: {}, response: {} },
    { id: 'b', provider: 'anthropic', route: 'complete', request: { messages: [] }, response: {} },
    null,
  ];
  for (const row of bad) {
    t.ok(captureErrorOf(() => fromRecord(row as never)), JSON.stringify(row));
  }
});

/** True when fn throws a CaptureError carrying a code; false when it returns or throws anything else. */
function captureErrorOf(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof CaptureError && /^VERACITY_CAPTURE_/.test(err.code) && err.message.length > 0;
  }
}
