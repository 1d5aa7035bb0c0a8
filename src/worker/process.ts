import { runAnalysisSide, type AnalysisInit, type AnalysisRequest } from './analysis-side.js';

/**
 * The analysis side of `serve` in a child process (worker.isolation: process). A thread shares the
 * process's V8 helper threads (garbage collection, optimising compiler) with the proxy, and those
 * run at the proxy's priority whatever the analysis thread's; in a process of its own every
 * thread of analysis is lowered. It takes its orders from `serve` over the IPC channel and ends
 * when that channel closes: a `serve` killed outright leaves no analysis process behind.
 */
if (!process.send) throw new Error('src/worker/process.ts runs only as a child process of serve');
const send = process.send.bind(process);
// Ctrl-C reaches the whole process group: serve decides when analysis stops.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

process.once('message', (init: AnalysisInit) => {
  const side = runAnalysisSide(init, 'process', {
    send: (reply) => send(reply),
    onRequest: (handler) => process.on('message', (msg: AnalysisRequest) => handler(msg)),
    close: () => process.disconnect(),
  });
  process.once('disconnect', () => {
    // serve went away without saying stop (killed): jobs in hand go back to the queue.
    void Promise.race([side.stop(), new Promise((r) => setTimeout(r, 3000))]).finally(() => process.exit(0));
  });
});
