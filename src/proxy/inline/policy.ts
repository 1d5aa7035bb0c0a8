import type { IncomingHttpHeaders } from 'node:http';
import type { FlagName, InlineConfig, InlineMode } from '../../config/schema.js';

/** What inline mode does for one request, once config, model, app and header are weighed. */
export interface InlinePolicy {
  mode: Exclude<InlineMode, 'off'>;
  retry: number;
  fallbackModel?: string;
  blockOn: readonly FlagName[];
}

export const INLINE_HEADER = 'x-veracity-inline';
const MODES: readonly string[] = ['off', 'annotate', 'block'];

/** Why a request's `x-veracity-inline` header cannot be honoured, or undefined when it can (or is absent). */
export function badInlineHeader(headers: IncomingHttpHeaders, config: InlineConfig): string | undefined {
  const value = headers[INLINE_HEADER];
  if (value === undefined) return undefined;
  if (!config.header) return `${INLINE_HEADER} is not accepted here (inline.header is false)`;
  if (typeof value !== 'string' || !MODES.includes(value.trim().toLowerCase())) {
    return `${INLINE_HEADER} must be one of off, annotate, block; got ${JSON.stringify(value).slice(0, 60)}`;
  }
  return undefined;
}

/**
 * The policy for one request, or undefined when inline mode is off for it. The most specific
 * wins: the request's own header (when inline.header allows it), then its app's entry
 * (`x-veracity-app`), then its model's, then the defaults. Retry, fallback model and blockOn
 * follow the same order (the header sets the mode only).
 */
export function resolvePolicy(config: InlineConfig, model: string | undefined, app: string | undefined, headers: IncomingHttpHeaders): InlinePolicy | undefined {
  const byModel = model !== undefined ? config.models[model] : undefined;
  const byApp = app !== undefined ? config.apps[app] : undefined;
  const header = config.header ? headers[INLINE_HEADER] : undefined;
  const asked = typeof header === 'string' ? header.trim().toLowerCase() : undefined;
  const mode = (asked !== undefined && MODES.includes(asked) ? asked : undefined) ?? byApp?.mode ?? byModel?.mode ?? config.mode;
  if (mode === 'off') return undefined;
  return {
    mode: mode as InlinePolicy['mode'],
    retry: byApp?.retry ?? byModel?.retry ?? config.retry,
    fallbackModel: byApp?.fallbackModel ?? byModel?.fallbackModel ?? config.fallbackModel,
    blockOn: byApp?.blockOn ?? byModel?.blockOn ?? config.blockOn,
  };
}
