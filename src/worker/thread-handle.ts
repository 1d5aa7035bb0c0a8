import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { RedisTarget } from '../redis/connection.js';
import type { AnalysisInit, AnalysisReply, AnalysisRequest } from './analysis-side.js';

export interface AnalysisThread {
  /** The main registry's metrics merged with the analysis side's, as Prometheus text. */
  metricsText(main: Registry): Promise<string>;
  stop(): Promise<void>;
}

interface Endpoint {
  post(msg: AnalysisRequest): void;
  onReply(handler: (msg: AnalysisReply) => void): void;
  onFailure(handler: (err: Error) => void): void;
  exited: () => Promise<void>;
  kill(): Promise<void>;
}

/** Starts the analysis worker apart from the proxy: a thread or a child process (config worker.isolation). */
export async function startAnalysisThread(config: Config, target: RedisTarget, quiet: boolean): Promise<AnalysisThread> {
  // Built code runs .js; the test suite runs the TypeScript sources through its loader.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const init: AnalysisInit = { config, target, quiet };
  const endpoint = config.worker.isolation === 'process' ? childEndpoint(new URL(`./process${ext}`, import.meta.url), init) : threadEndpoint(new URL(`./thread${ext}`, import.meta.url), init);
  const pending = new Map<number, (data: unknown) => void>();
  let seq = 0;
  let stopped: (() => void) | undefined;
  let ready: Promise<void> = new Promise<void>((resolve, reject) => {
    endpoint.onFailure(reject);
    endpoint.onReply((msg) => {
      if (msg.type === 'ready') resolve();
      else if (msg.type === 'metrics') {
        pending.get(msg.seq)?.(msg.data);
        pending.delete(msg.seq);
      } else if (msg.type === 'stopped') stopped?.();
    });
  });
  await ready;
  ready = Promise.resolve();
  endpoint.onFailure((err) => console.error(JSON.stringify({ level: 'error', msg: 'analysis failed', err: err.message })));

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
        try {
          endpoint.post({ type: 'metrics', seq: n });
        } catch {
          // gone: the timer answers with nothing
        }
      });
      return AggregatorRegistry.aggregate([mine, theirs as typeof mine]).metrics();
    },
    async stop() {
      const done = new Promise<void>((r) => (stopped = r));
      try {
        endpoint.post({ type: 'stop' });
      } catch {
        // already gone
      }
      await Promise.race([done, endpoint.exited(), new Promise((r) => setTimeout(r, 10_000))]);
      await endpoint.kill();
    },
  };
}

function threadEndpoint(url: URL, init: AnalysisInit): Endpoint {
  const thread = new Worker(url, { workerData: init });
  const exited = once(thread, 'exit').then(() => undefined);
  return {
    post: (msg) => thread.postMessage(msg),
    onReply: (handler) => thread.on('message', handler),
    onFailure: (handler) => thread.on('error', handler),
    exited: () => exited,
    kill: async () => {
      await thread.terminate();
    },
  };
}

function childEndpoint(url: URL, init: AnalysisInit): Endpoint {
  // Structured clone, as a thread's workerData: Buffers (TLS material) and nested objects intact.
  const child: ChildProcess = fork(url, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.send(init);
  return {
    post: (msg) => {
      if (child.connected) child.send(msg);
      else throw new Error('analysis process is gone');
    },
    onReply: (handler) => child.on('message', handler),
    onFailure: (handler) => {
      child.on('error', handler);
      child.once('exit', (code, signal) => {
        if (code !== 0) handler(new Error(`analysis process exited with ${signal ?? code}`));
      });
    },
    exited: () => exited,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
