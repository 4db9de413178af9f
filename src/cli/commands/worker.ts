/**
 * `reel worker --queue URL`: generation workers without the HTTP API, taking jobs from a
 * distributed queue (see README "Scaling out") for the models found on this machine (or the
 * `--models` subset). It runs the same in-process worker as `reel serve` (server/worker.ts):
 * lease + heartbeat, per-step checkpoints and resume, atomic outputs. Outputs go under
 * `--data DIR`/files, which must be the same shared folder the servers read.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ReelError } from "../../errors.ts";
import { intFlag } from "../flags.ts";
import { discoverModels } from "../../models/discovery.ts";
import { DEFAULT_LIMITS } from "../../server/config.ts";
import { ModelCatalog } from "../../server/models.ts";
import { openQueue } from "../../server/queue/index.ts";
import { FileStorage } from "../../server/storage/storage.ts";
import { Worker } from "../../server/worker.ts";

const USAGE = `usage: reel worker --queue URL [options]

  --queue URL        the shared queue, e.g. redis://host:6379/0 (rediss:// for TLS; ?prefix=NAME
                     to keep several queues in one Redis)
  --models a,b       run only these models (default: every model found here)
  --workers N        jobs run at once in this process (default 1)
  --threads N        CPU threads per worker's sessions
  --data DIR         shared folder for inputs and outputs, the same as the servers' --data
                     (default ./reel-data)

environment: REEL_LEASE_MS (job lease, default 30000), REEL_OUTPUT_TTL_S (default 86400)
SIGTERM/SIGINT: no new jobs; a running job gets 10 s to finish, then goes back to the queue.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      queue: { type: "string" },
      models: { type: "string" },
      workers: { type: "string" },
      threads: { type: "string" },
      data: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.queue)
    throw new ReelError(
      "E_INPUT_INVALID",
      "--queue URL is required (e.g. redis://127.0.0.1:6379); `reel serve` runs workers on its embedded queue itself",
    );
  const env = process.env;
  const leaseMs = intFlag("lease (REEL_LEASE_MS)", env.REEL_LEASE_MS, 30_000, 200, 3_600_000);
  const outputTtlMs =
    intFlag("output-ttl (REEL_OUTPUT_TTL_S)", env.REEL_OUTPUT_TTL_S, 86400, 1, 10 * 365 * 86400) * 1000;
  const count = intFlag("workers", values.workers, 1, 1, 64);
  const threads = values.threads ? intFlag("threads", values.threads, 0, 1, 256) : undefined;
  const dataDir = resolve(values.data ?? "reel-data");

  const found = discoverModels().filter((f) => f.missing.length === 0);
  let folders = found;
  if (values.models !== undefined) {
    const want = values.models
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const names = new Set(found.map((f) => f.name));
    const unknown = want.filter((w) => !names.has(w));
    if (want.length === 0 || unknown.length)
      throw new ReelError(
        "E_MODEL_NOT_FOUND",
        `--models ${values.models}: ${unknown.length ? `not found here: ${unknown.join(", ")}` : "name at least one model"}; models here: ${[...names].join(", ")}`,
      );
    folders = found.filter((f) => want.includes(f.name));
  }
  const catalog = new ModelCatalog(
    {
      device: "cpu",
      maxFrames: DEFAULT_LIMITS.maxFrames,
      defaultModel: folders[0]?.name ?? "reel-toy",
      ...(threads ? { threads } : {}),
    },
    folders,
  );
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  const queue = await openQueue({ url: values.queue, dataDir });
  const storage = new FileStorage(resolve(dataDir, "files"));
  const workers = Array.from(
    { length: count },
    (_, i) =>
      new Worker({
        id: `${process.pid}-${i}`,
        queue,
        catalog,
        storage,
        storyDir: resolve(dataDir, "stories"),
        leaseMs,
        outputTtlMs,
        log,
      }),
  );
  // wake idle workers as soon as any server queues a job (the queue relays events)
  const unsubscribe = queue.subscribe((e) => {
    if (e.job.status === "queued") for (const w of workers) w.poke();
  });
  log(
    `reel worker: ready (pid ${process.pid}, ${count} worker(s), models: ${catalog.names().join(", ")}, data ${dataDir})`,
  );
  await new Promise<void>((done) => {
    const stop = (sig: string) => {
      log(`reel worker: ${sig}: no new jobs; running jobs get 10 s to finish, then are re-queued`);
      void Promise.all(workers.map((w) => w.stop(10_000))).then(() => done());
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  unsubscribe();
  await queue.close();
  log("reel worker: stopped");
  return 0;
}
