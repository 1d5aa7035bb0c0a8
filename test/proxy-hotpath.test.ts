import { randomBytes } from 'node:crypto';
import t from 'tap';
import { background } from '../src/queue/background.js';
import { CaptureBuffer, pooledSlabs, SLAB } from '../src/proxy/capture-buffer.js';

t.test('CaptureBuffer holds the request then the response, growing as chunks arrive', async (t) => {
  const request = Buffer.from('{"model":"m"}');
  const chunks = Array.from({ length: 300 }, (_, i) => randomBytes(1 + (i % 97)));
  const copy = new CaptureBuffer(request, 1 << 20);
  for (const c of chunks) copy.append(c);
  t.equal(copy.requestBytes, request.length);
  t.ok(copy.take().equals(Buffer.concat([request, ...chunks])), 'byte-identical to request + chunks');
  t.equal(copy.truncated, false);
});

t.test('CaptureBuffer spans slabs for long requests and responses, including chunks larger than a slab', async (t) => {
  const request = randomBytes(40_000);
  const chunks = [randomBytes(10), randomBytes(70_000), ...Array.from({ length: 500 }, () => randomBytes(170)), randomBytes(SLAB)];
  const copy = new CaptureBuffer(request, 1 << 20);
  for (const c of chunks) copy.append(c);
  t.ok(copy.take().equals(Buffer.concat([request, ...chunks])), 'byte-identical across slabs');
  t.equal(copy.requestBytes, 40_000);
  const empty = new CaptureBuffer(undefined, 100);
  t.equal(empty.take().length, 0, 'nothing captured is an empty buffer');
});

t.test('CaptureBuffer cuts the response at its limit and says so', async (t) => {
  const copy = new CaptureBuffer(undefined, 100);
  copy.append(Buffer.alloc(60, 'a'));
  copy.append(Buffer.alloc(60, 'b'));
  copy.append(Buffer.alloc(60, 'c'));
  t.equal(copy.requestBytes, 0);
  t.equal(copy.take().toString(), 'a'.repeat(60) + 'b'.repeat(40));
  t.equal(copy.truncated, true);
});

t.test('CaptureBuffer copies chunks, so reused socket buffers cannot change the capture', async (t) => {
  const copy = new CaptureBuffer(Buffer.from('q'), 1000);
  const chunk = Buffer.from('abcd');
  copy.append(chunk);
  chunk.fill('z');
  t.equal(copy.take().toString(), 'qabcd');
});

t.test('CaptureBuffer reuses its slabs, and a taken capture is independent of them', async (t) => {
  const first = new CaptureBuffer(Buffer.alloc(10, 'r'), 1 << 20);
  first.append(Buffer.alloc(3 * SLAB, 'x'));
  const before = pooledSlabs();
  const firstBytes = first.take();
  t.equal(pooledSlabs(), before + 4, 'its four slabs went back to the pool');
  t.same(first.take(), Buffer.alloc(0), 'a second take finds it empty');
  first.append(Buffer.from('late'));
  t.equal(first.take().length, 0, 'a taken capture takes no more chunks');

  // The next captures get those same slabs back and overwrite them: what was taken must not change.
  const second = new CaptureBuffer(undefined, 1 << 20);
  second.append(Buffer.alloc(4 * SLAB, 'y'));
  t.equal(pooledSlabs(), before, 'the pool lent its slabs out again');
  t.ok(firstBytes.equals(Buffer.concat([Buffer.alloc(10, 'r'), Buffer.alloc(3 * SLAB, 'x')])), 'the first capture is intact');
  t.ok(second.take().equals(Buffer.alloc(4 * SLAB, 'y')));
});

t.test('the slab pool is bounded', async (t) => {
  const many = Array.from({ length: 600 }, () => {
    const c = new CaptureBuffer(undefined, 1 << 20);
    c.append(Buffer.alloc(10));
    return c;
  });
  for (const c of many) c.take();
  t.equal(pooledSlabs(), 512, 'at most 512 free slabs (8 MiB) are kept');
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
