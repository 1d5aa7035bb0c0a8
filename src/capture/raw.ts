import type { Verdict } from '../detect/verdict.js';
import type { Provider } from './exchange.js';

/**
 * What the proxy hands to the queue: the bytes as they crossed the wire, copied aside.
 * Decoding and parsing happen in the worker, off the request path.
 */
export interface RawExchange {
  id: string;
  provider: Provider;
  /** Route family: `chat.completions`, `completions`, `responses`, `messages`. */
  route: string;
  app?: string;
  /** Name of the configured upstream that answered (`openai`, `anthropic` or a named one); absent from older proxies. */
  upstream?: string;
  /** Request body as sent upstream (UTF-8 JSON text). */
  request: string;
  /** Response body: UTF-8 text, or base64 when `responseEncoding` is set. */
  response: string;
  /** `content-encoding` of the upstream body (gzip, br, deflate) when it was compressed. */
  responseEncoding?: string;
  contentType?: string;
  status: number;
  aborted: boolean;
  /** Why the relay ended early, when it did: `reset`, `timeout`, `client_abort`. */
  error?: string;
  /** Which sides were cut at `capture.maxBodyBytes`. */
  truncated?: { request?: boolean; response?: boolean };
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  /**
   * The verdict the proxy already gave the client (inline mode), with `inline` saying what it did:
   * the worker stores and counts this one instead of judging the exchange again.
   */
  inlineVerdict?: Verdict;
}
