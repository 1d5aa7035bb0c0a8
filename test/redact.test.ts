import t from 'tap';
import { redactPii } from '../src/capture/redact.js';

t.test('masks common PII and keeps JSON valid', async (t) => {
  const body = JSON.stringify({
    model: 'gpt-4o',
    created: 1700000000,
    usage: { prompt_tokens: 1234567 },
    messages: [{ role: 'user', content: 'Mail jane.doe+x@example.co.uk or call +1 415-555-0132 / (020) 7946 0958. Card 4111 1111 1111 1111, SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00, host 192.168.10.4.' }],
  });
  const { text, count } = redactPii(body);
  const parsed = JSON.parse(text);
  const content: string = parsed.messages[0].content;
  for (const leaked of ['jane.doe', '415-555-0132', '7946 0958', '4111 1111', '123-45-6789', 'DE89', '192.168.10.4']) t.notOk(content.includes(leaked), `${leaked} masked`);
  for (const tag of ['[EMAIL]', '[PHONE]', '[CARD]', '[SSN]', '[IBAN]', '[IP]']) t.ok(content.includes(tag), `${tag} present`);
  t.equal(parsed.created, 1700000000, 'timestamps untouched');
  t.equal(parsed.usage.prompt_tokens, 1234567, 'plain integers untouched');
  t.ok(count >= 7);
});

t.test('leaves numbers that are not card numbers', async (t) => {
  t.equal(redactPii('order 1234 5678 9012 3456 shipped').text, 'order 1234 5678 9012 3456 shipped', 'fails Luhn: kept');
  t.equal(redactPii('version 1.2.3 and 999.1.1.1').text, 'version 1.2.3 and 999.1.1.1');
});
