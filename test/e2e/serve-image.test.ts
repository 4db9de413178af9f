/**
 * `reel serve` image-to-video: a tiny random Wan 2.1 I2V model (test/helpers/tiny-layouts.ts)
 * found through REEL_MODELS; the official `openai` client uploads `input_reference` as a
 * multipart file, the worker conditions on it, and the video comes back at the asked size.
 */
import { spawnSync } from "node:child_process";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { missingFixtures } from "../helpers/fixtures.ts";
import { type Served, startServe, until } from "../helpers/serve.ts";
import { makeTinyLayout, TINY_LAYOUT_FIXTURES } from "../helpers/tiny-layouts.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir();
const skip = missingFixtures(...TINY_LAYOUT_FIXTURES);
const hasFfprobe = spawnSync("ffprobe", ["-version"]).status === 0;
let srv: Served | undefined;
afterAll(async () => {
  await srv?.stop();
  tmp.cleanup();
});

describe.skipIf(skip !== null || !hasFfprobe)("reel serve image-to-video", () => {
  it("an uploaded input_reference conditions a tiny I2V model's video", async () => {
    const models = `${tmp.dir}/models`;
    makeTinyLayout(models, "official", "i2v", { name: "tiny-i2v" });
    srv = await startServe(["--data", `${tmp.dir}/data`], { REEL_API_KEYS: "", REEL_MODELS: models });
    const c = new OpenAI({ apiKey: "unused-without-keys", baseURL: `${srv.url}/v1`, maxRetries: 0 });
    const png = await sharp({ create: { width: 48, height: 40, channels: 3, background: "#2060ff" } })
      .png()
      .toBuffer();
    const v = await c.videos.create({
      prompt: "a blue square",
      model: "tiny-i2v",
      size: "32x32" as "720x1280",
      seconds: "1" as "4",
      input_reference: await toFile(png, "first.png", { type: "image/png" }),
    });
    const done = await until(async () => {
      const x = await c.videos.retrieve(v.id);
      return x.status === "completed" || x.status === "failed" ? x : undefined;
    }, 240_000);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: "completed", size: "32x32", model: "tiny-i2v" });
    const mp4 = Buffer.from(await (await c.videos.downloadContent(v.id)).arrayBuffer());
    const file = `${tmp.dir}/out.mp4`;
    (await import("node:fs")).writeFileSync(file, mp4);
    const probe = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-show_streams", "-of", "json", file], {
      encoding: "utf8",
    });
    const stream = (JSON.parse(probe.stdout) as { streams: Record<string, unknown>[] }).streams[0];
    expect(stream).toMatchObject({ width: 32, height: 32 });
    // (the job could only succeed with the image: this model refuses to run without one)
    // the same model refuses what it cannot take: no first frame, a size off its grid
    await expect(
      c.videos.create({ prompt: "x", model: "tiny-i2v", size: "32x32" as "720x1280" }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: "input_reference" },
    });
    await expect(
      c.videos.create({ prompt: "x", model: "tiny-i2v", size: "40x40" as "720x1280" }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
