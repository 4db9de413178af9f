/** Callback delivery: retries after failures, in order per task, and gives up after the last retry. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { Callbacks } from "./callbacks.ts";
import { DEFAULT_LIMITS } from "./config.ts";
import type { JobRecord } from "./queue/queue.ts";

describe("Callbacks", () => {
  it("retries a failing endpoint, keeps order per task, and counts what it gave up on", async () => {
    const got: string[] = [];
    let answers = [500, 200, 200, 503, 503, 503, 503];
    const s = createServer((req, res) => {
      let b = "";
      req.on("data", (d) => (b += d));
      req.on("end", () => {
        const status = answers.shift() ?? 200;
        got.push(`${(JSON.parse(b) as { status: string }).status}:${status}`);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as AddressInfo).port;
    const logs: string[] = [];
    const cb = new Callbacks({ ...DEFAULT_LIMITS, allowHosts: [`127.0.0.1:${port}`] }, (m) => logs.push(m), [5, 5, 5]);
    const job = { id: "cgt-1", callbackUrl: `http://127.0.0.1:${port}/hook` } as JobRecord;
    cb.send(job, { status: "queued" });
    cb.send(job, { status: "running" });
    cb.send(job, { status: "succeeded" });
    await cb.drain();
    s.close();
    expect(got).toEqual([
      "queued:500",
      "queued:200",
      "running:200",
      "succeeded:503",
      "succeeded:503",
      "succeeded:503",
      "succeeded:503",
    ]);
    expect(cb.delivered).toBe(2);
    expect(cb.failed).toBe(1);
    expect(logs[0]).toMatch(/callback for cgt-1 .* HTTP 503; giving up/);
    answers = [];
  });

  it("never posts to a private address that is not allowed", async () => {
    const logs: string[] = [];
    const cb = new Callbacks(DEFAULT_LIMITS, (m) => logs.push(m), []);
    cb.send({ id: "cgt-2", callbackUrl: "http://127.0.0.1:9/hook" } as JobRecord, { status: "queued" });
    await cb.drain();
    expect(cb.failed).toBe(1);
    expect(logs[0]).toMatch(/loopback, private, link-local or reserved/);
  });
});
