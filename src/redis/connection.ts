import { readFileSync } from 'node:fs';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';
import { SwitchWatch } from './switch-watch.js';
import type { ClusterTarget, Credentials, HostPort, RedisTarget, SentinelTarget, TlsMaterial, UrlTarget } from './target.js';

export type { ClusterTarget, HostPort, RedisTarget, SentinelTarget, TlsMaterial, UrlTarget } from './target.js';

/** A connection to Redis in any mode: both speak the same commands. */
export type RedisConnection = Redis | Cluster;

export class RedisConfigError extends Error {
  readonly code = 'VERACITY_ERR_REDIS_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'RedisConfigError';
  }
}

export class RedisConnectError extends Error {
  readonly code = 'VERACITY_ERR_REDIS_CONNECT';
  constructor(message: string) {
    super(message);
    this.name = 'RedisConnectError';
  }
}

const TLS_FILES = [
  ['caFile', 'ca', 'VERACITY_REDIS_CA_FILE'],
  ['certFile', 'cert', 'VERACITY_REDIS_CERT_FILE'],
  ['keyFile', 'key', 'VERACITY_REDIS_KEY_FILE'],
] as const;

function readTls(tls: Config['redis']['tls']): TlsMaterial {
  const material: TlsMaterial = {};
  for (const [field, key, env] of TLS_FILES) {
    const file = tls[field];
    if (!file) continue;
    try {
      material[key] = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RedisConfigError(`cannot read redis.tls.${field} (${env}) ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (tls.servername) material.servername = tls.servername;
  return material;
}

function hostPort(address: string): HostPort {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

function credentials(redis: Config['redis']): Credentials {
  return { ...(redis.username && { username: redis.username }), ...(redis.password && { password: redis.password }) };
}

/**
 * The remote Redis the config names (URL, Sentinel or Cluster), with its TLS files read; undefined
 * when it names none and the private redis-server is to be started. The config schema has already
 * checked that one mode at most is set and that each has what it needs.
 */
export function redisTarget(redis: Config['redis']): RedisTarget | undefined {
  const tlsOn = redis.tls.enabled || TLS_FILES.some(([field]) => redis.tls[field] !== undefined);
  if (redis.url) {
    return { url: redis.url, ...credentials(redis), ...(redis.url.startsWith('rediss:') && { tls: readTls(redis.tls) }) };
  }
  if (redis.sentinels) {
    return {
      sentinels: redis.sentinels.map(hostPort),
      name: redis.sentinelName!,
      ...credentials(redis),
      ...(redis.sentinelPassword && { sentinelPassword: redis.sentinelPassword }),
      ...(tlsOn && { tls: readTls(redis.tls) }),
    };
  }
  if (redis.clusterNodes) {
    const natMap = redis.clusterNatMap && Object.fromEntries(Object.entries(redis.clusterNatMap).map(([from, to]) => [from, hostPort(to)]));
    return {
      cluster: redis.clusterNodes.map(hostPort),
      ...(natMap && { natMap }),
      slotKey: `${redis.prefix}:ready`,
      ...credentials(redis),
      ...(tlsOn && { tls: readTls(redis.tls) }),
    };
  }
  return undefined;
}

const list = (nodes: HostPort[]) => nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');

/** A description of the target for logs: mode and addresses, never credentials. */
export function describeTarget(target: RedisTarget): string {
  if ('socket' in target) return `unix:${target.socket}`;
  const tls = target.tls ? ' (tls)' : '';
  if ('sentinels' in target) return `sentinel:${target.name}@${list(target.sentinels)}${tls}`;
  if ('cluster' in target) return `cluster:${list(target.cluster)}${tls}`;
  try {
    const u = new URL(target.url);
    const db = u.pathname.length > 1 ? u.pathname : '';
    return `${u.protocol}//${u.hostname}:${u.port || 6379}${db}`;
  } catch {
    return 'redis (unparseable URL)';
  }
}

/** The secrets a target holds, for scrubbing text before it is shown. */
function secretsOf(target: RedisTarget): string[] {
  if ('socket' in target) return [];
  const out = [target.password, 'sentinelPassword' in target ? target.sentinelPassword : undefined];
  if ('url' in target) {
    try {
      const u = new URL(target.url);
      out.push(u.password, decodeURIComponent(u.password));
    } catch {}
  }
  return out.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

/** `text` with every secret of the target replaced, for logs and errors. */
export function redactSecrets(text: string, target: RedisTarget): string {
  let out = text;
  for (const secret of secretsOf(target)) out = out.split(secret).join('***');
  return out;
}

/**
 * Reconnects quickly and keeps trying: after a failover the new primary is usually reachable
 * within a second or two of the old one's death, and a refused connection costs next to nothing.
 */
const retryStrategy = (times: number) => Math.min(times * 100, 500);

/**
 * A primary demoted to a replica (a manual failover, or the old primary back after one) answers
 * writes with READONLY: reconnect, which finds the new primary, and send the command again.
 */
const reconnectOnError = (err: Error) => (err.message.startsWith('READONLY') ? 2 : false);

/** fast: the request path; patient: workers; once: a one-shot command (report) that gives up at the first failure. */
type Kind = 'fast' | 'patient' | 'once';

/**
 * Fast: for the request path, no offline queue and one retry at most, so a dead Redis turns into
 * a counted drop instead of an await that never ends. Patient: for BullMQ's blocking commands and
 * the workers' reads and writes, which wait out a failover (BullMQ requires no retry limit there).
 */
function commonOptions(name: string, kind: Kind): RedisOptions {
  if (kind === 'once') return { connectionName: name, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: () => null, lazyConnect: true };
  return {
    connectionName: name,
    enableOfflineQueue: kind === 'patient',
    maxRetriesPerRequest: kind === 'fast' ? 1 : null,
    connectTimeout: 2000,
    retryStrategy,
    reconnectOnError,
  };
}

function tlsOptions(material: TlsMaterial | undefined): RedisOptions['tls'] {
  const m = material ?? {};
  return { ...(m.ca && { ca: m.ca }), ...(m.cert && { cert: m.cert }), ...(m.key && { key: m.key }), ...(m.servername && { servername: m.servername }) };
}

function urlOptions(target: UrlTarget): RedisOptions {
  const u = new URL(target.url);
  const options: RedisOptions = { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 6379) };
  const username = decodeURIComponent(u.username) || target.username;
  const password = decodeURIComponent(u.password) || target.password;
  if (username) options.username = username;
  if (password) options.password = password;
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') options.db = Number(db);
  if (u.protocol === 'rediss:') options.tls = tlsOptions(target.tls);
  return options;
}

function sentinelOptions(target: SentinelTarget, kind: Kind): RedisOptions {
  const tls = target.tls && tlsOptions(target.tls);
  return {
    sentinels: target.sentinels,
    name: target.name,
    role: 'master',
    ...(target.username && { username: target.username }),
    ...(target.password && { password: target.password }),
    ...(target.sentinelPassword && { sentinelPassword: target.sentinelPassword }),
    ...(tls && { tls, sentinelTLS: tls, enableTLSForSentinelMode: true }),
    // ioredis' failoverDetector is left off: when +switch-master arrives while a connection is
    // asking the sentinels for the new primary, it ends that connection for good (status "end",
    // every command "Connection is closed."), which a failover test here hit one run in a few.
    // A killed primary closes its sockets; for one that hangs, see switch-watch.ts.
    sentinelRetryStrategy: kind === 'once' ? () => null : retryStrategy,
  };
}

const watchedSlots = new WeakMap<Cluster, number>();

function createCluster(target: ClusterTarget, name: string, kind: Kind): Cluster {
  const { enableOfflineQueue, lazyConnect, ...node } = commonOptions(name, kind);
  const options: ClusterOptions = {
    enableOfflineQueue,
    lazyConnect,
    clusterRetryStrategy: kind === 'once' ? () => null : retryStrategy,
    // A node that fails over moves its slots: ask the cluster again soon rather than wait.
    retryDelayOnFailover: 200,
    slotsRefreshTimeout: 2000,
    redisOptions: {
      ...node,
      ...(target.username && { username: target.username }),
      ...(target.password && { password: target.password }),
      ...(target.tls && { tls: tlsOptions(target.tls) }),
    },
    ...(target.natMap && { natMap: target.natMap }),
    // Nodes announced by name stay names, so TLS checks certificates against them.
    dnsLookup: (address, callback) => callback(null, address),
  };
  const cluster = new Cluster(target.cluster, options);
  watchSlot(cluster, target.slotKey);
  return cluster;
}

/**
 * Keeps the connection to the primary of Veracity's slot open, so readiness can be read from it:
 * node connections open on first use, and a proxy that refuses to enqueue while it is not ready
 * would otherwise never use it (after start-up, or after that slot failed over to a new node).
 */
function watchSlot(cluster: Cluster, key: string): void {
  watchedSlots.set(cluster, calculateSlot(key));
  const timer = setInterval(() => {
    if (cluster.status === 'ready' && !isReady(cluster)) cluster.exists(key).catch(() => {});
  }, 250);
  timer.unref();
  cluster.once('end', () => clearInterval(timer));
}

/**
 * Whether commands can be sent now. For a Cluster, whether the primary of Veracity's slot is
 * connected: the cluster as a whole may be up while that one node is down.
 */
export function isReady(connection: RedisConnection): boolean {
  if (!(connection instanceof Cluster)) return connection.status === 'ready';
  if (connection.status !== 'ready') return false;
  const slot = watchedSlots.get(connection);
  if (slot === undefined) return true;
  const owner = connection.slots[slot]?.[0];
  if (!owner) return false;
  return connection.nodes('master').some((n) => n.status === 'ready' && `${n.options.host}:${n.options.port}` === owner);
}

/**
 * The node that holds Veracity's keys: the connection itself, or for a Cluster the primary of
 * Veracity's slot (undefined while that slot has no connected owner). Per-node facts such as
 * INFO memory must be read there, not from whichever node a Cluster picks.
 */
export function slotPrimary(connection: RedisConnection): Redis | undefined {
  if (!(connection instanceof Cluster)) return connection;
  const slot = watchedSlots.get(connection);
  const owner = slot === undefined ? undefined : connection.slots[slot]?.[0];
  if (!owner) return undefined;
  return connection.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
}

/** One watch per set of sentinels and primary name, shared by the process's connections. */
const switchWatches = new Map<string, SwitchWatch>();
const watchedBy = new WeakMap<RedisConnection, { key: string; watch: SwitchWatch }>();

function watchSwitches(target: SentinelTarget, connection: Redis): void {
  const key = describeTarget(target);
  let watch = switchWatches.get(key);
  if (!watch) {
    watch = new SwitchWatch(target.sentinels, target.name, { password: target.sentinelPassword, tls: target.tls && tlsOptions(target.tls) });
    switchWatches.set(key, watch);
  }
  watch.add(connection);
  watchedBy.set(connection, { key, watch });
}

function create(target: RedisTarget, name: string, kind: Kind): RedisConnection {
  const common = commonOptions(name, kind);
  let connection: RedisConnection;
  if ('socket' in target) connection = new Redis({ ...common, path: target.socket });
  else if ('url' in target) connection = new Redis({ ...common, ...urlOptions(target) });
  else if ('sentinels' in target) {
    const redis = new Redis({ ...common, ...sentinelOptions(target, kind) });
    if (kind !== 'once') watchSwitches(target, redis);
    connection = redis;
  } else connection = createCluster(target, name, kind);
  // Connection errors surface as readiness and drop counts; without a listener ioredis prints each one.
  connection.on('error', () => {});
  return connection;
}

/** Closes a connection: QUIT, or a plain disconnect when Redis does not answer within `ms`. */
export async function closeRedis(connection: RedisConnection, ms = 2000): Promise<void> {
  const watched = watchedBy.get(connection);
  if (watched?.watch.remove(connection as Redis)) switchWatches.delete(watched.key);
  let timer: NodeJS.Timeout | undefined;
  // QUIT waits behind commands queued for a Redis that may never come back.
  const quit = await Promise.race([connection.quit().then(() => true, () => false), new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  if (!quit) connection.disconnect();
}

/** A connection for the request path: fails at once while Redis is unreachable. */
export function createFastFailRedis(target: RedisTarget, name: string): RedisConnection {
  return create(target, name, 'fast');
}

/** A connection for BullMQ workers and analysis, which wait out a failover instead of failing. */
export function createBlockingRedis(target: RedisTarget, name: string): RedisConnection {
  return create(target, name, 'patient');
}

/**
 * The Redis a one-shot command such as `report` reads: `url` (its --redis) when given, with the
 * configured credentials and TLS files, else the one the config and environment name in any mode.
 */
export function commandTarget(redis: Config['redis'], url?: string): RedisTarget | undefined {
  if (url === undefined) return redisTarget(redis);
  return redisTarget({ ...redis, url, sentinels: undefined, sentinelName: undefined, sentinelPassword: undefined, clusterNodes: undefined, clusterNatMap: undefined });
}

/** A connection for a one-shot command: connected, or failed with the reason (credentials scrubbed). */
export async function connectOnce(target: RedisTarget, name: string): Promise<RedisConnection> {
  const connection = create(target, name, 'once');
  // The first error says why (ECONNREFUSED, WRONGPASS, a certificate); connect() rejects with "Connection is closed."
  let first: Error | undefined;
  connection.once('error', (err: Error) => (first = err));
  try {
    await connection.connect();
  } catch (err) {
    connection.disconnect();
    throw new RedisConnectError(`cannot reach Redis at ${describeTarget(target)}: ${redactSecrets((first ?? (err as Error)).message, target)}`);
  }
  return connection;
}

/**
 * Logs when Redis becomes unreachable (once, with the reason, credentials scrubbed) and when it is
 * reachable again, so /readyz answering 503 has an explanation in the log.
 */
export function logConnectionState(connection: RedisConnection, target: RedisTarget, log: (level: 'info' | 'warn', obj: object, msg: string) => void): void {
  const redis = describeTarget(target);
  let down = false;
  connection.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log('warn', { redis, err: redactSecrets(err.message, target) }, 'redis unavailable');
  });
  connection.on('ready', () => {
    if (down) log('info', { redis }, 'redis reachable again');
    down = false;
  });
}
