import { Worker } from 'node:worker_threads';
import type { Config } from '../../config/schema.js';
import { judge, type HeldAnswer, type Judgement } from './judge.js';
import type { JudgeReply, JudgeRequest } from './judge-thread-main.js';

/**
 * Where inline mode judges an answer. Above inline.threadAboveBytes (request + response bytes),
 * on a small pool of threads: at the size limits detection takes tens of milliseconds, which on
 * the event loop would hold up every other request and stream this proxy is relaying. Below it,
 * on the event loop: up to a 1,000-token answer with its context it takes a few milliseconds at
 * most, and the hand-off to a thread and back would add about as much again to the answer's own
 * wait (docs/inline.md has the figures).
 */
export class Judges {
  private threads: Array<{ worker: Worker; busy: number }> = [];
  private readonly pending = new Map<number, { thread: Worker; done: (j: Judgement) => void }>();
  private seq = 0;
  private closed = false;

  constructor(private readonly config: Config) {}

  judge(held: HeldAnswer): Judgement | Promise<Judgement> {
    const bytes = held.request.length + held.response.length;
    if (this.closed || bytes <= this.config.inline.threadAboveBytes || this.config.inline.threads === 0) return judge(held, this.config);
    const thread = this.pick();
    const n = ++this.seq;
    const t0 = performance.now();
    return new Promise<Judgement>((resolve) => {
      this.pending.set(n, {
        thread: thread.worker,
        done: (j) => {
          thread.busy--;
          // What the request waited: the thread's own time and the hand-off both ways.
          resolve({ ...j, ms: performance.now() - t0, where: 'thread' });
        },
      });
      thread.busy++;
      thread.worker.postMessage({ n, held } satisfies JudgeRequest);
    });
  }

  private pick() {
    while (this.threads.length < this.config.inline.threads) this.threads.push(this.start());
    return this.threads.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private start() {
    // Built code runs the .js; the test suite runs the TypeScript sources through its loader.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const { detect, capture } = this.config;
    const worker = new Worker(new URL(`./judge-thread-main${ext}`, import.meta.url), { workerData: { detect, capture } });
    worker.unref();
    const entry = { worker, busy: 0 };
    worker.on('message', ({ n, judgement }: JudgeReply) => {
      const waiting = this.pending.get(n);
      this.pending.delete(n);
      waiting?.done(judgement);
    });
    const fail = (why: string) => {
      // A dead thread fails nothing: what it held is passed through (counted as errors), and the next large answer starts another.
      this.threads = this.threads.filter((t) => t !== entry);
      for (const [n, waiting] of this.pending) {
        if (waiting.thread !== worker) continue;
        this.pending.delete(n);
        waiting.done({ error: why, ms: 0, where: 'thread' });
      }
    };
    worker.on('error', () => fail('thread_error'));
    worker.on('exit', () => fail('thread_exit'));
    return entry;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.threads = [];
  }
}
