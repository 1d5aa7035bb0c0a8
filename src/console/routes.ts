import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ModelKey } from '../verdicts/aggregates.js';
import { CSRF_COOKIE, ConsoleSessions, SESSION_COOKIE, SESSION_SECONDS, cookieHeader, crossSite, formFields, newCsrfValue, readCookie, safeNext } from './auth.js';
import type { ConsoleData } from './data.js';
import type { LabelsApi } from '../labels/api.js';
import { parseFilters, selects } from './query.js';
import { CONSOLE_CSS, CONSOLE_CSS_PATH } from './static.js';
import { CompareError, parseModelSpec, specText } from '../report/compare/sources.js';
import { compareBody } from './views/compare.js';
import { exchangeBody } from './views/exchange.js';
import { flaggedBody } from './views/flagged.js';
import { errorPage, page, type PageContext } from './views/layout.js';
import { overviewBody } from './views/overview.js';
import { recentBody } from './views/recent.js';
import { REVIEW_JS, REVIEW_JS_PATH, reviewBody } from './views/review.js';
import { ReviewData } from './review.js';
import { signInPage } from './views/signin.js';

/**
 * The console at /veracity/: server-rendered pages over the aggregates, the flagged indexes and
 * the verdicts. No script runs on any page (the CSP allows none), styles come from one file of
 * the console's own, and every piece of model or request text is escaped where it is written.
 */

export const CONSOLE_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/** The review queue alone runs a script: its own file, which posts labels to the API on this origin. */
export const REVIEW_CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const FLAGGED_PER_MODEL = 50;
/** Recent exchanges listed per model: fewer when every model is listed at once. */
const RECENT_PER_MODEL = { one: 100, all: 20 };
/** Failed sign-ins allowed per client address and minute. */
const SIGN_IN_FAILURES_PER_MINUTE = 10;

/** The range's end in ms, through its last second: filters are whole seconds, verdict times are not. */
const endMs = (filters: { to: number }) => filters.to * 1000 + 999;
/**
 * The same end for the aggregates, whose reads exclude their end second: without it, a range
 * ending on a minute's first second (every "last hour" asked then) leaves out that minute's bucket
 * and what was analysed in it.
 */
const endSec = (filters: { to: number }) => filters.to + 1;

export interface ConsoleOptions {
  data?: ConsoleData;
  token?: string;
  storeText: boolean;
  /** The labels API, for the review queue. */
  labels?: LabelsApi;
}

/** A console page (not the JSON API under /veracity/v1/). */
export function isConsolePath(url: string): boolean {
  const path = url.split('?')[0]!;
  return (path === '/veracity' || path.startsWith('/veracity/')) && !path.startsWith('/veracity/v1/');
}

/** Reachable without a session when a token is set: the sign-in form, its post, the stylesheet. */
export function isOpenConsolePath(method: string, url: string): boolean {
  const path = url.split('?')[0]!;
  return path === '/veracity/sign-in' || (method === 'GET' && path === CONSOLE_CSS_PATH);
}

function html(reply: FastifyReply, code: number, body: string) {
  return reply.code(code).header('content-security-policy', CONSOLE_CSP).type('text/html; charset=utf-8').send(body);
}

/** Answers a console request that has no valid session: the sign-in form, in place. */
export function signInInstead(request: FastifyRequest, reply: FastifyReply, status = 401, error?: string, next = request.url) {
  const csrf = newCsrfValue();
  reply.header('set-cookie', cookieHeader(request, CSRF_COOKIE, csrf, 3600));
  return html(reply, status, signInPage({ csrf, next: safeNext(next), error }));
}

class FailureLimiter {
  private readonly hits = new Map<string, number>();
  private windowStart = Date.now();
  tooMany(key: string): boolean {
    this.roll();
    return (this.hits.get(key) ?? 0) >= SIGN_IN_FAILURES_PER_MINUTE;
  }
  fail(key: string): void {
    this.roll();
    if (this.hits.size < 10_000) this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
  }
  private roll() {
    if (Date.now() - this.windowStart >= 60_000) {
      this.hits.clear();
      this.windowStart = Date.now();
    }
  }
}

/** Registers the console's routes in the admin scope, behind its guard. */
export function registerConsole(scope: FastifyInstance, options: ConsoleOptions, sessions?: ConsoleSessions): void {
  const failures = new FailureLimiter();
  const context = (request: FastifyRequest, section?: PageContext['section']): PageContext => {
    const session = sessions?.fromRequest(request);
    return { section, signOut: session ? sessions!.signOutToken(session) : undefined };
  };
  const unavailable = (reply: FastifyReply, ctx: PageContext, err?: unknown) =>
    html(
      reply,
      503,
      errorPage(
        'Storage unavailable',
        err ? 'Verdict storage (Redis) is unreachable right now; the proxy keeps serving requests. Try again in a moment.' : 'This process has no verdict storage configured.',
        ctx,
      ),
    );

  scope.get(CONSOLE_CSS_PATH, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/css; charset=utf-8').send(CONSOLE_CSS),
  );
  scope.get('/veracity', async (_request, reply) => reply.redirect('/veracity/', 308));

  scope.get<{ Querystring: Record<string, unknown> }>('/veracity/', async (request, reply) => {
    const ctx = context(request, 'overview');
    if (!options.data) return unavailable(reply, ctx);
    const filters = parseFilters(request.query ?? {});
    try {
      const overview = await options.data.overview(filters.from, endSec(filters), (k) => selects(filters, k));
      return html(reply, 200, page('Overview', overviewBody(overview, filters), ctx));
    } catch (err) {
      return unavailable(reply, ctx, err);
    }
  });

  scope.get<{ Querystring: Record<string, unknown> }>('/veracity/flagged', async (request, reply) => {
    const ctx = context(request, 'flagged');
    if (!options.data) return unavailable(reply, ctx);
    const filters = parseFilters(request.query ?? {});
    try {
      const range = await options.data.overview(filters.from, endSec(filters), () => false);
      const keys: ModelKey[] = range.available.filter((k) => selects(filters, k));
      const lists = await Promise.all(
        keys.map(async (key) => ({ key, verdicts: await options.data!.flagged(filters.order, filters.kind, key, FLAGGED_PER_MODEL, filters.from * 1000, endMs(filters)) })),
      );
      return html(reply, 200, page('Flagged exchanges', flaggedBody(filters, range.available, lists), ctx));
    } catch (err) {
      return unavailable(reply, ctx, err);
    }
  });

  scope.get<{ Params: { id: string } }>('/veracity/exchanges/:id', async (request, reply) => {
    const ctx = context(request, 'exchange');
    const { id } = request.params;
    if (!ID.test(id)) return html(reply, 400, errorPage('Bad exchange id', 'Exchange ids are 1 to 128 characters of letters, digits and _.:-', ctx));
    if (!options.data) return unavailable(reply, ctx);
    let found;
    try {
      found = await options.data.exchange(id);
    } catch (err) {
      return unavailable(reply, ctx, err);
    }
    if (!found.verdict) {
      return html(reply, 404, errorPage('Exchange not found', `No verdict for ${id}: not analysed yet (analysis takes about a second), expired, or unknown.`, ctx));
    }
    return html(reply, 200, page(`Exchange ${id}`, exchangeBody(found.verdict, found.text, options.storeText, found.shadows), ctx));
  });

  scope.get<{ Querystring: Record<string, unknown> }>('/veracity/exchanges', async (request, reply) => {
    const ctx = context(request, 'recent');
    if (!options.data) return unavailable(reply, ctx);
    const filters = parseFilters(request.query ?? {});
    const perModel = filters.models.length > 0 ? RECENT_PER_MODEL.one : RECENT_PER_MODEL.all;
    try {
      const indexed = await options.data.indexedModels();
      const chosen = indexed.filter((m) => selects(filters, { traffic: 'primary', provider: m.provider, model: m.label }));
      const toMs = filters.before ?? endMs(filters);
      const lists = await Promise.all(chosen.map((m) => options.data!.recent(m, perModel, filters.from * 1000, toMs, filters.skip ?? 0)));
      return html(reply, 200, page('Recent exchanges', recentBody(filters, indexed, lists, perModel), ctx));
    } catch (err) {
      return unavailable(reply, ctx, err);
    }
  });

  scope.get<{ Querystring: Record<string, unknown> }>('/veracity/compare', async (request, reply) => {
    const ctx = context(request, 'compare');
    if (!options.data) return unavailable(reply, ctx);
    const filters = parseFilters(request.query ?? {});
    let models;
    try {
      models = await options.data.indexedModels();
    } catch (err) {
      return unavailable(reply, ctx, err);
    }
    if (filters.a === undefined || filters.b === undefined) return html(reply, 200, page('Compare', compareBody(filters, models), ctx));
    let result: Parameters<typeof compareBody>[2];
    try {
      const a = parseModelSpec(filters.a);
      const b = parseModelSpec(filters.b);
      if (a.model === b.model && (a.provider === b.provider || !a.provider || !b.provider)) {
        result = { error: `Choose two different models (got ${specText(a)} and ${specText(b)}).` };
      } else {
        result = { comparison: await options.data.compare(a, b, { since: filters.range ?? null, fromMs: filters.from * 1000, toMs: endMs(filters) }) };
      }
    } catch (err) {
      if (err instanceof CompareError && err.code === 'VERACITY_ERR_COMPARE_MODEL') result = { error: err.message };
      else return unavailable(reply, ctx, err);
    }
    return html(reply, result.error ? 400 : 200, page(result.comparison ? `${result.comparison.a.name} vs ${result.comparison.b.name}` : 'Compare', compareBody(filters, models, result), ctx));
  });

  scope.get(REVIEW_JS_PATH, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/javascript; charset=utf-8').send(REVIEW_JS),
  );

  const review = options.data ? new ReviewData(options.data.redis, options.data.config) : undefined;
  scope.get<{ Querystring: Record<string, unknown> }>('/veracity/review', async (request, reply) => {
    const ctx = context(request, 'review');
    if (!options.data || !review) return unavailable(reply, ctx);
    const filters = parseFilters(request.query ?? {});
    const fromMs = filters.from * 1000;
    const toMs = endMs(filters);
    try {
      const models = await review.models(fromMs, toMs);
      const wanted = filters.models[0];
      const pick = wanted ? models.find((m) => `${m.provider}/${m.model}` === wanted || m.model === wanted) : models[0];
      const drawn = pick ? await review.draw({ provider: pick.provider, label: pick.model }, fromMs, toMs) : undefined;
      const current = drawn && pick ? { model: { provider: pick.provider, label: pick.model }, ...drawn } : undefined;
      return reply
        .code(200)
        .header('content-security-policy', REVIEW_CSP)
        .type('text/html; charset=utf-8')
        .send(page('Review queue', reviewBody(filters, models, current, options.storeText, wanted), ctx));
    } catch (err) {
      return unavailable(reply, ctx, err);
    }
  });

  scope.get<{ Querystring: { next?: string } }>('/veracity/sign-in', async (request, reply) => {
    const next = safeNext(request.query?.next);
    if (!sessions || sessions.fromRequest(request)) return reply.redirect(next, 303);
    return signInInstead(request, reply, 200, undefined, next);
  });

  scope.post('/veracity/sign-in', { bodyLimit: 8192 }, async (request, reply) => {
    if (!sessions) return reply.redirect('/veracity/', 303);
    const form = formFields(request.body);
    const next = safeNext(form.get('next'));
    if (crossSite(request)) return html(reply, 403, errorPage('Refused', 'A sign-in posted from another site is refused.'));
    const csrfCookie = readCookie(request, CSRF_COOKIE);
    const csrf = form.get('csrf') ?? '';
    if (!csrfCookie || csrf.length === 0 || csrf !== csrfCookie) {
      return signInInstead(request, reply, 403, 'The sign-in form expired or came from elsewhere; please sign in again.', next);
    }
    if (failures.tooMany(request.ip)) return signInInstead(request, reply, 429, 'Too many failed sign-ins from this address; wait a minute.', next);
    if (!sessions.tokenMatches(form.get('token') ?? '')) {
      failures.fail(request.ip);
      return signInInstead(request, reply, 401, 'That is not the admin token.', next);
    }
    reply.header('set-cookie', [cookieHeader(request, SESSION_COOKIE, sessions.issue(), SESSION_SECONDS), cookieHeader(request, CSRF_COOKIE, '', 0)]);
    return reply.redirect(next, 303);
  });

  scope.post('/veracity/sign-out', { bodyLimit: 8192 }, async (request, reply) => {
    const session = sessions?.fromRequest(request);
    const form = formFields(request.body);
    if (!sessions || !session || crossSite(request) || !sessions.signOutTokenMatches(session, form.get('csrf') ?? '')) {
      return html(reply, 403, errorPage('Refused', 'Sign out from the console’s own button.'));
    }
    reply.header('set-cookie', cookieHeader(request, SESSION_COOKIE, '', 0));
    return reply.redirect('/veracity/sign-in', 303);
  });
}
