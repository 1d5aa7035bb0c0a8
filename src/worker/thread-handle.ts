import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { RedisTarget } from '../redis/connection.js';
import type { ThreadReply, ThreadRequest } from './thread.js';

export interface AnalysisThread {
  /** The main registry's metrics merged with the thread's, as Prometheus text. */
  metricsText(main: Registry): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the analysis worker on a thread of its own (see thread.ts). */
export async function startAnalysisThread(config: Config, target: RedisTarget, quiet: boolean): Promise<AnalysisThread> {
  // Built code runs thread.js; the test suite runs the TypeScript sources through its loader.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const thread = new Worker(new URL(`./thread${ext}`, import.meta.url), { workerData: { config, target, quiet } });
  const pending = new Map<number, (data: unknown) => void>();
  let seq = 0;
  let stopped: (() => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    thread.once('error', reject);
    thread.on('message', (msg: ThreadReply) => {
      if (msg.type === 'ready') resolve();
      else if (msg.type === 'metrics') {
        pending.get(msg.seq)?.(msg.data);
        pending.delete(msg.seq);
      } else if (msg.type === 'stopped') stopped?.();
    });
  });
  await ready;
  thread.on('error', (err) => console.error(JSON.stringify({ level: 'error', msg: 'analysis thread failed', err: err.message })));
  const post = (msg: ThreadRequest) => thread.postMessage(msg);

  return {
    async metricsText(main) {
      const mine = await main.getMetricsAsJSON();
      const theirs = await new Promise<unknown>((resolve) => {
        const n = ++seq;
        const timer = setTimeout(() => {
          pending.delete(n);
          resolve([]);
        }, 2000);
        pending.set(n, (data) => {
          clearTimeout(timer);
          resolve(data);
        });
        post({ type: 'metrics', seq: n });
      });
      return AggregatorRegistry.aggregate([mine, theirs as typeof mine]).metrics();
    },
    async stop() {
      const done = new Promise<void>((r) => (stopped = r));
      post({ type: 'stop' });
      const exited = once(thread, 'exit').then(() => undefined);
      await Promise.race([done, exited, new Promise((r) => setTimeout(r, 10_000))]);
      await thread.terminate();
    },
  };
}
