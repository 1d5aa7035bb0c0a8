import { CaptureError } from '../../capture/errors.js';
import type { Provider } from '../../capture/exchange.js';
import type { RawExchange } from '../../capture/raw.js';
import { isEmptyAnswer, readCaptured } from '../../capture/read.js';
import type { Config } from '../../config/schema.js';
import { analyse } from '../../detect/index.js';
import type { Verdict } from '../../detect/verdict.js';

/** One answer as the proxy holds it: what was asked and what came back, bytes as on the wire. */
export interface HeldAnswer {
  id: string;
  provider: Provider;
  route: string;
  app?: string;
  upstream: string;
  request: Buffer;
  response: Buffer;
  contentType: string;
  /** `content-encoding` of the response, when compressed. */
  encoding?: string;
  status: number;
  startedAt: number;
  endedAt: number;
}

export type Judgement = (
  | { verdict: Verdict; ms: number }
  /** Nothing to judge (an empty answer): the worker decides what it is. */
  | { skipped: string; ms: number }
  /** The bytes could not be read: passed through as they are. */
  | { error: string; ms: number }
) & { where?: 'loop' | 'thread' };

/**
 * The same detect entry the worker calls, on the same reading of the bytes (capture/read.ts):
 * raw exchange → Exchange → `analyse`. Never throws: a failure is a judgement too.
 */
export function judge(held: HeldAnswer, config: Pick<Config, 'detect' | 'capture'>): Judgement {
  const t0 = performance.now();
  const ms = () => performance.now() - t0;
  const compressed = held.encoding !== undefined && held.encoding !== '' && held.encoding !== 'identity';
  const raw: RawExchange = {
    id: held.id,
    provider: held.provider,
    route: held.route,
    app: held.app,
    upstream: held.upstream,
    request: held.request.toString('utf8'),
    // RawExchange carries a compressed body as base64 (see capture/decode.ts).
    response: held.response.toString(compressed ? 'base64' : 'utf8'),
    responseEncoding: compressed ? held.encoding : undefined,
    contentType: held.contentType,
    status: held.status,
    aborted: false,
    startedAt: held.startedAt,
    endedAt: held.endedAt,
  };
  try {
    const { exchange } = readCaptured(raw, config);
    if (isEmptyAnswer(exchange, false)) return { skipped: 'empty_response', ms: ms() };
    const verdict = analyse(exchange, config.detect);
    // analyse() answers an exchange it cannot read with an empty verdict rather than throw.
    if (verdict.provenance?.includes('error')) return { error: 'detector_error', ms: ms() };
    return { verdict, ms: ms() };
  } catch (err) {
    return { error: err instanceof CaptureError ? err.code : 'detector_error', ms: ms() };
  }
}
