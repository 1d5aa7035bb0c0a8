import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { CliProcess } from './helpers/processes.js';
import { output, ready, runEmbedded, until, processFixture } from './helpers/embedded.js';

// A damaged snapshot in the data directory of the private redis-server: moved aside, said loudly,
// a fresh start; never a crash loop. Real processes, a real redis-server.

const { upstream, procs } = await processFixture(t);

t.test('a damaged veracity.rdb is moved aside, said loudly, and Redis starts empty; the next start is normal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-rdb-'));
  // A real snapshot with some data, then cut short as a crash in the middle of copying it would.
  const socket = join(dir, 'make.sock');
  const maker = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--dir', dir, '--dbfilename', 'veracity.rdb', '--save', ''], { stdio: 'ignore' });
  const client = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await until('a redis-server to make a snapshot', 20_000, async () => {
    await client.connect().catch(() => {});
    return (await client.ping()) === 'PONG';
  });
  for (let i = 0; i < 200; i++) await client.set(`veracity:verdict:old-${i}`, 'x'.repeat(200));
  await client.save();
  await client.shutdown('NOSAVE').catch(() => {});
  client.disconnect();
  await new Promise((r) => (maker.exitCode !== null ? r(null) : maker.once('exit', r)));
  const whole = readFileSync(join(dir, 'veracity.rdb'));
  const damaged = whole.subarray(0, Math.floor(whole.length * 0.6));
  writeFileSync(join(dir, 'veracity.rdb'), damaged);

  const first = await runEmbedded('proxy', dir, upstream.url);
  procs.push(first);
  await ready(first);
  t.match(output(first), /THE REDIS SNAPSHOT .*veracity\.rdb IS DAMAGED \(Unexpected EOF reading RDB file\)/, 'a loud message with the checker\'s finding');
  const aside = readdirSync(dir).filter((f) => f.startsWith('veracity.rdb.corrupt-'));
  t.equal(aside.length, 1, `moved aside with a timestamp: ${aside[0]}`);
  t.same(readFileSync(join(dir, aside[0]!)), damaged, 'byte for byte');
  t.match(output(first), `moved to ${join(dir, aside[0]!)}`, 'the message says where');
  first.kill('SIGTERM');
  t.equal((await first.exited).code, 0);

  const second = await runEmbedded('proxy', dir, upstream.url);
  procs.push(second);
  await ready(second);
  t.notMatch(output(second), /DAMAGED/, 'the next start is an ordinary one');
  t.equal(readdirSync(dir).filter((f) => f.startsWith('veracity.rdb.corrupt-')).length, 1, 'nothing more moved aside');
  second.kill('SIGTERM');
  await second.exited;
});
