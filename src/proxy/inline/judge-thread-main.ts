import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../../config/schema.js';
import { judge, type HeldAnswer, type Judgement } from './judge.js';

/**
 * A thread that judges large held answers for inline mode (judge-thread.ts), so their detection
 * (tens of milliseconds at the size limits) never stalls the proxy's event loop.
 */
export type JudgeRequest = { n: number; held: HeldAnswer };
export type JudgeReply = { n: number; judgement: Judgement };

const port = parentPort;
if (!port) throw new Error('judge-thread-main runs only as a worker thread');
const config = workerData as Pick<Config, 'detect' | 'capture'>;
port.on('message', ({ n, held }: JudgeRequest) => {
  // Buffers arrive as plain Uint8Arrays.
  const answer: HeldAnswer = { ...held, request: Buffer.from(held.request.buffer, held.request.byteOffset, held.request.byteLength), response: Buffer.from(held.response.buffer, held.response.byteOffset, held.response.byteLength) };
  port.postMessage({ n, judgement: judge(answer, config) } satisfies JudgeReply);
});
