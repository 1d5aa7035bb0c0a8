import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import t from 'tap';

// Analysis yields the CPU to the proxy: `serve` lowers only its analysis thread, `worker` its
// whole process. Linux keeps nice values per thread, which is what makes the first possible.

const priorityModule = new URL('../src/worker/priority.ts', import.meta.url).href;

/** Scheduling policy of a thread (field 41 of its stat line): 0 normal, 5 SCHED_IDLE. */
const POLICY_SOURCE = `(tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ').pop().split(' ')[38])`;
const policyOf = new Function('readFileSync', `return ${POLICY_SOURCE}`)(readFileSync) as (tid: number) => number;

t.test('lowering the analysis thread leaves the main thread alone', { skip: process.platform !== 'linux' && 'per-thread nice is Linux only' }, async (t) => {
  const before = getPriority();
  const source = `
    import { parentPort } from 'node:worker_threads';
    import { readlinkSync } from 'node:fs';
    import { getPriority } from 'node:os';
    import { readFileSync } from 'node:fs';
    const { lowerPriority } = await import(${JSON.stringify(priorityModule)});
    const why = lowerPriority(7, 'thread', true);
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const policy = (${POLICY_SOURCE})(tid);
    parentPort.postMessage({ why, tid, nice: getPriority(tid), policy });
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { execArgv: process.execArgv });
  const msg = await new Promise<{ why?: string; tid: number; nice: number; policy: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.equal(msg.why, undefined, 'no reason given: it was lowered');
  t.equal(msg.nice, Math.max(7, before), 'the thread runs at nice 7');
  t.equal(msg.policy, 5, 'and under SCHED_IDLE');
  t.equal(policyOf(process.pid), 0, 'the main (proxy) thread keeps the normal policy');
  t.not(msg.tid, process.pid, 'a thread other than the main one');
  t.equal(getPriority(), before, 'the main (proxy) thread keeps its priority');
});

t.test('lowering a worker process covers all its threads, and 0 changes nothing', { skip: process.platform !== 'linux' && 'per-thread nice is Linux only' }, async (t) => {
  const script = `
    const { lowerPriority } = await import(${JSON.stringify(priorityModule)});
    const { readdirSync, readFileSync } = await import('node:fs');
    const { getPriority } = await import('node:os');
    const tids = () => readdirSync('/proc/self/task').map(Number);
    const policy = ${POLICY_SOURCE};
    const at0 = (lowerPriority(0, 'process', true), tids().map((tid) => [getPriority(tid), policy(tid)]));
    const why = lowerPriority(12, 'process', process.env.IDLE === '1');
    console.log(JSON.stringify({ why, at0, after: tids().map((tid) => getPriority(tid)), policies: tids().map(policy) }));
  `;
  const run = (env: Record<string, string>) => {
    const out = execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
    return JSON.parse(out.trim().split('\n').pop()!) as { why?: string; at0: number[][]; after: number[]; policies: number[] };
  };
  const { why, at0, after, policies } = run({ IDLE: '1' });
  const base = getPriority();
  t.ok(at0.every(([n, p]) => n === base && p === 0), 'nice 0 leaves every thread as it was, idle scheduling included');
  t.equal(why, undefined);
  t.ok(after.length > 1, `${after.length} threads`);
  t.ok(after.every((n) => n === Math.max(12, base)), `every thread at nice 12: ${after.join(',')}`);
  t.ok(policies.every((p) => p === 5), `every thread under SCHED_IDLE: ${policies.join(',')}`);

  const plain = run({ IDLE: '0' });
  t.equal(plain.why, undefined);
  t.ok(plain.policies.every((p) => p === 0), 'without idle scheduling the policy stays normal');

  const noChrt = run({ IDLE: '1', PATH: '/nonexistent' });
  t.match(noChrt.why, /SCHED_IDLE.*chrt \(util-linux\) is not installed/, 'a missing chrt is reported');
  t.ok(noChrt.after.every((n) => n === Math.max(12, base)), 'and the nice value still applies');
});
