/**
 * Ark callbacks: on each status change of a task with a callback_url, POST the task object
 * (the GET body) to it, under the network guard, retrying up to 3 times (1 s, 4 s, 16 s)
 * on network errors and non-2xx answers. Deliveries for one task go out in order.
 */
import type { Limits } from "./config.ts";
import { guardedRequest } from "./net-guard.ts";
import type { JobRecord } from "./queue/queue.ts";

export class Callbacks {
  private readonly chains = new Map<string, Promise<void>>();
  delivered = 0;
  failed = 0;

  constructor(
    private readonly limits: Limits,
    private readonly log: (m: string) => void,
    private readonly backoffMs: readonly number[] = [1000, 4000, 16000],
  ) {}

  send(job: JobRecord, body: Record<string, unknown>): void {
    if (!job.callbackUrl) return;
    const url = job.callbackUrl;
    const prev = this.chains.get(job.id) ?? Promise.resolve();
    const next = prev.then(() => this.deliver(url, job.id, Buffer.from(JSON.stringify(body))));
    this.chains.set(job.id, next);
    void next.finally(() => {
      if (this.chains.get(job.id) === next) this.chains.delete(job.id);
    });
  }

  private async deliver(url: string, id: string, body: Buffer): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const r = await guardedRequest(
          url,
          { maxBytes: 64 << 10, timeoutMs: this.limits.fetchTimeoutMs, allow: this.limits.allowHosts, maxRedirects: 0 },
          { method: "POST", body, headers: { "content-type": "application/json", "user-agent": "reel" } },
        );
        if (r.status >= 200 && r.status < 300) {
          this.delivered++;
          return;
        }
        why = `HTTP ${r.status}`;
      } catch (e) {
        why = (e as Error).message;
      }
      const wait = this.backoffMs[attempt];
      if (wait === undefined) {
        this.failed++;
        this.log(`callback for ${id} to ${url.slice(0, 200)} failed: ${why}; giving up`);
        return;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Waits for pending deliveries (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }
}
