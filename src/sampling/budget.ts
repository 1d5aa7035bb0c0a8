import type { RedisConnection as Redis } from '../redis/connection.js';

/**
 * A tokens-per-minute budget for calls the worker makes to models (sampling, shadow, judge).
 * Calls reserve an estimate first and settle the difference once the API reports what it used.
 * The Redis budget is one fixed one-minute window per key, shared by every worker; the local
 * one is the same rule in one process, for callers without Redis.
 */
export interface TokenBudget {
  /** Takes `tokens` from this minute's budget; false (and nothing taken) when they do not fit. */
  reserve(tokens: number): Promise<boolean>;
  /** Corrects an earlier reservation by `delta` tokens (negative gives tokens back). */
  settle(delta: number): Promise<void>;
}

export class LocalTokenBudget implements TokenBudget {
  private windowStart = Date.now();
  private spent = 0;

  constructor(private readonly perMinute: number) {}

  private roll(): void {
    const now = Date.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.spent = 0;
    }
  }

  async reserve(tokens: number): Promise<boolean> {
    this.roll();
    if (this.spent + tokens > this.perMinute) return false;
    this.spent += tokens;
    return true;
  }

  async settle(delta: number): Promise<void> {
    this.roll();
    this.spent = Math.max(0, this.spent + delta);
  }
}

// Check and take in one step, so workers racing for the last tokens of a minute cannot overdraw it.
const RESERVE = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], 120000)
return 1`;

export class RedisTokenBudget implements TokenBudget {
  constructor(
    private readonly redis: Redis,
    /** Key prefix; the minute is appended. */
    private readonly key: string,
    private readonly perMinute: number,
  ) {}

  private window(): string {
    return `${this.key}:${Math.floor(Date.now() / 60_000)}`;
  }

  async reserve(tokens: number): Promise<boolean> {
    if (tokens > this.perMinute) return false;
    return (await this.redis.eval(RESERVE, 1, this.window(), String(Math.ceil(tokens)), String(this.perMinute))) === 1;
  }

  async settle(delta: number): Promise<void> {
    const d = Math.round(delta);
    if (d === 0) return;
    await this.redis.multi().incrby(this.window(), d).pexpire(this.window(), 120_000).exec();
  }
}
