import { z } from 'zod';

/**
 * The one config schema: defaults, validation and types all come from here.
 * config/default.yaml mirrors these defaults so operators can read them in one place.
 */

const upstreamUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');

export const UpstreamSchema = z.strictObject({
  /** Base URL, e.g. `https://api.openai.com`. Paths are appended verbatim. */
  url: upstreamUrl,
  /** Wire format spoken by this upstream. */
  dialect: z.enum(['openai', 'anthropic']),
  /** Path prefix this upstream is mounted under (named upstreams only), e.g. `/ollama`. */
  prefix: z
    .string()
    .regex(/^\/[a-z0-9][a-z0-9._-]*$/i, 'must look like /name')
    .optional(),
  /** Milliseconds to wait for upstream response headers. */
  headersTimeoutMs: z.number().int().positive().default(60_000),
  /** Milliseconds of silence allowed between upstream body chunks. */
  bodyTimeoutMs: z.number().int().positive().default(300_000),
  /** Milliseconds to establish the TCP/TLS connection. */
  connectTimeoutMs: z.number().int().positive().default(10_000),
  /**
   * Most connections to the upstream origin at once, i.e. most requests in flight to it (one
   * per connection): a stream holds its connection for its whole length, so this must exceed
   * the concurrent streams expected. Requests beyond it wait for a free connection.
   */
  connections: z.number().int().positive().default(4096),
  /** Verify upstream TLS certificates. Turn off only for a private upstream you trust. */
  tlsVerify: z.boolean().default(true),
});
export type UpstreamConfig = z.infer<typeof UpstreamSchema>;

const hostPort = z.string().regex(/^(\[[0-9a-f:.]+\]|[^\s:/,\[\]]+):\d{1,5}$/i, 'must be host:port');
/** `host:port` addresses, as a list or as one comma-separated string (how the environment gives them). */
const hostPortList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
  z.array(hostPort).min(1, 'needs at least one host:port'),
);

interface RedisModeFields {
  url?: string;
  sentinels?: string[];
  sentinelName?: string;
  sentinelPassword?: string;
  clusterNodes?: string[];
  clusterNatMap?: Record<string, string>;
  username?: string;
  password?: string;
  prefix: string;
  tls: { enabled: boolean; caFile?: string; certFile?: string; keyFile?: string; servername?: string };
}

/** One Redis mode at a time, each with what it needs; messages never repeat a value (it may hold a password). */
function checkRedisMode(r: RedisModeFields, ctx: z.RefinementCtx): void {
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const modes = [r.url !== undefined && 'url', r.sentinels && 'sentinels', r.clusterNodes && 'clusterNodes'].filter(Boolean);
  if (modes.length > 1) issue([modes[1] as string], `set only one of url (REDIS_URL), sentinels (VERACITY_REDIS_SENTINELS) and clusterNodes (VERACITY_REDIS_CLUSTER_NODES); found ${modes.join(', ')}`);
  if (r.url !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(r.url);
    } catch {}
    if (!url || !/^rediss?:$/.test(url.protocol) || url.hostname === '') issue(['url'], 'must be a redis://[user:password@]host[:port][/db] or rediss://… URL');
    else if (!/^\/?\d*$/.test(url.pathname)) issue(['url'], 'the path of a Redis URL is a database number, e.g. redis://host:6379/0');
    else if (url.protocol === 'redis:' && (r.tls.enabled || r.tls.caFile || r.tls.certFile || r.tls.keyFile)) {
      issue(['tls'], 'TLS settings are given but the URL is redis://; write rediss:// for TLS');
    }
  }
  if (r.sentinels && !r.sentinelName) issue(['sentinelName'], 'Sentinel mode needs the primary\'s name (VERACITY_REDIS_SENTINEL_NAME)');
  if (!r.sentinels && r.sentinelName) issue(['sentinels'], 'sentinelName is set but no sentinels (VERACITY_REDIS_SENTINELS)');
  if (!r.sentinels && r.sentinelPassword) issue(['sentinelPassword'], 'is set but no sentinels (VERACITY_REDIS_SENTINELS)');
  if (!r.clusterNodes && r.clusterNatMap) issue(['clusterNatMap'], 'is set but no clusterNodes (VERACITY_REDIS_CLUSTER_NODES)');
  if (r.clusterNodes && r.prefix === '') issue(['prefix'], 'must not be empty in Cluster mode (it becomes the hash tag that keeps every key in one slot)');
  if (Boolean(r.tls.certFile) !== Boolean(r.tls.keyFile)) issue(['tls', r.tls.certFile ? 'keyFile' : 'certFile'], 'a client certificate needs both certFile (VERACITY_REDIS_CERT_FILE) and keyFile (VERACITY_REDIS_KEY_FILE)');
  if (modes.length === 0) {
    // Nothing names a Redis: the private redis-server, which listens on a unix socket only.
    const remoteOnly = (['username', 'password'] as const).filter((k) => r[k] !== undefined);
    const tls = r.tls.enabled || r.tls.caFile || r.tls.certFile || r.tls.keyFile || r.tls.servername;
    for (const k of remoteOnly) issue([k], 'is set but no Redis is configured (REDIS_URL, VERACITY_REDIS_SENTINELS or VERACITY_REDIS_CLUSTER_NODES); the private redis-server takes none');
    if (tls) issue(['tls'], 'is set but no Redis is configured (REDIS_URL, VERACITY_REDIS_SENTINELS or VERACITY_REDIS_CLUSTER_NODES)');
  }
}

/**
 * BullMQ runs multi-key scripts, and Veracity's own writes touch several keys at once: on a
 * cluster they must all hash to one slot, which a hash tag at the start of the prefix ensures.
 */
function clusterPrefix<T extends RedisModeFields>(r: T): T {
  if (!r.clusterNodes || /^[^{]*\{[^}]+\}/.test(r.prefix)) return r;
  return { ...r, prefix: `{${r.prefix}}` };
}
/**
 * Remote scoring (src/remote): the worker sends (context passage, claim) pairs to a sequence
 * classifier served in Hugging Face text-embeddings-inference's `/predict` format and merges its
 * scores with the local ones. Off by default.
 */
export const RemoteScoringSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Base URL of the server; requests go to `{url}/predict`. Required when enabled. */
    url: upstreamUrl.optional(),
    /** Shown in provenance as `remote:<name>` and in the verdict. */
    name: z.string().regex(/^[\w.:-]{1,64}$/, 'must be 1-64 letters, digits, `_`, `.`, `:` or `-`').default('nli'),
    /** Name of the environment variable holding a bearer key, if the server wants one (the key itself is never in config). */
    apiKeyEnv: z.string().default('VERACITY_REMOTE_API_KEY'),
    /** The model's label meaning "the passage supports the claim": `entailment` for NLI models, e.g. `consistent` or `supported` for others. Matched ignoring case. */
    supportedLabel: z.string().min(1).default('entailment'),
    /** The label meaning "the passage contradicts the claim", if the model has one; empty for none. */
    contradictionLabel: z.string().default('contradiction'),
    /** Share of grounded exchanges scored, 0..1, decided by a stable hash of the exchange id. */
    sampleRate: z.number().min(0).max(1).default(1),
    /** Claims scored per exchange (the least supported first). */
    maxClaims: z.number().int().positive().default(16),
    /** Pairs per request. */
    batchSize: z.number().int().positive().max(1024).default(16),
    /** Context characters sent with each claim: the window around its best-matching passage. */
    maxPassageChars: z.number().int().positive().default(2000),
    /** Milliseconds one request may take. */
    timeoutMs: z.number().int().positive().default(5000),
    /** Estimated tokens (characters / 4) the endpoint may be sent per minute; over it, exchanges keep their local scores. */
    tokensPerMinute: z.number().int().positive().default(200_000),
    /** Weight of the remote score against the local one, per claim and for the exchange. */
    weight: z.number().min(0).max(1).default(0.5),
  })
  .refine((r) => !r.enabled || r.url !== undefined, { message: 'is required when detect.remote.enabled is true', path: ['url'] });
export type RemoteScoringConfig = z.infer<typeof RemoteScoringSchema>;

/** What inline mode does with an answer: nothing, add the verdict to it, or withhold a flagged one. */
export const InlineModeSchema = z.enum(['off', 'annotate', 'block']);
export type InlineMode = z.infer<typeof InlineModeSchema>;
/** The conditions of a verdict that can flag an answer, as `x-veracity-flagged` names them. */
export const FLAG_NAMES = ['hallucination', 'confidence_mismatch', 'refusal'] as const;
export type FlagName = (typeof FLAG_NAMES)[number];

/** What an app or a model may set differently from the `inline` defaults. */
const InlinePolicySchema = z.strictObject({
  mode: InlineModeSchema.optional(),
  retry: z.number().int().min(0).max(5).optional(),
  fallbackModel: z.string().min(1).optional(),
  blockOn: z.array(z.enum(FLAG_NAMES)).min(1).optional(),
});
export type InlinePolicyConfig = z.infer<typeof InlinePolicySchema>;

/**
 * Inline mode (src/proxy/inline): the proxy runs the local detectors on the answer before the
 * client has it, and annotates it (headers, or an SSE comment after a stream's last event) or,
 * non-streaming, replaces a flagged answer with a 422. See docs/inline.md.
 */
export const InlineSchema = z.strictObject({
  /** `off` (default), `annotate` or `block`; per model, per app and per request it may differ (below). */
  mode: InlineModeSchema.default('off'),
  /** Per requested model (`model` of the request body): overrides of the defaults here. */
  models: z.record(z.string(), InlinePolicySchema).default({}),
  /** Per app (`x-veracity-app` header): overrides of the defaults and of `models`. */
  apps: z.record(z.string(), InlinePolicySchema).default({}),
  /** Let a request choose its own mode with `x-veracity-inline: off|annotate|block` (it wins over the rest). */
  header: z.boolean().default(true),
  /**
   * Largest request or response body judged inline, bytes. A larger one is passed through as it
   * comes, without a verdict in it (counted as outcome `oversize`); the worker still judges it.
   */
  maxBodyBytes: z.number().int().positive().default(1024 * 1024),
  /**
   * Answers whose request and response together exceed this many bytes are judged on a thread
   * (`threads` of them) instead of the event loop: at the size limits detection takes tens of
   * milliseconds, which would stall every other request. Below it the hand-off costs more than it saves.
   */
  threadAboveBytes: z.number().int().nonnegative().default(32 * 1024),
  /** Threads that judge large answers; 0 = judge everything on the event loop. */
  threads: z.number().int().min(0).max(16).default(1),
  /** `block`: ask the upstream again this many times when an answer is flagged, and deliver the first that passes. */
  retry: z.number().int().min(0).max(5).default(0),
  /** `block` with `retry`: the model the retries ask instead of the requested one (unset: the same request again). */
  fallbackModel: z.string().min(1).optional(),
  /** `block`: which flagged conditions withhold an answer (default: any, as `x-veracity-flagged` lists them). */
  blockOn: z.array(z.enum(FLAG_NAMES)).min(1).default([...FLAG_NAMES]),
  /** Streams: after the `: veracity …` comment, also send a structured `event: veracity` (clients must ignore unknown events). */
  sseEvent: z.boolean().default(false),
  /** Base URL of the console for the `x-veracity-console` link (default: a path on this proxy). */
  consoleUrl: upstreamUrl.optional(),
});
export type InlineConfig = z.infer<typeof InlineSchema>;

export const ConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Largest request body accepted, bytes. Larger → 413 in the dialect's error format. */
      bodyLimitBytes: z.number().int().positive().default(16 * 1024 * 1024),
      /** Milliseconds to wait for in-flight requests on shutdown before closing them. */
      shutdownGraceMs: z.number().int().nonnegative().default(10_000),
      /** Node's request timeout for slow clients (whole request received), ms. */
      requestTimeoutMs: z.number().int().positive().default(30_000),
      /** Node's headers timeout for slow clients, ms. */
      headersTimeoutMs: z.number().int().positive().default(10_000),
      /** Log level: fatal, error, warn, info, debug, trace, silent. */
      logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  upstreams: z
    .strictObject({
      openai: UpstreamSchema.omit({ dialect: true, prefix: true }).prefault({ url: 'https://api.openai.com' }),
      anthropic: UpstreamSchema.omit({ dialect: true, prefix: true }).prefault({ url: 'https://api.anthropic.com' }),
      /** More named upstreams, mounted under their prefix: `/ollama/v1/chat/completions`. */
      named: z.record(z.string(), UpstreamSchema).default({}),
    })
    .prefault({}),
  capture: z
    .strictObject({
      /** Analyse exchanges at all. Off = a plain proxy with request metrics. */
      enabled: z.boolean().default(true),
      /** Largest request or response body copied for analysis, bytes. Beyond it the copy is truncated (counted). */
      maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
      /** Inject `stream_options.include_usage` into OpenAI streaming requests and strip the extra usage chunk. */
      injectStreamUsage: z.boolean().default(false),
      /** Max enqueues waiting on Redis at once; more are dropped (counted) so memory stays bounded. */
      maxInFlightEnqueues: z.number().int().positive().default(1000),
      /** Bytes of captured bodies waiting on Redis at once; more are dropped (counted). */
      maxInFlightEnqueueBytes: z.number().int().positive().default(256 * 1024 * 1024),
      /** An enqueue slower than this is abandoned and counted as dropped. */
      enqueueTimeoutMs: z.number().int().positive().default(2000),
      /**
       * Exchanges finishing within this window go to Redis as one job (at most 64 or 1 MiB), ms.
       * It delays analysis, never the response; 0 batches only what ends in the same event-loop turn.
       * BullMQ's add, fetch and finish cost the same for a job of 5 exchanges as of 50, on the
       * proxy's thread and in the Redis beside it: 20 ms makes jobs some four times larger than
       * 5 ms did under load (docs/performance-hot-path.md).
       */
      batchWindowMs: z.number().int().min(0).max(1000).default(20),
      /** Keep no prompt or response text in Redis verdicts (metrics and scores only). */
      storeText: z.boolean().default(true),
      /** Mask e-mail addresses, phone numbers, card numbers, IP addresses and similar in the copy before it is queued. */
      redactPii: z.boolean().default(false),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** Redis URL; unset = start a private redis-server child. */
      url: z.string().optional(),
      /** Data directory of the private redis-server. */
      dataDir: z.string().default('.veracity/redis'),
      /** Path of the redis-server binary for the private child. */
      binary: z.string().default('redis-server'),
      /**
       * Key prefix for everything Veracity stores. In Cluster mode it is wrapped in braces
       * (`{veracity}`) unless it already holds a hash tag, so every key shares one slot.
       */
      prefix: z.string().default('veracity'),
      /** Sentinel mode: the sentinels' `host:port` addresses (a list, or one comma-separated string). */
      sentinels: hostPortList.optional(),
      /** Sentinel mode: the name the sentinels know the primary by (`sentinel monitor <name> …`). */
      sentinelName: z.string().min(1).optional(),
      /** Password of the sentinels themselves, when they ask for one; the data nodes' is `password`. */
      sentinelPassword: z.string().min(1).optional(),
      /** Cluster mode: `host:port` of one or more cluster nodes; the rest are discovered. */
      clusterNodes: hostPortList.optional(),
      /** Cluster mode: the address a node announces → the address to reach it by (`host:port` both). */
      clusterNatMap: z.record(hostPort, hostPort).optional(),
      /** ACL user and password of the data nodes, for Sentinel and Cluster mode or a URL without them. */
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      tls: z
        .strictObject({
          /** TLS to Redis (and the sentinels) in Sentinel and Cluster mode; a `rediss://` URL turns it on for a URL. */
          enabled: z.boolean().default(false),
          /** PEM CA certificate(s) to verify the servers with, instead of the system's; implies TLS. */
          caFile: z.string().min(1).optional(),
          /** PEM client certificate and its key, for servers that ask for one (`tls-auth-clients`); implies TLS. */
          certFile: z.string().min(1).optional(),
          keyFile: z.string().min(1).optional(),
          /** Name the server certificates must be valid for, when it differs from the address connected to. */
          servername: z.string().min(1).optional(),
        })
        .prefault({}),
      /**
       * Memory limit of the private redis-server: bytes, a size such as "512mb" or "2gb", or "auto"
       * (a quarter of the memory available to Veracity). Its policy is always noeviction.
       */
      maxmemory: z
        .union([z.literal('auto'), z.number().int().min(0), z.string().regex(/^\d+\s*(kb|mb|gb)?$/i, 'expected "auto", a byte count, or a size such as "512mb"')])
        .default('auto'),
      /**
       * Share of Redis's maxmemory (any Redis that has one) above which the proxy queues no new
       * exchanges (dropped, reason redis_full), so the rest is left for the verdicts of those queued.
       * 1 turns it off: new exchanges are queued until Redis itself refuses them.
       */
      memoryHighWater: z.number().gt(0).max(1).default(0.9),
      /** How often Redis's memory is read (INFO) for /metrics and the high-water mark, ms. */
      memoryPollMs: z.number().int().positive().default(5000),
    })
    .superRefine(checkRedisMode)
    .transform(clusterPrefix)
    .prefault({}),
  worker: z
    .strictObject({
      /** Jobs (batches of exchanges) taken at once per worker, and exchanges of a batch awaiting at once. */
      concurrency: z.number().int().positive().default(8),
      /**
       * Nice value (0-19) of analysis: the worker thread in `serve`, the whole process for
       * `worker`. Above 0, a proxy on the same CPU runs first (at once with `idleScheduling`);
       * 0 leaves priority alone.
       */
      nice: z.number().int().min(0).max(19).default(19),
      /**
       * Linux: also run analysis under the SCHED_IDLE policy (with util-linux's chrt), so a proxy
       * thread that wakes up takes the CPU at once instead of after the analysis thread's slice.
       * Applies only when `nice` is above 0.
       */
      idleScheduling: z.boolean().default(true),
      /**
       * Where `serve` runs analysis: `process`, a child process that ends with serve, or `thread`,
       * a thread of its own in the proxy's process. A thread shares V8's helper threads (garbage
       * collection, the optimising compiler) with the proxy, and they run at the proxy's
       * priority, so analysis' garbage is collected partly at the proxy's expense; in a process
       * every analysis thread runs at the lowered priority. `thread` is the default so that `serve`
       * stays one process, as the commands promise; `process` is the faster layout on a busy
       * machine. See docs/performance-hot-path.md.
       */
      isolation: z.enum(['thread', 'process']).default('thread'),
      /** Attempts per job before it is given up. */
      attempts: z.number().int().positive().default(3),
      /** A job whose worker stops renewing its lock for this long (crash, kill -9) is handed to another worker, ms. */
      lockDurationMs: z.number().int().positive().default(30_000),
      /** How often workers look for such stalled jobs, ms. */
      stalledIntervalMs: z.number().int().positive().default(30_000),
      /** Port of the worker's own /metrics when run alone (`veracity worker`). */
      metricsPort: z.number().int().min(0).max(65535).default(9464),
      metricsHost: z.string().default('127.0.0.1'),
    })
    .prefault({}),
  verdicts: z
    .strictObject({
      /** How long a verdict stays retrievable, seconds. */
      ttlSeconds: z.number().int().positive().default(7 * 24 * 3600),
      /** How long the per-minute aggregates are kept, hours (per-hour ones are kept ttlSeconds). */
      fineRetentionHours: z.number().int().positive().default(48),
      /** Flagged verdict ids kept per model, kind and order (most recent, highest score) for the console. */
      flaggedPerModel: z.number().int().positive().max(10_000).default(200),
      /** Question text kept for the console, characters (with capture.storeText). */
      questionMaxChars: z.number().int().nonnegative().default(4000),
      /**
       * Most verdict ids kept per model in the per-model time index that `report --compare`
       * reads, newest first; 0 = keep no index (about 6 µs of Redis time per verdict saved).
       */
      maxIndexedPerModel: z.number().int().nonnegative().default(100_000),
      /**
       * Name of the environment variable holding the key of `prompt_hash` (HMAC-SHA-256, at least
       * 16 characters); unset variable = unkeyed SHA-256. The key itself is never in config.
       */
      promptHashKeyEnv: z.string().min(1).default('VERACITY_PROMPT_HASH_KEY'),
    })
    .prefault({}),
  detect: z
    .strictObject({
      /** Exchange hallucination score at or above which `hallucination.flagged` is true. */
      hallucinationThreshold: z.number().min(0).max(1).default(0.5),
      /** Claim score at or above which a claim is `unsupported`. */
      claimThreshold: z.number().min(0).max(1).default(0.5),
      /** Confidence-mismatch score at or above which it is flagged. */
      mismatchThreshold: z.number().min(0).max(1).default(0.5),
      /** Refusal score at or above which a refusal is flagged. */
      refusalThreshold: z.number().min(0).max(1).default(0.5),
      /** Longest response text analysed, characters; the rest is truncated (counted). */
      maxResponseChars: z.number().int().positive().default(20_000),
      /** Longest context analysed, characters; the rest is truncated (counted). */
      maxContextChars: z.number().int().positive().default(200_000),
      /** Optional model-backed scoring: an NLI-style classifier behind a text-embeddings-inference `/predict` endpoint. */
      remote: RemoteScoringSchema.prefault({}),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** Models given their own label; others are admitted first-come up to `maxModels`. */
      models: z.array(z.string()).default([]),
      /** Distinct model label values beyond `models`; the rest become `other`. */
      maxModels: z.number().int().nonnegative().default(50),
      /** Known app labels (`x-veracity-app`); others first-come up to `maxApps`, then `other`. */
      apps: z.array(z.string()).default([]),
      maxApps: z.number().int().nonnegative().default(20),
    })
    .prefault({}),
  judge: z
    .strictObject({
      /** Ask a model to verify claims against the context, in the worker, after the local detectors. */
      enabled: z.boolean().default(false),
      /** Base URL of an OpenAI-compatible API (POST {url}/v1/chat/completions). */
      url: upstreamUrl.default('https://api.openai.com'),
      /** Judge model name. */
      model: z.string().min(1).default('gpt-4o-mini'),
      /** Name of the environment variable holding the judge's API key (the key itself is never in config). */
      apiKeyEnv: z.string().default('VERACITY_JUDGE_API_KEY'),
      /** Share of exchanges judged, per answering model; `default` for the rest. 0..1. */
      sampleRates: z.record(z.string(), z.number().min(0).max(1)).default({ default: 0.05 }),
      /** Estimated tokens (prompt + answer) the judge may use per minute; over it, exchanges are not judged. */
      tokensPerMinute: z.number().int().positive().default(50_000),
      /** Claims sent to the judge per exchange (the least supported first). */
      maxClaims: z.number().int().positive().default(12),
      /** Context characters sent to the judge. */
      maxContextChars: z.number().int().positive().default(24_000),
      timeoutMs: z.number().int().positive().default(15_000),
      /** Weight of the judge's score against the local score in the merged hallucination score. */
      weight: z.number().min(0).max(1).default(0.5),
      /** Also put claims of exchanges without context to the judge, to verify from its own knowledge. */
      ungrounded: z.boolean().default(false),
    })
    .prefault({}),
  labels: z
    .strictObject({
      /** Days a label is kept; 0 = until removed (labels are the team's work and outlive the verdicts). */
      retentionDays: z.number().int().nonnegative().default(0),
      /**
       * The judge as labeller: a share of analysed exchanges, chosen uniformly at random (a stable
       * hash of the id), labelled by the judge model (`by: "judge:<model>"`, selection random),
       * within the judge's token budget. Needs the judge (`judge.enabled`).
       */
      judge: z
        .strictObject({
          enabled: z.boolean().default(false),
          /** Share of analysed exchanges the judge labels, 0..1. */
          share: z.number().min(0).max(1).default(0.05),
        })
        .prefault({}),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** Bearer token for /veracity/*; unset = those routes answer only on loopback. */
      token: z.string().min(16, 'must be at least 16 characters').optional(),
    })
    .prefault({}),
  sampling: z
    .strictObject({
      /** The worker re-asks upstreams for a share of analysed exchanges and checks the answer against the new answers. */
      enabled: z.boolean().default(false),
      /** Share of eligible exchanges sampled, 0..1, decided by a stable hash of the exchange id. */
      rate: z.number().min(0).max(1).default(0.05),
      /** Per answering model overrides of `rate`. */
      rates: z.record(z.string(), z.number().min(0).max(1)).default({}),
      /** Extra answers of the same model per sampled exchange (0 = shadow models only). */
      samples: z.number().int().min(0).max(20).default(3),
      temperature: z.number().min(0).max(2).default(1.0),
      /** Estimated tokens (prompt + answer) all sampling and shadow calls may use per minute, shared by every worker through Redis. */
      tokensPerMinute: z.number().int().positive().default(200_000),
      /** Most tokens of each sampled or shadow answer (the original request's own limit applies when lower). */
      maxTokens: z.number().int().positive().default(1024),
      /** One sampling or shadow call gives up after this long, ms; the local verdict stands. */
      timeoutMs: z.number().int().positive().default(30_000),
      /** Also sample exchanges that carry context (they are checked against both). */
      grounded: z.boolean().default(false),
      /** Exchanges being sampled at once per worker; the rest of analysis never waits for them. */
      concurrency: z.number().int().positive().default(4),
      /** NAMES of environment variables holding keys, per upstream (`openai`, `anthropic` or a named upstream). */
      credentials: z.record(z.string(), z.string().min(1)).default({ openai: 'VERACITY_SAMPLING_OPENAI_KEY', anthropic: 'VERACITY_SAMPLING_ANTHROPIC_KEY' }),
      /** Other models asked the same sampled requests, on any configured upstream. */
      shadow: z.array(z.strictObject({ upstream: z.string().min(1), model: z.string().min(1) })).default([]),
    })
    .prefault({}),
  inline: InlineSchema.prefault({}),
}).superRefine((config, ctx) => {
  if (config.labels.judge.enabled && !config.judge.enabled) {
    ctx.addIssue({ code: 'custom', path: ['labels', 'judge', 'enabled'], message: 'needs the judge (judge.enabled: true, with its url, model and key); to label without changing verdicts, give it judge.sampleRates: {default: 0}' });
  }
  const upstreams = new Set(['openai', 'anthropic', ...Object.keys(config.upstreams.named)]);
  config.sampling.shadow.forEach((s, i) => {
    if (!upstreams.has(s.upstream)) {
      ctx.addIssue({ code: 'custom', path: ['sampling', 'shadow', i, 'upstream'], message: `names no configured upstream (one of: ${[...upstreams].join(', ')})` });
    }
  });
});

export type Config = z.infer<typeof ConfigSchema>;
export type DetectConfig = Config['detect'];
export type SamplingConfig = Config['sampling'];
