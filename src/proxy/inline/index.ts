import type { IncomingHttpHeaders } from 'node:http';
import { Judges } from './judge-thread.js';
import { badInlineHeader, resolvePolicy } from './policy.js';
import { InlineSession, type InlineDeps, type InlineRequest } from './session.js';

export { INLINE_HEADER } from './policy.js';
export type { InlinePlan, InlineSession, UpstreamAnswer } from './session.js';

/**
 * Inline mode (docs/inline.md): the proxy judges an answer before the client has it. The relay
 * opens a session per analysed request; a session exists only when the request's policy is not
 * `off`, so with inline mode off nothing here runs past one lookup.
 */
export interface Inline {
  /** Why the request's `x-veracity-inline` header cannot be honoured (the proxy answers 400), or undefined. */
  badHeader(headers: IncomingHttpHeaders): string | undefined;
  /** The session for one request; undefined when inline mode is off for it. `model` as the body names it, `appHeader` as sent. */
  open(req: InlineRequest, model: string | undefined, appHeader: string | undefined): InlineSession | undefined;
  /** Stops the judging threads, if any started. */
  close(): Promise<void>;
}

export function createInline(deps: Omit<InlineDeps, 'judges'>): Inline {
  const config = deps.config.inline;
  const judges = new Judges(deps.config);
  const sessionDeps: InlineDeps = { ...deps, judges };
  return {
    close: () => judges.close(),
    badHeader: (headers) => badInlineHeader(headers, config),
    open(req, model, appHeader) {
      if (!req.target.analysed) return undefined;
      const policy = resolvePolicy(config, model, appHeader, req.headers);
      return policy ? new InlineSession(sessionDeps, req, policy) : undefined;
    },
  };
}
