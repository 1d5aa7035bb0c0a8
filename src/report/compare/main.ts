import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../../config/load.js';
import { buildComparison, type Comparison } from './figures.js';
import { comparisonHtml, comparisonText } from './render.js';
import { CompareError, loadFromFile, loadFromRedis, parseModelSpec, specText, type Loaded, type Window } from './sources.js';
import { durationMs } from '../duration.js';
import { RedisSourceError, connectReportRedis, reportLocation, type RedisLocation } from '../from-redis.js';
import { readVerifiedPair, type VerifiedComparison } from '../verified.js';
import { aggregateOptions, type AggregateOptions } from '../../verdicts/aggregates.js';

/**
 * `veracity report --compare MODEL_A MODEL_B`: which model fails less on the prompts both
 * answered, with its uncertainty. Verdicts come from Redis (the per-model time index the workers
 * keep) or from a JSONL file of verdicts (`--verdicts`, e.g. the output of `check`).
 */

export const COMPARE_USAGE = `usage: veracity report --compare MODEL_A MODEL_B [--since 24h] [--json F] [--out F.html]
                       [--verdicts F | --redis URL] [--at T] [--examples N] [--prefix P]

Pairs the two models' verdicts on the same prompts (same prompt_hash; a shadow verdict with the
verdict of the request it answered) and prints, for hallucination, refusal and confidence
mismatch: both flagged / only A / only B / neither, each model's rate on the paired prompts with
a Wilson 95% interval, and McNemar's exact p-value for the difference; then the disagreements
with the largest score gaps. A model is its name, or provider:name (openai:…, anthropic:…).

  --since D        window ending now (or at --at): e.g. 90m, 24h, 7d (default 24h from Redis;
                   every verdict when reading a file)
  --verdicts F     read verdicts from a JSONL file instead of Redis
  --redis R        Redis holding the verdicts: redis://, rediss:// or a unix socket path (default
                   $REDIS_URL, else the embedded default's socket in redis.dataDir when serve runs)
  --prefix P       key prefix (default: redis.prefix from the config)
  --json F         also write the figures as JSON
  --out F          also write a self-contained HTML page
  --at T           end the window at Unix time T (seconds) instead of now
  --examples N     disagreements listed per measure and direction (default 5)`;

export interface CompareIO {
  out(text: string): void;
  err(text: string): void;
}

const processIO: CompareIO = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function compareMain(argv: string[], io: CompareIO = processIO): Promise<number> {
  const usage = (msg: string) => {
    io.err(`veracity report: ${msg}\n\n${COMPARE_USAGE}\n`);
    return 2;
  };
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        compare: { type: 'boolean', default: false },
        since: { type: 'string' },
        verdicts: { type: 'string' },
        redis: { type: 'string' },
        prefix: { type: 'string' },
        json: { type: 'string' },
        out: { type: 'string' },
        at: { type: 'string' },
        examples: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) {
    io.out(`${COMPARE_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 2) return usage(`--compare takes two models, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  let specA, specB;
  try {
    specA = parseModelSpec(positionals[0]!);
    specB = parseModelSpec(positionals[1]!);
  } catch (err) {
    return usage((err as Error).message);
  }
  if (specA.model === specB.model && (specA.provider === specB.provider || !specA.provider || !specB.provider)) {
    return usage(`MODEL_A and MODEL_B must be two different models, got ${specText(specA)} and ${specText(specB)}`);
  }
  const examples = Number(values.examples);
  if (!Number.isInteger(examples) || examples < 0) return usage(`--examples ${JSON.stringify(values.examples)} must be a whole number`);
  let toMs = Date.now();
  if (values.at !== undefined) {
    const at = Number(values.at);
    if (values.at.trim() === '' || !Number.isFinite(at)) return usage(`--at ${JSON.stringify(values.at)} must be a Unix time in seconds`);
    toMs = at * 1000;
  }
  const fromFile = values.verdicts !== undefined;
  if (fromFile && argv.some((a) => a === '--redis' || a.startsWith('--redis='))) return usage('give --verdicts or --redis, not both');
  const since = values.since ?? (fromFile ? null : '24h');
  let window: Window | undefined;
  if (since !== null) {
    const span = durationMs(since);
    if (span === undefined) return usage(`--since ${JSON.stringify(since)} is not a duration (e.g. 90m, 24h, 7d)`);
    window = { fromMs: toMs - span, toMs };
  } else if (values.at !== undefined) {
    window = { toMs };
  }

  let loaded: Loaded;
  let verified: VerifiedComparison | undefined;
  try {
    if (fromFile) {
      loaded = await loadFromFile(values.verdicts!, specA, specB, window);
    } else {
      let config;
      try {
        config = loadConfig().config;
      } catch (err) {
        if (err instanceof ConfigError) {
          io.err(`veracity report: ${err.message}\n`);
          return 2;
        }
        throw err;
      }
      let location: RedisLocation | undefined;
      const given = values.redis ?? (process.env.REDIS_URL || undefined);
      try {
        location = reportLocation(config, given);
      } catch (err) {
        if (err instanceof RedisSourceError) return usage(err.message);
        throw err;
      }
      if (!location) return usage('no verdicts to read: give --redis URL (or set REDIS_URL), or --verdicts FILE (or name a Sentinel or Cluster)');
      const prefix = values.prefix ?? config.redis.prefix;
      loaded = await loadFromRedis(location, prefix, specA, specB, window!);
      verified = await verifiedFromRedis(location, { ...aggregateOptions(config), prefix }, [specA, specB], window!);
    }
  } catch (err) {
    if (err instanceof CompareError) {
      io.err(`veracity report: ${err.message}\n`);
      return err.code === 'VERACITY_ERR_COMPARE_MODEL' ? 2 : 1;
    }
    throw err;
  }

  const comparison: Comparison = buildComparison(loaded, {
    nameA: specA.model,
    nameB: specB.model,
    since,
    fromMs: window?.fromMs,
    toMs: window?.toMs,
    examples,
  });
  if (verified) comparison.verified = verified;
  try {
    if (values.json) writeFileSync(values.json, `${JSON.stringify(comparison, null, 2)}\n`);
    if (values.out) writeFileSync(values.out, comparisonHtml(comparison));
  } catch (err) {
    io.err(`veracity report: cannot write output: ${(err as Error).message}\n`);
    return 1;
  }
  io.out(comparisonText(comparison));
  return 0;
}

/** Each model's verified rate and their difference; undefined (the paired figures stand alone) when Redis fails here. */
async function verifiedFromRedis(location: RedisLocation, aggregates: AggregateOptions, specs: [{ provider?: string; model: string }, { provider?: string; model: string }], window: Window): Promise<VerifiedComparison | undefined> {
  let redis;
  try {
    redis = await connectReportRedis(location);
    const toMs = window.toMs;
    return await readVerifiedPair(specs, { redis, aggregates, fromMs: window.fromMs ?? 0, toMs });
  } catch {
    return undefined;
  } finally {
    redis?.disconnect();
  }
}
