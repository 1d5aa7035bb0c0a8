import t from 'tap';
import { createServer, connect, type Socket } from 'node:net';
import { ConfigSchema } from '../src/config/schema.js';
import { closeRedis, createBlockingRedis } from '../src/redis/connection.js';
import { aggregateKeys } from '../src/verdicts/aggregates.js';
import { VerdictStore } from '../src/verdicts/store.js';
import type { Verdict } from '../src/detect/verdict.js';
import { startRedisWithClient } from './helpers/redis.js';

// A worker's verdict write whose reply is lost: the primary ran it, then the connection dropped
// (a failover) before the answer came back. The worker's connection sends the same command again
// once reconnected; the verdict is there, and the write must still be counted, once. Staged with
// a real redis-server behind a loopback relay that cuts the connection right after passing the
// command on.

t.test('a verdict write replayed after a lost reply is counted once, not taken for a duplicate', async (t) => {
  const { redis, client } = await startRedisWithClient(t);
  const marker = 'replayed-verdict-7c2e';
  let cut = false;
  const sockets = new Set<Socket>();
  const relay = createServer((down) => {
    const up = connect(redis.port, '127.0.0.1');
    sockets.add(down).add(up);
    down.on('data', (chunk) => {
      up.write(chunk);
      if (!cut && chunk.includes(marker)) {
        cut = true;
        // Redis runs the command at once; its reply never reaches the client.
        up.pause();
        setTimeout(() => {
          down.destroy();
          up.destroy();
        }, 100);
      }
    });
    up.on('data', (chunk) => down.write(chunk));
    for (const [a, b] of [[down, up], [up, down]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    relay.close();
  });
  const port = (relay.address() as { port: number }).port;

  const config = ConfigSchema.parse({});
  const connection = createBlockingRedis({ url: `redis://127.0.0.1:${port}` }, 'veracity-worker');
  t.teardown(() => closeRedis(connection));
  const store = new VerdictStore(connection, config.redis.prefix, config.verdicts.ttlSeconds);
  const now = Date.now();
  const verdict = {
    id: marker,
    provider: 'openai',
    model: 'gpt-4o',
    grounded: true,
    hallucination: { flagged: true, score: 0.9, claims: [] },
    confidence_mismatch: { flagged: false, score: 0 },
    refusal: { flagged: false, kind: 'none', score: 0 },
    analysed_at: new Date(now).toISOString(),
  } as unknown as Verdict;

  const stored = await store.putIfAbsent(verdict, aggregateKeys(config).writesFor(verdict, 'gpt-4o', now));
  t.ok(cut, 'the first reply was lost: the relay cut the connection after passing the command on');
  t.equal(stored, true, 'the write sent again finds its own verdict and reports it stored, so the worker counts it');
  t.ok(await client.get(`veracity:verdict:${marker}`), 'the verdict is stored');
  const buckets = await Promise.all((await client.keys('veracity:agg:*')).map((k) => client.hgetall(k)));
  const counts = buckets.map((b) => b['checks|primary|openai|gpt-4o']);
  t.ok(counts.length > 0, 'aggregates written');
  t.same([...new Set(counts)], ['1'], 'and counted once in every bucket, though the command ran twice');
});
