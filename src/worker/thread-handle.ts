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

/** How long an analysis side that died waits before the next start, doubling up to RESTART_MAX_MS. */
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;
/** One that ran this long before dying starts again after RESTART_FIRST_MS. */
const RESTART_RESET_MS = 60_000;

/**
 * Starts the analysis worker apart from the proxy: a thread or a child process (config
 * worker.isolation). Should it end without being told to (a crash, an out-of-memory kill, a
 * signal), serve says so on stderr and starts another, sooner the first time, then backing off:
 * the proxy never stopped, and exchanges waiting in the queue are analysed by the new one (jobs
 * the dead one held go back to the queue when their lock lapses).
 */
export async function startAnalysisThread(config: Config, target: RedisTarget, quiet: boolean): Promise<AnalysisThread> {
  // Built code runs .js; the test suite runs the TypeScript sources through its loader.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const init: AnalysisInit = { config, target, quiet };
  const layout = config.worker.isolation;
  const pending = new Map<number, (data: unknown) => void>();
  let seq = 0;
  let stopping = false;
  let stopped: (() => void) | undefined;
  let restartDelay = RESTART_FIRST_MS;
  let restartTimer: NodeJS.Timeout | undefined;

  const open = async (): Promise<Endpoint> => {
    const endpoint = layout === 'process' ? childEndpoint(new URL(`./process${ext}`, import.meta.url), init) : threadEndpoint(new URL(`./thread${ext}`, import.meta.url), init);
    await new Promise<void>((resolve, reject) => {
      endpoint.onFailure(reject);
      endpoint.exited().then(() => reject(new Error(`analysis ${layout} exited before it was ready`)));
      endpoint.onReply((msg) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'metrics') {
          pending.get(msg.seq)?.(msg.data);
          pending.delete(msg.seq);
        } else if (msg.type === 'stopped') stopped?.();
      });
    });
    endpoint.onFailure((err) => console.error(JSON.stringify({ level: 'error', msg: 'analysis failed', err: err.message })));
    const startedAt = Date.now();
    void endpoint.exited().then(() => {
      if (stopping) return;
      if (Date.now() - startedAt >= RESTART_RESET_MS) restartDelay = RESTART_FIRST_MS;
      restart(`analysis ${layout} exited unexpectedly`);
    });
    return endpoint;
  };
  const restart = (why: string) => {
    const delay = restartDelay;
    restartDelay = Math.min(RESTART_MAX_MS, restartDelay * 2);
    console.error(JSON.stringify({ level: 'error', msg: `${why}; starting another in ${delay} ms (requests are still served; queued exchanges wait for it)` }));
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      open().then(
        (e) => {
          if (stopping) void e.kill();
          else {
            endpoint = e;
            if (!quiet) console.error(JSON.stringify({ level: 'info', msg: `analysis ${layout} started again` }));
          }
        },
        (err: Error) => restart(`analysis ${layout} could not start again (${err.message})`),
      );
    }, delay);
    restartTimer.unref();
  };
  let endpoint = await open();

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
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
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
