/**
 * Bounded load test of `reel serve` on loopback: starts the real server (embedded queue, N
 * workers, the embedded model), then drives it with autocannon at rising request rates, each
 * stage a fixed number of seconds. The mix per connection cycles through one Ark create
 * (a 1-frame clip, so the workers can keep up), one list and eight task polls. After the
 * stages it waits (bounded) for the queue to drain and checks that every accepted task
 * reached a final state. Prints one JSON line per stage and a summary.
 *
 *   node bin/run-ts.js scripts/load.ts [--rates 25,50,100,200] [--seconds 5] [--connections 10]
 *                                      [--workers 1] [--drain-seconds 300]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { scriptArgs } from "./args.ts";
import autocannon from "autocannon";

const USAGE = `usage: node bin/run-ts.js scripts/load.ts [--rates 25,50,100,200] [--seconds 5] [--connections 10]
                                     [--workers 1] [--drain-seconds 300]`;

const { values } = scriptArgs(USAGE, {
  options: {
    rates: { type: "string", default: "25,50,100,200" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    workers: { type: "string", default: "1" },
    "drain-seconds": { type: "string", default: "300" },
  },
});
const rates = values.rates.split(",").map(Number);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const drainMs = Number(values["drain-seconds"]) * 1000;
const KEY = "reel-load-test-key-0123456789";
const ROOT = resolve(import.meta.dirname, "..");
const data = mkdtempSync(join(tmpdir(), "reel-load-"));

function start(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [join(ROOT, "bin/reel.js"), "serve", "--port", "0", "--data", data, "--workers", values.workers],
    {
      env: { ...process.env, REEL_API_KEYS: KEY, GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let log = "";
  return new Promise((ok, fail) => {
    proc.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) ok({ url: m[1]!, proc });
    });
    proc.once("exit", (c) => fail(new Error(`server exited ${c}: ${log}`)));
  });
}

const { url, proc } = await start();
const TASKS = `${url}/api/v3/contents/generations/tasks`;
const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const body = JSON.stringify({
  model: "reel-toy",
  content: [{ type: "text", text: "a red ball moves right" }],
  frames: 1,
});
const first = (await (await fetch(TASKS, { method: "POST", headers, body })).json()) as { id: string };
const accepted = new Set<string>([first.id]);
let rejected = 0;

const stages: Record<string, unknown>[] = [];
try {
  for (const rate of rates) {
    const r = await autocannon({
      url,
      connections,
      overallRate: rate,
      duration: seconds,
      requests: [
        {
          method: "POST",
          path: "/api/v3/contents/generations/tasks",
          headers,
          body,
          onResponse: (status: number, b: string) => {
            if (status === 200) accepted.add((JSON.parse(b) as { id: string }).id);
            else rejected++;
          },
        },
        { method: "GET", path: "/api/v3/contents/generations/tasks?page_size=10", headers },
        ...Array.from({ length: 8 }, () => ({
          method: "GET" as const,
          path: `/api/v3/contents/generations/tasks/${first.id}`,
          headers,
        })),
      ],
    });
    const line = {
      target_rps: rate,
      achieved_rps: Math.round(r.requests.average),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      max_ms: r.latency.max,
      non2xx: r.non2xx,
      status_5xx: r["5xx"],
      errors: r.errors,
      timeouts: r.timeouts,
    };
    stages.push(line);
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }

  // Drain: every accepted task must reach succeeded/failed/cancelled.
  const end = Date.now() + drainMs;
  const states: Record<string, number> = {};
  let open = [...accepted];
  while (open.length && Date.now() < end) {
    const next: string[] = [];
    for (const id of open) {
      const t = (await (await fetch(`${TASKS}/${id}`, { headers })).json()) as { status: string };
      if (t.status === "queued" || t.status === "running") next.push(id);
      else states[t.status] = (states[t.status] ?? 0) + 1;
    }
    open = next;
    if (open.length) await new Promise((r) => setTimeout(r, 1000));
  }
  // held: the rate was reached with no 5xx, errors or timeouts (429s for a full queue are answers, not failures)
  const held = stages.filter(
    (s) =>
      (s.achieved_rps as number) >= 0.95 * (s.target_rps as number) &&
      s.status_5xx === 0 &&
      s.errors === 0 &&
      s.timeouts === 0,
  );
  process.stdout.write(
    `${JSON.stringify({
      summary: true,
      highest_rate_held_rps: held.length ? Math.max(...held.map((s) => s.target_rps as number)) : null,
      accepted_tasks: accepted.size,
      rejected_creates: rejected,
      final_states: states,
      not_final_after_drain: open.length,
    })}\n`,
  );
  if (open.length) process.exitCode = 1;
} finally {
  proc.kill("SIGTERM");
  await new Promise((r) => proc.once("exit", r));
  rmSync(data, { recursive: true, force: true });
}
