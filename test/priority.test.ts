import { execFileSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import t from 'tap';

// Analysis yields the CPU to the proxy: `serve` lowers only its analysis thread, `worker` its
// whole process. Linux keeps nice values per thread, which is what makes the first possible.

const priorityModule = new URL('../src/worker/priority.ts', import.meta.url).href;

t.test('lowering the analysis thread leaves the main thread alone', { skip: process.platform !== 'linux' && 'per-thread nice is Linux only' }, async (t) => {
  const before = getPriority();
  const source = `
    import { parentPort } from 'node:worker_threads';
    import { readlinkSync } from 'node:fs';
    import { getPriority } from 'node:os';
    const { lowerPriority } = await import(${JSON.stringify(priorityModule)});
    const why = lowerPriority(7, 'thread');
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    parentPort.postMessage({ why, tid, nice: getPriority(tid) });
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { execArgv: process.execArgv });
  const msg = await new Promise<{ why?: string; tid: number; nice: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.equal(msg.why, undefined, 'no reason given: it was lowered');
  t.equal(msg.nice, Math.max(7, before), 'the thread runs at nice 7');
  t.not(msg.tid, process.pid, 'a thread other than the main one');
  t.equal(getPriority(), before, 'the main (proxy) thread keeps its priority');
});

t.test('lowering a worker process covers all its threads, and 0 changes nothing', { skip: process.platform !== 'linux' && 'per-thread nice is Linux only' }, async (t) => {
  const script = `
    const { lowerPriority } = await import(${JSON.stringify(priorityModule)});
    const { readdirSync } = await import('node:fs');
    const { getPriority } = await import('node:os');
    const tids = () => readdirSync('/proc/self/task').map(Number);
    const at0 = (lowerPriority(0, 'process'), tids().map((tid) => getPriority(tid)));
    const why = lowerPriority(12, 'process');
    console.log(JSON.stringify({ why, at0, after: tids().map((tid) => getPriority(tid)) }));
  `;
  const out = execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  const { why, at0, after } = JSON.parse(out.trim().split('\n').pop()!) as { why?: string; at0: number[]; after: number[] };
  const base = getPriority();
  t.ok(at0.every((n) => n === base), 'nice 0 leaves every thread as it was');
  t.equal(why, undefined);
  t.ok(after.length > 1, `${after.length} threads`);
  t.ok(after.every((n) => n === Math.max(12, base)), `every thread at nice 12: ${after.join(',')}`);
});
