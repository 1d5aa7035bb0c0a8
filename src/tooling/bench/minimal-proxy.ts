// The floor for any Node.js proxy on this machine: node:http in front, an undici Pool behind,
// the body relayed chunk by chunk with backpressure, and nothing else (no routing, no capture,
// no metrics). Veracity's figures minus these are what Veracity itself costs.
//   node dist/tooling/bench/minimal-proxy.js --port 8081 --upstream http://127.0.0.1:9000
import { once } from 'node:events';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
if (!values.port || !values.upstream) {
  process.stderr.write('usage: minimal-proxy --port N --upstream URL\n');
  process.exit(2);
}
const pool = new Pool(values.upstream, { connections: 2048 });

http
  .createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', async () => {
      try {
        const up = await pool.request({
          method: req.method as 'POST',
          path: req.url ?? '/',
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(parts),
        });
        const headers: Record<string, string> = { 'content-type': String(up.headers['content-type'] ?? 'application/octet-stream') };
        if (up.headers['content-length']) headers['content-length'] = String(up.headers['content-length']);
        res.writeHead(up.statusCode, headers);
        for await (const chunk of up.body) if (!res.write(chunk)) await once(res, 'drain');
        res.end();
      } catch {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      }
    });
  })
  .listen(Number(values.port), '127.0.0.1');
