import type { FastifyInstance } from 'fastify';
import { crossSite } from '../console/auth.js';
import type { LabelsApi } from './api.js';

/** Largest labels body: 1,000 labels with their claims fit well under it. */
const LABELS_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * The labels API under /veracity/v1/, registered in the admin scope behind its guard (the admin
 * token, or a console session; loopback only without a token). Writes take JSON only: a page on
 * another site can send a form, but not application/json, to a browser's signed-in console.
 */
export function registerLabelRoutes(scope: FastifyInstance, api: LabelsApi | undefined): void {
  const noStore = { error: { code: 'no_store', message: 'label storage is not configured in this process' } };

  scope.post('/veracity/v1/labels', { bodyLimit: LABELS_BODY_LIMIT }, async (request, reply) => {
    if (!api) return reply.code(503).send(noStore);
    if (crossSite(request)) return reply.code(403).send({ error: { code: 'cross_site', message: 'labels posted from another site are refused' } });
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      return reply.code(415).send({ error: { code: 'bad_content_type', message: 'send labels as JSON (content-type: application/json)' } });
    }
    let body: unknown;
    try {
      const raw = request.body;
      body = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '');
    } catch (err) {
      return reply.code(400).send({ error: { code: 'bad_json', message: `the body is not JSON (${(err as Error).message}); nothing was stored` } });
    }
    const answer = await api.post(body);
    return reply.code(answer.status).send(answer.body);
  });

  scope.get<{ Querystring: { since?: string } }>('/veracity/v1/labels', async (request, reply) => {
    if (!api) return reply.code(503).send(noStore);
    const since = api.parseSince(request.query?.since);
    if (typeof since !== 'number') return reply.code(since.error.status).send(since.error.body);
    // One label per line, oldest first; built whole so an unreachable Redis is a clean 503.
    let text = '';
    try {
      for await (const label of api.store.since(since)) text += `${JSON.stringify(label)}\n`;
    } catch {
      return reply.code(503).send({ error: { code: 'redis_unavailable', message: 'label storage (Redis) is unreachable' } });
    }
    return reply.type('application/x-ndjson; charset=utf-8').send(text);
  });

  scope.delete<{ Params: { id: string } }>('/veracity/v1/labels/:id', async (request, reply) => {
    if (!api) return reply.code(503).send(noStore);
    if (crossSite(request)) return reply.code(403).send({ error: { code: 'cross_site', message: 'removals from another site are refused' } });
    const answer = await api.remove(request.params.id);
    return reply.code(answer.status).send(answer.body);
  });
}
