/**
 * `reel serve`: the HTTP video API (Seedance/Ark task API and OpenAI video API) with an
 * embedded durable queue and in-process workers. See README "HTTP API".
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { intFlag } from "../flags.ts";
import { startServer } from "../../server/app.ts";
import { DEFAULT_LIMITS, loadKeys, parseAliases, type ServerConfig } from "../../server/config.ts";

const USAGE = `usage: reel serve [options]

  --host HOST        address to bind (default 127.0.0.1; beyond loopback needs API keys)
  --port N           port (default 8080; 0 picks a free one)
  --data DIR         queue database, inputs and outputs (default ./reel-data)
  --workers N        in-process generation workers (default 1; 0: API only)
  --queue URL        a distributed queue backend instead of the embedded one
  --threads N        CPU threads per worker's sessions
  --output-ttl S     seconds outputs are kept (default 86400)

environment: REEL_API_KEYS (comma-separated Bearer keys), REEL_API_KEYS_FILE, REEL_MODEL_ALIASES
(alias=model,...), REEL_URL_ALLOW (host:port,... that image_url/callback_url may reach though
private), REEL_LEASE_MS (job lease, default 30000), REEL_GRACE_MS (how long SIGTERM lets running
jobs finish before re-queuing them, default 10000), REEL_OUTPUT_TTL_S, REEL_DEFAULT_MODEL (reel-toy)
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      data: { type: "string" },
      workers: { type: "string" },
      queue: { type: "string" },
      threads: { type: "string" },
      "output-ttl": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const env = process.env;
  const config: ServerConfig = {
    host: values.host ?? "127.0.0.1",
    port: intFlag("port", values.port, 8080, 0, 65535),
    dataDir: resolve(values.data ?? "reel-data"),
    workers: intFlag("workers", values.workers, 1, 0, 64),
    ...(values.queue ? { queueUrl: values.queue } : {}),
    keys: loadKeys(env),
    limits: {
      ...DEFAULT_LIMITS,
      postsPerMinute: intFlag(
        "REEL_RATE_LIMIT (POST requests per key per minute)",
        env.REEL_RATE_LIMIT,
        0,
        0,
        1_000_000,
      ),
      allowHosts: (env.REEL_URL_ALLOW ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    },
    outputTtlMs:
      intFlag("output-ttl", values["output-ttl"] ?? env.REEL_OUTPUT_TTL_S, 86400, 1, 10 * 365 * 86400) * 1000,
    leaseMs: intFlag("lease (REEL_LEASE_MS)", env.REEL_LEASE_MS, 30_000, 200, 3_600_000),
    aliases: parseAliases(env.REEL_MODEL_ALIASES),
    defaultModel: env.REEL_DEFAULT_MODEL ?? "reel-toy",
    ...(values.threads ? { threads: intFlag("threads", values.threads, 0, 1, 256) } : {}),
    graceMs: intFlag("grace (REEL_GRACE_MS)", env.REEL_GRACE_MS, 10_000, 0, 3_600_000),
  };
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  const s = await startServer(config, log);
  const shown = config.host.includes(":") ? `[${config.host}]` : config.host;
  log(
    `reel serve: listening on http://${shown}:${s.port} (data ${config.dataDir}, ${config.workers} worker(s), ` +
      `${config.keys.length ? `${config.keys.length} API key(s)` : "no API keys: loopback only"}; models: ${s.ctx.catalog.names().join(", ")})`,
  );
  await new Promise<void>((done) => {
    const stop = (sig: string) => {
      log(`reel serve: ${sig}: no new jobs; running jobs get ${config.graceMs / 1000} s to finish, then are re-queued`);
      void s.close().then(done);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  log("reel serve: stopped");
  return 0;
}
