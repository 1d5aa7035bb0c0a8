import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// Hop-by-hop headers (RFC 9110 §7.6.1) and ones the proxy itself sets; never forwarded.
const REQUEST_DROP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'host', 'content-length',
  'x-veracity-app', 'x-veracity-id', 'x-veracity-inline',
]);
const RESPONSE_DROP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function withoutListed(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, drop: Set<string>): Record<string, string | string[]> {
  // Headers named in `Connection` are hop-by-hop too.
  const named = headers.connection;
  const extra = typeof named === 'string' ? named.toLowerCase().split(',').map((s) => s.trim()) : [];
  const out: Record<string, string | string[]> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || drop.has(key) || (extra.length > 0 && extra.includes(key))) continue;
    out[key] = value;
  }
  return out;
}

export function upstreamRequestHeaders(headers: IncomingHttpHeaders, upstreamHost: string): Record<string, string | string[]> {
  const out = withoutListed(headers, REQUEST_DROP);
  out.host = upstreamHost;
  return out;
}

export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>, id: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = withoutListed(headers, RESPONSE_DROP);
  out['x-veracity-id'] = id;
  return out;
}
