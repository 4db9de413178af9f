/** WanDiT session handling: one resident session per model, released on a shape change. */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../test/helpers/tmp.ts";
import { writeRandomWeights } from "../../engine/random-weights.ts";
import type { InferenceSession, Runtime } from "../../engine/runtime.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { f32 } from "../../engine/tensor.ts";
import { weightMapFromFiles } from "../../engine/weights.ts";
import { preset } from "./config.ts";
import { WanDiT, wanParams } from "./model.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

/** The real ORT runtime, counting sessions opened and released. */
function countingRuntime() {
  const live = new Set<InferenceSession>();
  let opened = 0;
  const runtime: Runtime = {
    availableDevices: () => ortRuntime.availableDevices(),
    async createSession(path, o) {
      const s = await ortRuntime.createSession(path, o);
      opened++;
      live.add(s);
      return {
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: (feeds, outputs) => s.run(feeds, outputs),
        async release() {
          live.delete(s);
          await s.release();
        },
      };
    },
  };
  return { runtime, live: () => live.size, opened: () => opened };
}

describe("WanDiT sessions", () => {
  const cfg = {
    ...preset("t2v-1.3B"),
    dim: 32,
    ffn_dim: 64,
    freq_dim: 16,
    text_dim: 24,
    num_heads: 2,
    num_layers: 2,
    text_len: 8,
  };
  const path = join(tmp.dir, "w.safetensors");
  writeRandomWeights(path, wanParams(cfg), 3);
  const input = (F: number) => ({
    x: f32(
      [16, F, 4, 4],
      new Float32Array(16 * F * 16).map((_, i) => Math.sin(i)),
    ),
    t: [700],
    context: f32(
      [5, 24],
      new Float32Array(5 * 24).map((_, i) => Math.cos(i)),
    ),
  });

  it("keeps one session resident and releases it when the shape changes or on release()", async () => {
    const rt = countingRuntime();
    const m = new WanDiT(cfg, weightMapFromFiles([path]), {
      runtime: rt.runtime,
      device: "cpu",
      threads: 1,
      cacheDir: join(tmp.dir, "cache"),
    });
    const a1 = (await m.forward(input(1))).out!;
    await m.forward(input(1));
    expect([rt.opened(), rt.live()]).toEqual([1, 1]); // same shape: same session
    const b = (await m.forward(input(2))).out!;
    expect(b.dims).toEqual([16, 2, 4, 4]);
    expect([rt.opened(), rt.live()]).toEqual([2, 1]); // new shape: the old one was released
    const a2 = (await m.forward(input(1))).out!;
    expect([rt.opened(), rt.live()]).toEqual([3, 1]);
    expect(Array.from(a2.data as Float32Array)).toEqual(Array.from(a1.data as Float32Array));
    await m.release();
    expect(rt.live()).toBe(0);
  });
});
