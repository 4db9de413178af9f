/** A bounded async queue of frames: a producer (the decoder) pushes, the encoder pulls. */
import type { RgbFrame } from "./frames.ts";

export class FrameQueue implements AsyncIterable<RgbFrame> {
  private readonly items: RgbFrame[] = [];
  private waiting: (() => void) | null = null;
  private space: (() => void) | null = null;
  private done = false;
  private failure: unknown = null;

  constructor(private readonly capacity = 64) {}

  async push(frames: readonly RgbFrame[]): Promise<void> {
    for (const f of frames) {
      while (this.items.length >= this.capacity && !this.done) await new Promise<void>((r) => (this.space = r));
      if (this.done) return;
      this.items.push(f);
      this.wake();
    }
  }

  /** No more frames; `error` makes the consumer throw it. */
  close(error?: unknown): void {
    this.done = true;
    if (error !== undefined) this.failure = error;
    this.wake();
    this.space?.();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RgbFrame> {
    while (true) {
      const f = this.items.shift();
      if (f) {
        const s = this.space;
        this.space = null;
        s?.();
        yield f;
        continue;
      }
      if (this.failure !== null) throw this.failure;
      if (this.done) return;
      await new Promise<void>((r) => (this.waiting = r));
    }
  }
}
