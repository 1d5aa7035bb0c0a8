import type { Config } from '../config/schema.js';
import type { Provider } from '../capture/exchange.js';

/** A configured upstream as the proxy sees it. The client never supplies any part of the origin. */
export interface Upstream {
  name: string;
  dialect: Provider;
  url: URL;
  /** Path prefix the upstream is mounted under (`''` for the two default upstreams). */
  prefix: string;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  connectTimeoutMs: number;
  connections: number;
  tlsVerify: boolean;
}

/** What a request resolved to: where it goes, and whether its exchange is analysed. */
export interface Target {
  upstream: Upstream;
  /** Route family for analysed routes (`chat.completions`, `completions`, `responses`, `messages`), else `passthrough`. */
  route: string;
  analysed: boolean;
  /** Path (and query) sent upstream: the upstream's own base path + the client's path less the mount prefix. */
  upstreamPath: string;
}

const ANALYSED: Record<Provider, Record<string, string>> = {
  openai: { '/v1/chat/completions': 'chat.completions', '/v1/completions': 'completions', '/v1/responses': 'responses' },
  anthropic: { '/v1/messages': 'messages' },
};

export function buildUpstreams(config: Config): Upstream[] {
  const list: Upstream[] = [];
  const add = (name: string, dialect: Provider, prefix: string, u: Config['upstreams']['openai']) =>
    list.push({
      name,
      dialect,
      prefix,
      url: new URL(u.url),
      headersTimeoutMs: u.headersTimeoutMs,
      bodyTimeoutMs: u.bodyTimeoutMs,
      connectTimeoutMs: u.connectTimeoutMs,
      connections: u.connections,
      tlsVerify: u.tlsVerify,
    });
  add('openai', 'openai', '', config.upstreams.openai);
  add('anthropic', 'anthropic', '', config.upstreams.anthropic);
  for (const [name, u] of Object.entries(config.upstreams.named)) {
    add(name, u.dialect, u.prefix ?? `/${name}`, u);
  }
  return list;
}

/**
 * Maps a request to its target, or undefined when no configured upstream serves the path.
 * `rawUrl` must be origin-form (`/path?query`); anything else is refused by the caller first.
 */
export function resolveTarget(
  upstreams: readonly Upstream[],
  method: string,
  rawUrl: string,
  headers: Record<string, string | string[] | undefined>,
): Target | undefined {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);

  let openai: Upstream | undefined;
  let anthropic: Upstream | undefined;
  let rest = path;
  const named = upstreams.find((u) => u.prefix !== '' && (path === u.prefix || path.startsWith(u.prefix + '/')));
  if (named) {
    rest = path.slice(named.prefix.length) || '/';
    if (!rest.startsWith('/v1/') && rest !== '/v1') return undefined;
    openai = anthropic = named;
  } else {
    if (!path.startsWith('/v1/')) return undefined;
    openai = upstreams.find((u) => u.name === 'openai');
    anthropic = upstreams.find((u) => u.name === 'anthropic');
  }
  if (!openai || !anthropic) return undefined;

  let upstream: Upstream;
  if (named) upstream = named;
  // Anthropic's API lives under /v1/messages; other /v1/* paths go to the OpenAI upstream unless
  // the client speaks Anthropic (its SDKs always send anthropic-version).
  else if (rest === '/v1/messages' || rest.startsWith('/v1/messages/') || headers['anthropic-version'] !== undefined) upstream = anthropic;
  else upstream = openai;

  const family = method === 'POST' ? ANALYSED[upstream.dialect][rest] : undefined;
  const base = upstream.url.pathname.replace(/\/+$/, '');
  return {
    upstream,
    route: family ?? 'passthrough',
    analysed: family !== undefined,
    upstreamPath: base + rest + query,
  };
}
