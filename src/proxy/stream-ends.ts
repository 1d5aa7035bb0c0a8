import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** Called once when an answer's copy to the client ends: null when the client has the last byte. */
export type Done = (err: NodeJS.ErrnoException | null) => void;

/** `done`, run the first time only. */
export function settleOnce(done: Done): Done {
  let settled = false;
  return (err) => {
    if (settled) return;
    settled = true;
    done(err);
  };
}

/**
 * Ties the two ends of a copy from an upstream body to a client: an upstream body that fails
 * destroys the client's response, a client gone before the last byte destroys the upstream body;
 * either settles with its error.
 */
export function tieEnds(source: Readable, res: ServerResponse, settle: Done): void {
  source.on('error', (err: NodeJS.ErrnoException) => {
    res.destroy();
    settle(err);
  });
  res.once('close', () => {
    if (res.writableFinished) return;
    source.destroy();
    settle(Object.assign(new Error('client closed the connection'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
}
