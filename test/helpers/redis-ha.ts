import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './redis.js';
import { until } from './wait.js';

/**
 * Real Redis topologies on loopback ports for one test file, from Debian's redis-server and
 * redis-sentinel: a primary with a replica watched by three sentinels, a cluster made with
 * `redis-cli --cluster create`, and a TLS server with certificates made by openssl. Every process
 * is killed by its PID when the test ends; every file lives in a temporary directory.
 */

export interface Node {
  port: number;
  process: ChildProcess;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

type Teardown = { teardown(fn: () => unknown): void };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Kills `child` when this process exits, however it exits: a test file that fails at the top
 * level never runs its teardowns, and must still leave no server behind.
 */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function tempDir(t: Teardown, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `veracity-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `binary` with a config file's text and waits until the port answers PING. */
async function launch(t: Teardown, binary: string, dir: string, port: number, config: string, ping: RedisOptions = {}): Promise<Node> {
  const file = join(dir, `${binary}-${port}.conf`);
  writeFileSync(file, config);
  const child = spawn(binary, [file], { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start ${binary} (install Debian's ${binary} package): ${e.message}`)));
    child.once('spawn', () => resolve());
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const node: Node = {
    port,
    process: child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  t.teardown(() => node.kill());
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${binary} on port ${port} exited: ${stderr.trim()}`);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, ...ping });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return node;
    } catch {
      probe.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`${binary} on port ${port} did not answer within 10 s: ${stderr.trim()}`);
    await sleep(20);
  }
}

const base = (port: number, dir: string) => [`port ${port}`, 'bind 127.0.0.1', 'daemonize no', 'logfile ""', `dir ${dir}`, 'save ""', 'appendonly no'];

async function withClient<T>(options: RedisOptions, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, ...options });
  r.on('error', () => {});
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

export interface SentinelGroup {
  name: string;
  password: string;
  primary: Node;
  replica: Node;
  sentinels: Node[];
  /** `host:port,…` of the sentinels, as VERACITY_REDIS_SENTINELS takes them. */
  addresses: string;
  /** The primary's port as the sentinels report it. */
  primaryPort(): Promise<number>;
  /**
   * Starts a dead node again on its port as a replica of `primaryPort`, and waits until it is in
   * sync and the sentinels count it as a healthy replica.
   */
  rejoin(node: Node, primaryPort: number): Promise<Node>;
}

/**
 * A primary and a replica (both with a password) watched by three sentinels, quorum 2, tuned to
 * fail over within seconds: the primary is down after `downAfterMs` (1 s) without answers.
 */
export async function startSentinelGroup(t: Teardown, options: { downAfterMs?: number } = {}): Promise<SentinelGroup> {
  const dir = tempDir(t, 'sentinel');
  const name = 'veracity-primary';
  const password = 'sentinel-group-pw-7f3a';
  const auth = [`requirepass ${password}`, `masterauth ${password}`];
  const primaryPort = await freePort();
  const primary = await launch(t, 'redis-server', dir, primaryPort, [...base(primaryPort, dir), ...auth].join('\n'), { password });
  const replicaPort = await freePort();
  const replica = await launch(t, 'redis-server', dir, replicaPort, [...base(replicaPort, dir), ...auth, `replicaof 127.0.0.1 ${primaryPort}`].join('\n'), { password });
  // Sentinels learn about replicas from the primary's INFO, read when they connect and then every
  // 10 s: the replica is linked first, so the sentinels know it from the start.
  await until('replication link', 10_000, () => withClient({ port: replicaPort, password }, async (r) => /master_link_status:up/.test(await r.info('replication'))));
  const sentinels: Node[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = [
      `port ${port}`, 'bind 127.0.0.1', 'daemonize no', 'logfile ""', `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
      `sentinel auth-pass ${name} ${password}`,
      `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} 4000`,
      `sentinel parallel-syncs ${name} 1`,
    ];
    sentinels.push(await launch(t, 'redis-sentinel', dir, port, conf.join('\n')));
  }
  // Quorum needs the sentinels to know each other (hello messages every 2 s) and the replica.
  for (const s of sentinels) {
    await until(`sentinel ${s.port} to see its peers and the replica`, 15_000, () =>
      withClient({ port: s.port }, async (r) => {
        const peers = (await r.call('SENTINEL', 'SENTINELS', name)) as unknown[];
        const replicas = (await r.call('SENTINEL', 'REPLICAS', name)) as unknown[];
        return peers.length === 2 && replicas.length === 1;
      }),
    );
  }
  return {
    name,
    password,
    primary,
    replica,
    sentinels,
    addresses: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    async rejoin(node, primaryPort) {
      const again = await launch(t, 'redis-server', dir, node.port, [...base(node.port, dir), ...auth, `replicaof 127.0.0.1 ${primaryPort}`].join('\n'), { password });
      await until('the rejoined replica to sync', 15_000, () => withClient({ port: node.port, password }, async (r) => /master_link_status:up/.test(await r.info('replication'))));
      for (const s of sentinels) {
        await until(`sentinel ${s.port} to count the rejoined replica`, 30_000, () =>
          withClient({ port: s.port }, async (r) => {
            const replicas = (await r.call('SENTINEL', 'REPLICAS', name)) as string[][];
            return replicas.some((fields) => {
              const info = Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : [])));
              return Number(info.port) === node.port && !/s_down|o_down|disconnected/.test(info.flags ?? '') && info['master-link-status'] === 'ok';
            });
          }),
        );
      }
      return again;
    },
    async primaryPort() {
      for (const s of sentinels) {
        const addr = await withClient({ port: s.port }, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name) as Promise<string[]>).catch(() => undefined);
        if (addr) return Number(addr[1]);
      }
      throw new Error('no sentinel answered');
    },
  };
}

export interface TestCluster {
  nodes: Node[];
  /** `host:port,…` of every node, as VERACITY_REDIS_CLUSTER_NODES takes them. */
  addresses: string;
  /** The port of the primary that holds `key`'s slot now, asking the nodes in turn (`skip` first excluded). */
  primaryFor(key: string, skip?: number): Promise<number>;
}

/**
 * `primaries` cluster nodes (each with `replicasPer` replicas), joined by `redis-cli --cluster
 * create`, ready when every node reports cluster_state:ok. A node that stops answering is failed
 * over after `nodeTimeoutMs`.
 */
export async function startCluster(t: Teardown, options: { primaries?: number; replicasPer?: number; nodeTimeoutMs?: number } = {}): Promise<TestCluster> {
  const dir = tempDir(t, 'cluster');
  const count = (options.primaries ?? 3) * (1 + (options.replicasPer ?? 0));
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const conf = [...base(port, dir), 'cluster-enabled yes', `cluster-config-file nodes-${port}.conf`, `cluster-node-timeout ${options.nodeTimeoutMs ?? 1000}`, 'cluster-require-full-coverage no'];
    nodes.push(await launch(t, 'redis-server', dir, port, conf.join('\n')));
  }
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  const created = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(options.replicasPer ?? 0), '--cluster-yes'], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, out: stdout + stderr }),
    ),
  );
  if (created.code !== 0) throw new Error(`redis-cli --cluster create failed: ${created.out}`);
  for (const n of nodes) {
    await until(`cluster node ${n.port} to be ok`, 15_000, () => withClient({ port: n.port }, async (r) => /cluster_state:ok/.test((await r.call('CLUSTER', 'INFO')) as string)));
  }
  return {
    nodes,
    addresses: addresses.join(','),
    async primaryFor(key, skip) {
      for (const n of nodes.filter((x) => x.port !== skip)) {
        const found = await withClient({ port: n.port }, async (r) => {
          const slot = (await r.call('CLUSTER', 'KEYSLOT', key)) as number;
          const ranges = (await r.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
          return ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
        }).catch(() => undefined);
        if (found) return found;
      }
      throw new Error('no cluster node answered');
    },
  };
}

export interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed none of these, for a server the client must not trust. */
  otherCa: string;
}

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, { cwd, timeout: 30_000 }, (err, _out, stderr) => (err ? reject(new Error(`openssl ${args[0]}: ${stderr}`)) : resolve())),
  );
}

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, made with openssl. */
export async function makeCertificates(t: Teardown): Promise<TlsFiles> {
  const dir = tempDir(t, 'tls');
  const ca = async (name: string) => {
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`], dir);
  };
  const leaf = async (name: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
  };
  await ca('ca');
  await ca('other-ca');
  await leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await leaf('client', 'extendedKeyUsage=clientAuth\n');
  const f = (name: string) => join(dir, name);
  return { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'), otherCa: f('other-ca.crt') };
}

/**
 * A redis-server that speaks only TLS on its port, with an ACL user `user`:`password` (the default
 * user off), asking clients for a certificate when `clientAuth`.
 */
export async function startTlsRedis(t: Teardown, files: TlsFiles, options: { clientAuth: boolean; user: string; password: string }): Promise<Node> {
  const dir = tempDir(t, 'tls-redis');
  const port = await freePort();
  const conf = [
    `port 0`, `tls-port ${port}`, 'bind 127.0.0.1', 'daemonize no', 'logfile ""', `dir ${dir}`, 'save ""', 'appendonly no',
    `tls-cert-file ${files.serverCert}`, `tls-key-file ${files.serverKey}`, `tls-ca-cert-file ${files.ca}`,
    `tls-auth-clients ${options.clientAuth ? 'yes' : 'no'}`,
    'user default off',
    `user ${options.user} on >${options.password} ~* &* +@all`,
  ];
  return launch(t, 'redis-server', dir, port, conf.join('\n'), {
    username: options.user,
    password: options.password,
    tls: { ca: readFileSync(files.ca), cert: readFileSync(files.clientCert), key: readFileSync(files.clientKey) },
  });
}
