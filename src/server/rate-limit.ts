/**
 * Requests per API key: a token bucket per owner holding `perMinute` tokens, refilled evenly
 * (perMinute / 60 a second). In process only: each `reel serve` counts its own requests, so N
 * servers behind a balancer allow up to N × the limit.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token: null when allowed, else the whole seconds until one is available. */
  take(owner: string): number | null {
    const t = this.now();
    const rate = this.perMinute / 60_000; // tokens per ms
    const b = this.buckets.get(owner) ?? { tokens: this.perMinute, at: t };
    b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * rate);
    b.at = t;
    this.buckets.set(owner, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return null;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}
