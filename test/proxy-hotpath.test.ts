import { randomBytes } from 'node:crypto';
import t from 'tap';
import { background } from '../src/queue/background.js';
import { CaptureBuffer } from '../src/proxy/capture-buffer.js';

t.test('CaptureBuffer holds the request then the response, growing as chunks arrive', async (t) => {
  const request = Buffer.from('{"model":"m"}');
  const chunks = Array.from({ length: 300 }, (_, i) => randomBytes(1 + (i % 97)));
  const copy = new CaptureBuffer(request, 0, 1 << 20);
  for (const c of chunks) copy.append(c);
  t.equal(copy.requestBytes, request.length);
  t.ok(copy.bytes().equals(Buffer.concat([request, ...chunks])), 'byte-identical to request + chunks');
  t.equal(copy.truncated, false);
});

t.test('CaptureBuffer spans slabs for long responses, including chunks larger than a slab', async (t) => {
  const request = randomBytes(40_000);
  const chunks = [randomBytes(10), randomBytes(70_000), ...Array.from({ length: 500 }, () => randomBytes(170)), randomBytes(16 * 1024)];
  const copy = new CaptureBuffer(request, 0, 1 << 20);
  for (const c of chunks) copy.append(c);
  t.ok(copy.bytes().equals(Buffer.concat([request, ...chunks])), 'byte-identical across slabs');
  t.equal(copy.requestBytes, 40_000);
  const announced = new CaptureBuffer(Buffer.from('q'), 6, 100);
  announced.append(Buffer.from('abc'));
  announced.append(Buffer.from('def'));
  t.equal(announced.bytes().toString(), 'qabcdef', 'an announced size fills one exact slab');
});

t.test('CaptureBuffer cuts the response at its limit and says so', async (t) => {
  const copy = new CaptureBuffer(undefined, 10, 100);
  copy.append(Buffer.alloc(60, 'a'));
  copy.append(Buffer.alloc(60, 'b'));
  copy.append(Buffer.alloc(60, 'c'));
  t.equal(copy.requestBytes, 0);
  t.equal(copy.bytes().toString(), 'a'.repeat(60) + 'b'.repeat(40));
  t.equal(copy.truncated, true);
});

t.test('CaptureBuffer copies chunks, so reused socket buffers cannot change the capture', async (t) => {
  const copy = new CaptureBuffer(Buffer.from('q'), 4, 1000);
  const chunk = Buffer.from('abcd');
  copy.append(chunk);
  chunk.fill('z');
  t.equal(copy.bytes().toString(), 'qabcd');
});

t.test('the background lane runs tasks in order, yields to I/O between turns, and survives a throwing task', async (t) => {
  const order: number[] = [];
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));

  // Each task burns 2 ms, over the lane's per-turn budget: an I/O callback (a timer here) that
  // becomes due meanwhile must get in between them instead of waiting for all 20.
  let timerRanAfter = -1;
  setTimeout(() => (timerRanAfter = order.length), 1);
  for (let i = 0; i < 20; i++) {
    background(() => {
      const until = performance.now() + 2;
      while (performance.now() < until);
      order.push(i);
      if (i === 5) throw new Error('task 5 failed');
    });
  }
  const deadline = Date.now() + 5000;
  while (order.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.same(order, Array.from({ length: 20 }, (_, i) => i), 'all ran, in order, despite task 5 throwing');
  t.ok(timerRanAfter > 0 && timerRanAfter < 20, `the timer ran between tasks (after ${timerRanAfter})`);
  await new Promise((r) => setImmediate(r));
  t.match(warnings, ['task 5 failed'], 'the failure is reported as a process warning');
});
