import t from 'tap';
import { connect } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildProxy } from '../src/proxy/server.js';
import { loadConfig } from '../src/config/load.js';
import { createMetrics } from '../src/metrics/registry.js';
import { startUpstream, type FakeUpstream } from './helpers/upstream.js';

// Upstream hosts come only from configuration. A second loopback server plays the attacker's
// host: every trick a client has for naming a host (absolute-form targets, CONNECT, Host and
// forwarding headers, scheme-relative and dot-segment paths, userinfo) is tried, and the attacker
// must see not one TCP connection. Requests that do get through must reach the configured upstream
// with its own Host and a path under its base.

let upstream: FakeUpstream;
let attacker: Server;
let attackerConnections = 0;
let attackerRequests: string[] = [];
let app: FastifyInstance;
let port = 0;
let atk = '';

t.before(async () => {
  upstream = await startUpstream();
  attacker = createServer((req, res) => {
    attackerRequests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"pwned":true}');
  });
  attacker.on('connection', () => attackerConnections++);
  attacker.on('connect', (req, socket) => {
    attackerRequests.push(`CONNECT ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
  atk = `127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  const { config } = loadConfig({
    env: { VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url, PORT: '0' },
    overrides: (raw) => {
      raw.upstreams = { ...(raw.upstreams as object), named: { ollama: { url: `${upstream.url}/base`, dialect: 'openai', prefix: '/ollama' } } };
    },
  });
  ({ app } = buildProxy({ config, metrics: createMetrics(), logger: false }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

t.teardown(async () => {
  await app?.close();
  await upstream?.close();
  attacker?.closeAllConnections();
  await new Promise((r) => attacker?.close(r));
});

/** Writes a request exactly as given; resolves with the status code, or 0 if the proxy just closed. */
function raw(head: string, body = ''): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(head + body));
    let data = '';
    const timer = setTimeout(() => sock.destroy(), 3000);
    sock.on('data', (d) => {
      data += d;
      if (data.includes('\r\n\r\n')) sock.end();
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0));
    });
    sock.on('error', () => {});
  });
}

const get = (target: string, headers: string[] = []) => raw(`GET ${target} HTTP/1.1\r\nHost: ${atk}\r\n${headers.map((h) => h + '\r\n').join('')}Connection: close\r\n\r\n`);
const post = (target: string, headers: string[] = []) => {
  const body = '{"model":"gpt-x","messages":[]}';
  return raw(`POST ${target} HTTP/1.1\r\nHost: ${atk}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${headers.map((h) => h + '\r\n').join('')}Connection: close\r\n\r\n`, body);
};

t.test('no request target, method or header reaches a host other than the configured upstream', async (t) => {
  const refused = [
    ['absolute-form GET', () => get(`http://${atk}/v1/models`)],
    ['absolute-form POST to an analysed route', () => post(`http://${atk}/v1/chat/completions`)],
    ['absolute-form https', () => get(`https://${atk}/v1/models`)],
    ['absolute-form with userinfo', () => get(`http://user@${atk}/v1/models`)],
    ['CONNECT', () => raw(`CONNECT ${atk} HTTP/1.1\r\nHost: ${atk}\r\n\r\n`)],
    ['scheme-relative path', () => get(`//${atk}/v1/models`)],
    ['triple slash', () => get(`///${atk}/v1/models`)],
    ['scheme-relative path under /v1', () => get(`//${atk}/v1/chat/completions`)],
    ['dot-segments', () => get(`/v1/../../${atk}/v1/models`)],
    ['encoded dot-segments', () => get(`/v1/%2e%2e/%2E%2e/${atk}/v1/models`)],
    ['mixed dot-segments', () => get(`/v1/.%2e/x`)],
    ['named prefix climbing out', () => get(`/ollama/v1/../../../v1/models`)],
    ['asterisk-form OPTIONS', () => raw(`OPTIONS * HTTP/1.1\r\nHost: ${atk}\r\nConnection: close\r\n\r\n`)],
    ['backslash scheme-relative', () => get(`/\\${atk}/v1/models`)],
  ] as const;
  for (const [name, attempt] of refused) {
    const status = await attempt();
    t.ok(status === 0 || (status >= 400 && status < 500), `${name}: refused (${status || 'connection closed'})`);
  }

  const before = upstream.seen.length;
  const forwarded = [
    ['Host header', () => get('/v1/models')],
    ['X-Forwarded-Host', () => get('/v1/models', [`X-Forwarded-Host: ${atk}`, 'X-Forwarded-Proto: http', `Forwarded: host=${atk};proto=http`])],
    ['X-Original-URL / X-Rewrite-URL', () => get('/v1/models', [`X-Original-URL: http://${atk}/v1/models`, `X-Rewrite-URL: http://${atk}/v1/models`])],
    ['userinfo-looking path', () => get(`/v1/models@${atk}`)],
    ['encoded slashes', () => get(`/v1/%2F%2F${atk}/v1/models`)],
    ['Upgrade request', () => get('/v1/models', ['Upgrade: websocket', 'Connection: Upgrade'])],
    ['analysed POST with forwarding headers', () => post('/v1/chat/completions', [`X-Forwarded-Host: ${atk}`, `X-Forwarded-For: ${atk}`])],
    ['named upstream with Host header', () => post('/ollama/v1/chat/completions', [`X-Forwarded-Host: ${atk}`])],
  ] as const;
  for (const [name, attempt] of forwarded) {
    const status = await attempt();
    t.ok(status === 0 || status < 600, `${name}: answered ${status || '(connection closed)'}`);
  }
  const reached = upstream.seen.slice(before);
  t.ok(reached.length >= forwarded.length - 1, `${reached.length} of those reached the configured upstream`);
  const host = new URL(upstream.url).host;
  for (const s of reached) {
    t.equal(s.headers.host, host, `${s.method} ${s.url}: the upstream's own Host`);
    t.ok(s.url.startsWith('/v1/') || s.url.startsWith('/base/v1/'), `${s.url}: path under the upstream's base`);
  }
  t.ok(upstream.seen.every((s) => !s.url.includes('..')), 'no dot-segment path ever went upstream');

  await new Promise((r) => setTimeout(r, 100));
  t.equal(attackerConnections, 0, 'the attacker host saw no connection');
  t.same(attackerRequests, [], 'and no request');
});
