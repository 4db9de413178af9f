import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit.ts";

describe("RateLimiter", () => {
  it("allows a burst of perMinute, then refills evenly, per owner", () => {
    let t = 0;
    const r = new RateLimiter(3, () => t);
    expect([r.take("a"), r.take("a"), r.take("a")]).toEqual([null, null, null]);
    expect(r.take("a")).toBe(20); // one token every 20 s
    expect(r.take("b")).toBeNull(); // another key has its own bucket
    t += 19_000;
    expect(r.take("a")).toBe(1);
    t += 1_000;
    expect(r.take("a")).toBeNull();
    t += 10 * 60_000; // a long pause refills to the burst, not beyond
    expect([r.take("a"), r.take("a"), r.take("a"), r.take("a") !== null]).toEqual([null, null, null, true]);
  });
});
