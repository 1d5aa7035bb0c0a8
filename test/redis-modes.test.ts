import t from 'tap';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { start } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { describeTarget, RedisConfigError, redisTarget } from '../src/redis/connection.js';
import { sendOne } from './helpers/load.js';
import { freePort, startRedis } from './helpers/redis.js';
import { makeCertificates, startTlsRedis } from './helpers/redis-ha.js';
import { runCli, sleep, waitFor200 } from './helpers/processes.js';
import { startUpstream } from './helpers/upstream.js';
import { settledMetric } from './helpers/metrics.js';

// Redis connection modes from the environment: the URL forms with an ACL user and password, TLS
// with a CA file and with a client certificate against real TLS servers, and the configuration
// errors of every mode. No credential may appear in a log line, /metrics, an error or a verdict.

const PASSWORD = 'acl-secret-5d9e-do-not-print';
const WRONG = 'wrong-secret-77c1-do-not-print';

const env = (vars: Record<string, string>) => ({ env: vars, file: join(import.meta.dirname, '..', 'config', 'default.yaml') });
const configError = (vars: Record<string, string>): string => {
  try {
    const { config } = loadConfig(env(vars));
    redisTarget(config.redis);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RedisConfigError) return err.message;
    throw err;
  }
  return '';
};

t.test('config: each mode from the environment, and clear errors that never repeat a secret', async (t) => {
  const url = loadConfig(env({ REDIS_URL: `redis://alice:${PASSWORD}@10.0.0.5:6380/2` })).config;
  const urlTarget = redisTarget(url.redis)!;
  t.equal(describeTarget(urlTarget), 'redis://10.0.0.5:6380/2', 'a URL is described without its credentials');
  t.equal(url.redis.prefix, 'veracity', 'the prefix is left alone outside Cluster mode');

  const sentinel = loadConfig(env({ VERACITY_REDIS_SENTINELS: 's1:26379, s2:26379,[::1]:26380', VERACITY_REDIS_SENTINEL_NAME: 'mymaster', VERACITY_REDIS_PASSWORD: PASSWORD })).config;
  const st = redisTarget(sentinel.redis)!;
  t.match(st, { sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }, { host: '::1', port: 26380 }], name: 'mymaster', password: PASSWORD });
  t.equal(describeTarget(st), 'sentinel:mymaster@s1:26379,s2:26379,[::1]:26380');

  const cluster = loadConfig(env({ VERACITY_REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', VERACITY_REDIS_TLS: 'true' })).config;
  t.equal(cluster.redis.prefix, '{veracity}', 'Cluster mode hash-tags the prefix, so every key shares one slot');
  t.equal(describeTarget(redisTarget(cluster.redis)!), 'cluster:n1:7000,n2:7001 (tls)');
  const tagged = loadConfig({ ...env({ VERACITY_REDIS_CLUSTER_NODES: 'n1:7000' }), overrides: (raw) => void (raw.redis = { prefix: 'app{v}' }) }).config;
  t.equal(tagged.redis.prefix, 'app{v}', 'a prefix that already holds a hash tag is kept');

  const errors: Array<[Record<string, string>, RegExp]> = [
    [{ VERACITY_REDIS_SENTINELS: 's1:26379' }, /redis\.sentinelName: .*VERACITY_REDIS_SENTINEL_NAME/],
    [{ VERACITY_REDIS_SENTINELS: 's1:26379,oops', VERACITY_REDIS_SENTINEL_NAME: 'm' }, /redis\.sentinels\.1: must be host:port \(from environment variable VERACITY_REDIS_SENTINELS\)/],
    [{ REDIS_URL: 'redis://h:6379', VERACITY_REDIS_CLUSTER_NODES: 'n1:7000' }, /set only one of url \(REDIS_URL\), sentinels .* and clusterNodes/],
    [{ REDIS_URL: `http://u:${PASSWORD}@h:6379` }, /redis\.url: must be a redis:\/\/.* URL/],
    [{ REDIS_URL: `redis://u:${PASSWORD}@h:6379`, VERACITY_REDIS_CA_FILE: '/tmp/ca.pem' }, /redis\.tls: .*write rediss:\/\//],
    [{ REDIS_URL: `rediss://u:${PASSWORD}@h:6379`, VERACITY_REDIS_CERT_FILE: '/tmp/c.pem' }, /redis\.tls\.keyFile: a client certificate needs both/],
    [{ VERACITY_REDIS_PASSWORD: PASSWORD }, /redis\.password: is set but no Redis is configured/],
    [{ VERACITY_REDIS_CLUSTER_NODES: 'n1:7000', VERACITY_REDIS_TLS: 'maybe' }, /VERACITY_REDIS_TLS="maybe" must be true or false/],
    [{ REDIS_URL: `rediss://u:${PASSWORD}@h:6379`, VERACITY_REDIS_CA_FILE: '/nonexistent/ca.pem' }, /cannot read redis\.tls\.caFile \(VERACITY_REDIS_CA_FILE\) \/nonexistent\/ca\.pem: ENOENT/],
  ];
  for (const [vars, expected] of errors) {
    const message = configError(vars);
    t.match(message, expected, `${Object.keys(vars).join(' + ')}: ${message.split('\n').slice(1).join(' ').trim() || message}`);
    t.notMatch(message, PASSWORD, 'the message does not repeat the password');
  }
});

const upstream = await startUpstream();
t.teardown(() => upstream.close());
const UPSTREAMS = { VERACITY_OPENAI_UPSTREAM: upstream.url, VERACITY_ANTHROPIC_UPSTREAM: upstream.url };

/** Polls a verdict on the proxy until it is stored. */
async function verdictOf(base: string, id: string, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await fetch(`${base}/veracity/v1/verdicts/${id}`);
    const text = await res.text();
    if (res.status === 200) return text;
    if (Date.now() > deadline) throw new Error(`no verdict for ${id} within ${ms} ms`);
    await sleep(100);
  }
}

t.test('TLS with a client certificate and an ACL user, as an operator runs serve: verdicts flow, no secret anywhere', async (t) => {
  const files = await makeCertificates(t);
  const server = await startTlsRedis(t, files, { clientAuth: true, user: 'alice', password: PASSWORD });
  const tls = { VERACITY_REDIS_CA_FILE: files.ca, VERACITY_REDIS_CERT_FILE: files.clientCert, VERACITY_REDIS_KEY_FILE: files.clientKey };
  const port = await freePort();
  const serve = runCli(['serve'], { ...UPSTREAMS, ...tls, NODE_OPTIONS: '', VERACITY_WORKER_NICE: '0', PORT: String(port), REDIS_URL: `rediss://alice:${PASSWORD}@127.0.0.1:${server.port}` });
  t.teardown(() => serve.kill());
  const base = `http://127.0.0.1:${port}`;
  await waitFor200(`${base}/readyz`, 60_000);
  const sent = await sendOne(base, 0);
  t.ok(sent.ok, 'the client is answered');
  const verdict = await verdictOf(base, sent.id);
  t.match(JSON.parse(verdict), { id: sent.id, model: 'gpt-ha' }, 'the worker analysed it over TLS and stored the verdict');
  t.equal(await settledMetric(base, 'veracity_checks_total', { model: 'gpt-ha' }, 1), 1, 'and counted it');
  const metrics = await (await fetch(`${base}/metrics`)).text();

  // Now the same server with the wrong password: clients are unaffected, /readyz says why not.
  const port2 = await freePort();
  const wrong = runCli(['serve'], { ...UPSTREAMS, ...tls, NODE_OPTIONS: '', VERACITY_WORKER_NICE: '0', PORT: String(port2), REDIS_URL: `rediss://127.0.0.1:${server.port}`, VERACITY_REDIS_USERNAME: 'alice', VERACITY_REDIS_PASSWORD: WRONG });
  t.teardown(() => wrong.kill());
  const base2 = `http://127.0.0.1:${port2}`;
  await waitFor200(`${base2}/healthz`, 60_000);
  const deadline = Date.now() + 20_000;
  while (!/redis unavailable/.test(wrong.stderr()) && Date.now() < deadline) await sleep(100);
  t.match(wrong.stderr(), /"err":"WRONGPASS[^"]*","msg":"redis unavailable"/, 'the log says Redis refused the credentials');
  t.equal((await fetch(`${base2}/readyz`)).status, 503, '/readyz: not ready');
  t.ok((await sendOne(base2, 2)).ok, 'clients are still answered');
  const metrics2 = await (await fetch(`${base2}/metrics`)).text();

  serve.kill('SIGTERM');
  wrong.kill('SIGTERM');
  await Promise.all([serve.exited, wrong.exited]);
  for (const [what, text] of [
    ['serve output', serve.stdout() + serve.stderr()],
    ['output with the wrong password', wrong.stdout() + wrong.stderr()],
    ['/metrics', metrics + metrics2],
    ['the verdict', verdict],
  ] as const) {
    t.notMatch(text, PASSWORD, `${what}: no password`);
    t.notMatch(text, WRONG, `${what}: not even a wrong one`);
  }
  t.match(serve.stderr(), /"redis":"rediss:\/\/127\.0\.0\.1:\d+"/, 'the log names the Redis it uses, without credentials');
});

t.test('TLS: the CA file decides whom to trust; a server that asks for a certificate gets one or refuses', async (t) => {
  const files = await makeCertificates(t);
  const strict = await startTlsRedis(t, files, { clientAuth: true, user: 'alice', password: PASSWORD });
  const lenient = await startTlsRedis(t, files, { clientAuth: false, user: 'alice', password: PASSWORD });
  const readyWithin = async (vars: Record<string, string>, ms: number) => {
    const { config } = loadConfig(env({ ...UPSTREAMS, PORT: '0', ...vars }));
    const proxy = await start('proxy', config, { logger: false });
    try {
      const deadline = Date.now() + ms;
      for (;;) {
        if ((await fetch(`${proxy.url}/readyz`)).status === 200) return true;
        if (Date.now() > deadline) return false;
        await sleep(100);
      }
    } finally {
      await proxy.stop();
    }
  };
  const url = (port: number) => `rediss://alice:${PASSWORD}@127.0.0.1:${port}`;
  t.ok(await readyWithin({ REDIS_URL: url(lenient.port), VERACITY_REDIS_CA_FILE: files.ca }, 20_000), 'CA file only, server asks for no certificate: ready');
  t.ok(await readyWithin({ REDIS_URL: `rediss://alice:${PASSWORD}@localhost:${lenient.port}`, VERACITY_REDIS_CA_FILE: files.ca }, 20_000), 'by host name: the certificate names localhost');
  t.notOk(await readyWithin({ REDIS_URL: url(lenient.port), VERACITY_REDIS_CA_FILE: files.otherCa }, 3000), 'a CA that did not sign the server: never ready');
  t.notOk(await readyWithin({ REDIS_URL: url(strict.port), VERACITY_REDIS_CA_FILE: files.ca }, 3000), 'the server asks for a client certificate and none is given: never ready');
  t.ok(await readyWithin({ REDIS_URL: url(strict.port), VERACITY_REDIS_CA_FILE: files.ca, VERACITY_REDIS_CERT_FILE: files.clientCert, VERACITY_REDIS_KEY_FILE: files.clientKey }, 20_000), 'with the client certificate: ready');
});

t.test('a plain URL with an ACL user, and the password from VERACITY_REDIS_PASSWORD', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const admin = new Redis(redis.url);
  t.teardown(() => admin.disconnect());
  await admin.call('ACL', 'SETUSER', 'bob', 'on', `>${PASSWORD}`, '~*', '&*', '+@all');
  await admin.call('ACL', 'SETUSER', 'default', 'off');
  const { config } = loadConfig(env({ ...UPSTREAMS, PORT: '0', REDIS_URL: `redis://bob@127.0.0.1:${redis.port}`, VERACITY_REDIS_PASSWORD: PASSWORD, VERACITY_WORKER_NICE: '0' }));
  const serve = await start('serve', config, { logger: false });
  t.teardown(() => serve.stop());
  await waitFor200(`${serve.url}/readyz`, 20_000);
  const sent = await sendOne(serve.url, 2);
  t.ok(sent.ok);
  t.match(JSON.parse(await verdictOf(serve.url, sent.id)), { id: sent.id, model: 'claude-ha' }, 'analysed as user bob');
});
