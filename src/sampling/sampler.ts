import { createHash, randomUUID } from 'node:crypto';
import type { RedisConnection as Redis } from '../redis/connection.js';
import { dialectOf, routeOfPath, type BuiltRequest } from '../capture/dialect.js';
import type { Exchange, Provider, Usage } from '../capture/exchange.js';
import type { RawExchange } from '../capture/raw.js';
import type { Config, SamplingConfig } from '../config/schema.js';
import type { Verdict } from '../detect/verdict.js';
import type { BoundedLabel } from '../metrics/labels.js';
import type { Metrics } from '../metrics/registry.js';
import { ModelCaller, type CallOutcome, type CallTarget } from './ask.js';
import { RedisTokenBudget, type TokenBudget } from './budget.js';
import { contentSkip, inSample, rateFor, type SkipReason } from './decide.js';

/**
 * Sampling in the worker: for a stable share of exchanges, ask the answering model the same
 * request again (and each shadow model the same conversation), within one token budget shared
 * by every worker, and hand the answers to the pure checks (detect/samples.ts, shadow.ts).
 *
 * Paying once: each call's outcome is written to Redis under the exchange id as soon as it
 * arrives (`<prefix>:samples:<id>`), before anything uses it, and a retried or duplicated job
 * reuses what is there and calls only what is missing. A claim key (`…:claim`, expiring) keeps
 * two workers from calling for the same exchange at once: the second waits for the first and
 * then reuses its answers. A worker killed mid-call loses only the calls it had in flight.
 */

export interface ShadowAnswer {
  /** Stable id of the shadow model within config: part of the shadow verdict's id. */
  key: string;
  upstream: string;
  model: string;
  dialect: Provider;
  route: string;
  text: string;
  usage?: Usage;
}

export interface SampleSet {
  /** The answering model's resampled answers. */
  samples: string[];
  shadows: ShadowAnswer[];
}

/** One call of a plan, under its slot name in the samples hash. */
interface Slot {
  name: string;
  role: 'resample' | 'shadow';
  target: CallTarget;
  model: string;
  built: BuiltRequest;
  key: string | undefined;
  shadow?: { key: string; upstream: string; model: string };
}

/** What a slot keeps in Redis: enough to rebuild the answers without calling again. */
interface Stored {
  result: CallOutcome['result'];
  texts?: string[];
  usage?: Usage;
}

export function shadowKey(upstream: string, model: string): string {
  return createHash('sha1').update(`${upstream}/${model}`).digest('hex').slice(0, 10);
}

/** The id a shadow model's verdict is stored under: derived from the original's, stable across retries. */
export function shadowExchangeId(originalId: string, key: string): string {
  return `${originalId}-shadow-${key}`;
}

class Lanes {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly size: number,
    private readonly maxWaiting: number,
  ) {}

  /** A lane, or undefined when too many are already waiting for one. */
  async acquire(): Promise<(() => void) | undefined> {
    if (this.active >= this.size) {
      if (this.waiting.length >= this.maxWaiting) return undefined;
      await new Promise<void>((r) => this.waiting.push(r));
    } else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Characters per token, for estimates before a call (the API's own count settles it after). */
const CHARS_PER_TOKEN = 4;

export class Sampler {
  private readonly caller: ClientLike;
  private readonly lanes: Lanes;
  private readonly claimMs: number;
  /** How long sampled answers stay in Redis when the job never finishes (a finished job deletes them). */
  private readonly keepSeconds = 3600;

  constructor(
    private readonly config: Config,
    private readonly env: Record<string, string | undefined>,
    private readonly redis: Redis,
    private readonly metrics: Metrics,
    private readonly models: BoundedLabel,
    private readonly budget: TokenBudget = new RedisTokenBudget(redis, `${config.redis.prefix}:budget:sampling`, config.sampling.tokensPerMinute),
    caller?: ClientLike,
  ) {
    this.caller = caller ?? new ModelCaller(config.sampling.timeoutMs);
    this.lanes = new Lanes(config.sampling.concurrency, config.sampling.concurrency * 8);
    this.claimMs = config.sampling.timeoutMs + 5000;
    for (const s of config.sampling.shadow) {
      for (const result of ['ok', 'http_4xx', 'http_5xx', 'timeout', 'reset', 'refused', 'bad_answer', 'error'] as const) {
        metrics.samplingCalls.inc({ upstream: s.upstream, model: models.value(s.model), role: 'shadow', result }, 0);
      }
    }
  }

  static fromConfig(config: Config, env: Record<string, string | undefined>, redis: Redis, metrics: Metrics, models: BoundedLabel): Sampler | undefined {
    return config.sampling.enabled ? new Sampler(config, env, redis, metrics, models) : undefined;
  }

  private get cfg(): SamplingConfig {
    return this.config.sampling;
  }

  /** Whether this exchange is in the sample: no I/O, the same answer on every retry. */
  picks(exchange: Exchange, verdict: Verdict): boolean {
    if (verdict.grounded && !this.cfg.grounded) return false;
    return inSample(exchange.id, rateFor(this.cfg.rates, exchange.model, this.cfg.rate));
  }

  private skip(reason: SkipReason): undefined {
    this.metrics.samplingSkipped.inc({ reason });
    return undefined;
  }

  private samplesKey(id: string): string {
    return `${this.config.redis.prefix}:samples:${id}`;
  }

  private target(upstream: string): CallTarget {
    const ups = this.config.upstreams;
    if (upstream === 'openai') return { upstream, dialect: 'openai', base: new URL(ups.openai.url), tlsVerify: ups.openai.tlsVerify };
    if (upstream === 'anthropic') return { upstream, dialect: 'anthropic', base: new URL(ups.anthropic.url), tlsVerify: ups.anthropic.tlsVerify };
    const named = ups.named[upstream];
    if (!named) throw new Error(`sampling: upstream "${upstream}" is not configured`);
    return { upstream, dialect: named.dialect, base: new URL(named.url), tlsVerify: named.tlsVerify };
  }

  /** The key for an upstream: only ever from the environment variable config names for it. */
  private credential(upstream: string): { key: string | undefined } | undefined {
    const name = this.cfg.credentials[upstream];
    if (name === undefined) return { key: undefined }; // an upstream that takes no key (a local server)
    const key = this.env[name];
    return key ? { key } : undefined;
  }

  /** The calls an exchange needs: resamples of the original request, then one per shadow model. */
  private plan(raw: RawExchange, exchange: Exchange): { slots: Slot[]; skipped: SkipReason[] } {
    const skipped: SkipReason[] = [];
    const slots: Slot[] = [];
    let body: unknown;
    try {
      body = JSON.parse(raw.request);
    } catch {
      return { slots, skipped: ['not_plain'] };
    }
    const dialect = dialectOf(exchange.provider);
    const opts = { temperature: this.cfg.temperature, maxTokens: this.cfg.maxTokens };
    const home = raw.upstream ?? exchange.provider;
    if (this.cfg.samples > 0) {
      const cred = this.credential(home);
      if (!cred) skipped.push('no_credentials');
      else {
        let left = this.cfg.samples;
        for (let i = 0; left > 0; i++) {
          const built = dialect.resample(exchange.route, body, { ...opts, n: left });
          if (!built) break;
          slots.push({ name: `r${i}`, role: 'resample', target: this.target(home), model: exchange.model, built, key: cred.key });
          left -= built.answers;
        }
      }
    }
    if (this.cfg.shadow.length > 0) {
      const plain = dialect.plainConversation(exchange.route, body);
      if (!plain.plain) skipped.push('not_plain');
      else {
        for (const s of this.cfg.shadow) {
          const cred = this.credential(s.upstream);
          if (!cred) {
            skipped.push('no_credentials');
            continue;
          }
          const target = this.target(s.upstream);
          const built = dialectOf(target.dialect).build(plain.conversation, { ...opts, model: s.model, n: 1 });
          const key = shadowKey(s.upstream, s.model);
          slots.push({ name: `s:${key}`, role: 'shadow', target, model: s.model, built, key: cred.key, shadow: { key, upstream: s.upstream, model: s.model } });
        }
      }
    }
    return { slots, skipped };
  }

  /**
   * Collects the sampled and shadow answers for an exchange the sampler picks, calling only for
   * answers not already in Redis. Undefined when nothing was collected (each reason counted).
   */
  async collect(raw: RawExchange, exchange: Exchange, verdict: Verdict): Promise<SampleSet | undefined> {
    const why = contentSkip(exchange, verdict);
    if (why) return this.skip(why);
    const { slots, skipped } = this.plan(raw, exchange);
    for (const reason of new Set(skipped)) this.metrics.samplingSkipped.inc({ reason });
    if (slots.length === 0) return undefined;

    const release = await this.lanes.acquire();
    if (!release) return this.skip('busy');
    try {
      const claim = await this.claim(exchange.id);
      if (!claim) return this.skip('in_progress');
      try {
        return await this.gather(exchange.id, slots);
      } finally {
        await this.redis.eval(RELEASE, 1, `${this.samplesKey(exchange.id)}:claim`, claim).catch(() => {});
      }
    } finally {
      release();
    }
  }

  /** Takes the exchange's claim, waiting out another worker's (live or dead) for at most its lifetime. */
  private async claim(id: string): Promise<string | undefined> {
    const key = `${this.samplesKey(id)}:claim`;
    const token = randomUUID();
    const deadline = Date.now() + this.claimMs + 1000;
    for (;;) {
      if ((await this.redis.set(key, token, 'PX', this.claimMs, 'NX')) === 'OK') return token;
      if (Date.now() > deadline) return undefined;
      await sleep(100);
    }
  }

  private async gather(id: string, slots: Slot[]): Promise<SampleSet | undefined> {
    const key = this.samplesKey(id);
    const cached = await this.redis.hgetall(key);
    const outcomes = new Map<string, Stored>();
    for (const [name, text] of Object.entries(cached)) {
      try {
        outcomes.set(name, JSON.parse(text) as Stored);
      } catch {}
    }
    const missing = slots.filter((s) => !outcomes.has(s.name));
    if (missing.length > 0) {
      const estimates = missing.map((s) => Math.ceil(JSON.stringify(s.built.body).length / CHARS_PER_TOKEN) + this.cfg.maxTokens * s.built.answers);
      const total = estimates.reduce((a, b) => a + b, 0);
      let allowed: boolean;
      try {
        allowed = await this.budget.reserve(total);
      } catch {
        this.metrics.samplingSkipped.inc({ reason: 'budget_error' });
        allowed = false;
      }
      if (!allowed) {
        if (total > 0) this.metrics.samplingSkipped.inc({ reason: 'over_budget' });
      } else {
        await Promise.all(missing.map((slot, i) => this.run(key, slot, estimates[i]!, outcomes)));
      }
    }
    return this.assemble(slots, outcomes);
  }

  /** One call: counted, its tokens settled against the budget, its outcome stored before use. */
  private async run(key: string, slot: Slot, estimate: number, outcomes: Map<string, Stored>): Promise<void> {
    const out = await this.caller.call(slot.target, slot.built, slot.key);
    const labels = { upstream: slot.target.upstream, model: this.models.value(slot.model), role: slot.role };
    this.metrics.samplingCalls.inc({ ...labels, result: out.result });
    const used = (out.usage?.inputTokens ?? 0) + (out.usage?.outputTokens ?? 0);
    if (out.usage?.inputTokens !== undefined) this.metrics.samplingTokens.inc({ ...labels, type: 'input' }, out.usage.inputTokens);
    if (out.usage?.outputTokens !== undefined) this.metrics.samplingTokens.inc({ ...labels, type: 'output' }, out.usage.outputTokens);
    // A call that failed before the model answered cost nothing; one that answered cost what it says.
    await this.budget.settle(out.result === 'ok' && used > 0 ? used - estimate : out.result === 'ok' ? 0 : -estimate).catch(() => {});
    const stored: Stored = { result: out.result, ...(out.texts ? { texts: out.texts } : {}), ...(out.usage ? { usage: out.usage } : {}) };
    outcomes.set(slot.name, stored);
    await this.redis.multi().hset(key, slot.name, JSON.stringify(stored)).expire(key, this.keepSeconds).exec().catch(() => {});
  }

  private assemble(slots: Slot[], outcomes: Map<string, Stored>): SampleSet | undefined {
    const set: SampleSet = { samples: [], shadows: [] };
    for (const slot of slots) {
      const out = outcomes.get(slot.name);
      if (!out || out.result !== 'ok' || !out.texts) continue;
      if (slot.role === 'resample') set.samples.push(...out.texts);
      else if (slot.shadow && out.texts[0] !== undefined) {
        set.shadows.push({ ...slot.shadow, dialect: slot.target.dialect, route: routeOfPath(slot.built.path), text: out.texts[0], ...(out.usage ? { usage: out.usage } : {}) });
      }
    }
    return set.samples.length > 0 || set.shadows.length > 0 ? set : undefined;
  }

  /** Deletes an exchange's sampled answers once its verdict is stored. */
  async forget(id: string): Promise<void> {
    await this.redis.del(this.samplesKey(id)).catch(() => {});
  }

  async close(): Promise<void> {
    await this.caller.close();
  }
}

/** The part of ModelCaller the sampler uses. */
export interface ClientLike {
  call: ModelCaller['call'];
  close(): Promise<void>;
}
