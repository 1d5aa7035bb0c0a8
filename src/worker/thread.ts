import { parentPort, workerData } from 'node:worker_threads';
import { runAnalysisSide, type AnalysisInit, type AnalysisRequest } from './analysis-side.js';

/** The analysis side of `serve` on its own thread (worker.isolation: thread). */
export type { AnalysisReply as ThreadReply, AnalysisRequest as ThreadRequest } from './analysis-side.js';

const port = parentPort;
if (!port) throw new Error('src/worker/thread.ts runs only as a worker thread');
runAnalysisSide(workerData as AnalysisInit, 'thread', {
  send: (reply) => port.postMessage(reply),
  onRequest: (handler) => port.on('message', (msg: AnalysisRequest) => handler(msg)),
  close: () => port.close(),
});
