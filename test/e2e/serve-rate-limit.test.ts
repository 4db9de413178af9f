/**
 * REEL_RATE_LIMIT: POST requests per key per minute, answered 429 with Retry-After in each
 * API's error format once a key's burst is spent; other keys and GETs are not affected.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Served, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tmp.ts";

const KEY_A = "reel-limit-key-aaaaaaaaaaa";
const KEY_B = "reel-limit-key-bbbbbbbbbbb";
const tmp = tempDir();
let srv: Served;

beforeAll(async () => {
  srv = await startServe(["--data", join(tmp.dir, "data"), "--workers", "0"], {
    REEL_API_KEYS: `${KEY_A},${KEY_B}`,
    REEL_RATE_LIMIT: "2",
  });
});
afterAll(async () => {
  await srv?.stop();
  tmp.cleanup();
});

const post = (path: string, key: string, body: unknown) =>
  fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("reel serve: rate limit per key", () => {
  it("refuses the third POST of a minute with 429 and Retry-After; other keys and GETs go on", async () => {
    const plan = { prompts: ["a red ball"] };
    expect((await post("/v1/stories/plan", KEY_A, plan)).status).toBe(200);
    expect((await post("/v1/stories/plan", KEY_A, plan)).status).toBe(200);
    const r = await post("/v1/stories/plan", KEY_A, plan);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await r.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "rate_limit_exceeded",
      message: expect.stringMatching(/more than 2 POST requests a minute/),
    });
    // Ark's error format for Ark routes
    const ark = await post("/api/v3/contents/generations/tasks", KEY_A, {});
    expect(ark.status).toBe(429);
    expect(((await ark.json()) as { error: { type: string } }).error.type).toBe("TooManyRequests");
    // another key has its own budget; reading is not limited
    expect((await post("/v1/stories/plan", KEY_B, plan)).status).toBe(200);
    const list = await fetch(`${srv.url}/v1/stories`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(list.status).toBe(200);
  });
});
