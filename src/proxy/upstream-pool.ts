import { Pool } from 'undici';
import type { Upstream } from './routes.js';

/** One keep-alive undici Pool per configured upstream origin. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(upstreams: readonly Upstream[]) {
    for (const u of upstreams) {
      this.pools.set(
        u.name,
        new Pool(u.url.origin, {
          connections: u.connections,
          pipelining: 1,
          headersTimeout: u.headersTimeoutMs,
          bodyTimeout: u.bodyTimeoutMs,
          connect: { timeout: u.connectTimeoutMs, rejectUnauthorized: u.tlsVerify },
          keepAliveTimeout: 30_000,
        }),
      );
    }
  }

  get(u: Upstream): Pool {
    const pool = this.pools.get(u.name);
    if (!pool) throw new Error(`no pool for upstream ${u.name}`);
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => {})));
  }
}
