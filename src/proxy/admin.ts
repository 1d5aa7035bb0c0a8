import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VerdictStore } from '../verdicts/store.js';
import { ConsoleSessions } from '../console/auth.js';
import type { ConsoleData } from '../console/data.js';
import type { LabelsApi } from '../labels/api.js';
import { registerLabelRoutes } from '../labels/routes.js';
import { CONSOLE_CSP, isConsolePath, isOpenConsolePath, registerConsole, signInInstead } from '../console/routes.js';

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Fixed-window limiter per client address, enough to keep the admin API from being hammered. */
class RateLimiter {
  private readonly hits = new Map<string, number>();
  private windowStart = Date.now();
  constructor(private readonly perMinute: number) {}
  allow(key: string): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 60_000) {
      this.hits.clear();
      this.windowStart = now;
    }
    if (this.hits.size > 10_000 && !this.hits.has(key)) return false;
    const n = (this.hits.get(key) ?? 0) + 1;
    this.hits.set(key, n);
    return n <= this.perMinute;
  }
}

/** /veracity/* routes: the admin token when one is set, loopback clients only when none is. */
export function registerAdminRoutes(
  app: FastifyInstance,
  opts: { token?: string; store?: VerdictStore; rateLimitPerMinute?: number; console?: ConsoleData; storeText?: boolean; labels?: LabelsApi },
) {
  const limiter = new RateLimiter(opts.rateLimitPerMinute ?? 600);
  // The console's sign-in gives browsers a session cookie; the API takes the bearer header or it.
  const sessions = opts.token ? new ConsoleSessions(opts.token) : undefined;

  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS);
    if (!limiter.allow(request.ip)) {
      return reply.code(429).send({ error: { code: 'rate_limited', message: 'too many requests to the admin API; retry in a minute' } });
    }
    if (opts.token) {
      if (!tokenMatches(request.headers.authorization, opts.token) && !sessions!.fromRequest(request)) {
        if (isOpenConsolePath(request.method, request.url)) return;
        if (isConsolePath(request.url) && request.method === 'GET') return signInInstead(request, reply);
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="veracity"')
          .send({ error: { code: 'unauthorized', message: 'a valid admin token is required (Authorization: Bearer <VERACITY_ADMIN_TOKEN>)' } });
      }
    } else if (!isLoopback(request.socket.remoteAddress)) {
      if (isConsolePath(request.url)) {
        return reply
          .code(403)
          .header('content-security-policy', CONSOLE_CSP)
          .type('text/plain; charset=utf-8')
          .send('The Veracity console answers only on loopback unless VERACITY_ADMIN_TOKEN is set.\n');
      }
      return reply.code(403).send({ error: { code: 'forbidden', message: 'admin routes answer only on loopback unless VERACITY_ADMIN_TOKEN is set' } });
    }
  };

  app.register(async (scope) => {
    scope.addHook('onRequest', guard);
    scope.get<{ Params: { id: string } }>('/veracity/v1/verdicts/:id', async (request, reply) => {
      const { id } = request.params;
      if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) {
        return reply.code(400).send({ error: { code: 'bad_id', message: 'exchange ids are 1-128 characters of letters, digits and _.:-' } });
      }
      if (!opts.store) return reply.code(503).send({ error: { code: 'no_store', message: 'verdict storage is not configured in this process' } });
      let verdict;
      try {
        verdict = await opts.store.get(id);
      } catch {
        return reply.code(503).send({ error: { code: 'redis_unavailable', message: 'verdict storage (Redis) is unreachable' } });
      }
      if (!verdict) return reply.code(404).send({ error: { code: 'not_found', message: `no verdict for ${id} (not analysed yet, expired, or unknown)` } });
      return reply.send(verdict);
    });
    registerLabelRoutes(scope, opts.labels);
    registerConsole(scope, { data: opts.console, token: opts.token, storeText: opts.storeText ?? true, labels: opts.labels }, sessions);
    scope.all('/veracity/*', async (_request, reply) => reply.code(404).send({ error: { code: 'not_found', message: 'unknown admin route' } }));
  });
}
