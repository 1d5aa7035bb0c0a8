import t from 'tap';
import { connect, type Socket } from 'node:net';
import { startStack } from './helpers/stack.js';
import { sleep } from './helpers/processes.js';

// Clients that send their headers or body a byte at a time are cut off by server.headersTimeoutMs
// and server.requestTimeoutMs, while everyone else keeps being served.

const HEADERS_TIMEOUT = 800;
const REQUEST_TIMEOUT = 1500;

const { redis, upstream, proxy, port } = await startStack(t, {
  overrides: (raw, upstream) => {
    raw.server = { ...(raw.server as object), headersTimeoutMs: HEADERS_TIMEOUT, requestTimeoutMs: REQUEST_TIMEOUT };
  },
});

interface Drip {
  /** When the server closed the connection, ms after the first byte, or -1 if still open at the end. */
  closedAfter: Promise<number>;
  /** What the server sent back, if anything. */
  received: () => string;
  sock: Socket;
}

/** Sends `text` one byte every `everyMs` until it is all sent or the server closes the socket. */
function drip(text: string, everyMs: number, giveUpMs: number, prefix = ''): Drip {
  const sock = connect(port, '127.0.0.1');
  let received = '';
  sock.on('data', (d) => (received += d));
  sock.on('error', () => {});
  const closedAfter = new Promise<number>((resolve) => {
    let startedAt = 0;
    let i = 0;
    let timer: NodeJS.Timeout;
    const giveUp = setTimeout(() => {
      clearTimeout(timer);
      sock.destroy();
      resolve(-1);
    }, giveUpMs);
    sock.on('connect', () => {
      startedAt = Date.now();
      if (prefix) sock.write(prefix);
      const next = () => {
        if (sock.destroyed || i >= text.length) return;
        sock.write(text[i++]!);
        timer = setTimeout(next, everyMs);
      };
      next();
    });
    sock.on('close', () => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      resolve(Date.now() - startedAt);
    });
  });
  return { closedAfter, received: () => received, sock };
}

/** Plain requests, one after another, for as long as `until` is pending: every answer must be 200. */
async function steadyTraffic(until: Promise<unknown>): Promise<{ ok: number; failed: string[] }> {
  let done = false;
  until.then(() => (done = true));
  const out = { ok: 0, failed: [] as string[] };
  while (!done) {
    try {
      const res = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-steady', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.arrayBuffer();
      if (res.status === 200) out.ok++;
      else out.failed.push(String(res.status));
    } catch (err) {
      out.failed.push((err as Error).message);
    }
    await sleep(20);
  }
  return out;
}

t.test('headers a byte at a time: cut off near headersTimeoutMs, others served meanwhile', async (t) => {
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: ${'a'.repeat(400)}\r\n\r\n`;
  const clients = Array.from({ length: 20 }, () => drip(head, 50, 10_000));
  const all = Promise.all(clients.map((c) => c.closedAfter));
  const traffic = await steadyTraffic(all);
  const closed = await all;
  for (const ms of closed) t.ok(ms > 0 && ms < HEADERS_TIMEOUT + 1500, `closed after ${ms} ms (headersTimeoutMs ${HEADERS_TIMEOUT})`);
  t.ok(clients.every((c) => !c.received().startsWith('HTTP/1.1 2')), 'no slow client was proxied');
  // At least one in the window, however busy the machine (other test files run alongside).
  t.ok(traffic.ok >= 1, `${traffic.ok} normal requests served meanwhile`);
  t.same(traffic.failed, [], 'none of them failed');
});

t.test('a body a byte at a time: cut off near requestTimeoutMs, never reaching the upstream', async (t) => {
  const body = JSON.stringify({ model: 'gpt-slow-body', messages: [{ role: 'user', content: 'x'.repeat(200) }] });
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const before = upstream.seen.filter((s) => s.body.includes('gpt-slow-body')).length;
  // Headers at once, then the body dribbles.
  const clients = Array.from({ length: 20 }, () => drip(body, 40, 10_000, head));
  const all = Promise.all(clients.map((c) => c.closedAfter));
  const traffic = await steadyTraffic(all);
  const closed = await all;
  for (const ms of closed) t.ok(ms > 0 && ms < REQUEST_TIMEOUT + 1500, `closed after ${ms} ms (requestTimeoutMs ${REQUEST_TIMEOUT})`);
  t.ok(clients.every((c) => c.received() === '' || /^HTTP\/1\.1 (408|4\d\d)/.test(c.received())), 'answered 408 or just closed');
  t.equal(upstream.seen.filter((s) => s.body.includes('gpt-slow-body')).length, before, 'no partial body went upstream');
  t.ok(traffic.ok >= 1, `${traffic.ok} normal requests served meanwhile`);
  t.same(traffic.failed, [], 'none of them failed');
});

t.test('an idle connection that never sends a byte is closed too', async (t) => {
  const d = drip('', 1000, 10_000);
  const ms = await d.closedAfter;
  t.ok(ms > 0 && ms < HEADERS_TIMEOUT + 1500, `closed after ${ms} ms`);
});
