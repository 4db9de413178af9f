/**
 * The README's first command on a fresh clone: `reel generate` with the embedded model
 * (models/reel-toy), no --model, writes a playable MP4; the same seed gives the same frames.
 * The toy-world evaluator checks what the shipped model gets right on fixed prompts.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluateVideo, readVideo } from "../../src/toyworld/index.ts";
import {
  FIXED_MIN_RIGHT,
  FIXED_PROMPTS,
  FIXED_SEEDS,
  type FixedPrompt,
  movedAsNamed,
} from "../../src/toyworld/release-prompts.ts";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);
const PROMPT = "a red ball bounces to the right over green grass";

function reel(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), ...args], { encoding: "utf8", timeout: 300_000 });
}

function frames(path: string): Buffer {
  const r = spawnSync("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], {
    maxBuffer: 1 << 28,
  });
  expect(r.status).toBe(0);
  return r.stdout;
}

const hasFfmpeg = spawnSync("ffprobe", ["-version"]).status === 0;
if (!hasFfmpeg && process.env.CI === "true") throw new Error("CI=true but ffprobe is missing");

describe.skipIf(!hasFfmpeg)(hasFfmpeg ? "embedded model (README command)" : "SKIPPED: no ffprobe", () => {
  it("the embedded model ships in the repository", () => {
    const dir = join(ROOT, "models/reel-toy");
    // One DiT, or two experts (Wan 2.2 A14B layout) switched at reel.json's experts.boundary.
    const experts = JSON.parse(readFileSync(join(dir, "reel.json"), "utf8")).experts;
    const dits = experts ? ["high_noise_model/", "low_noise_model/"] : [""];
    if (experts) expect(experts.boundary).toBeGreaterThan(0);
    for (const f of [
      ...dits.flatMap((d) => [`${d}config.json`, `${d}diffusion_pytorch_model.safetensors`]),
      "models_t5_reel-toy-enc-fp16.safetensors",
      "Wan2.1_VAE.safetensors",
      "tokenizer/tokenizer.json",
      "MODEL_CARD.md",
    ])
      expect(existsSync(join(dir, f)), f).toBe(true);
  });

  it("generates a 128x128, 17-frame, 16 fps MP4 from the README prompt, deterministically", () => {
    const a = join(tmp.dir, "a.mp4");
    const r = reel("generate", PROMPT, "-o", a, "--seed", "11", "--json");
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model: "reel-toy", size: "128x128", frames: 17, fps: 16, seed: 11 });
    const probe = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-show_streams", "-of", "json", a], {
      encoding: "utf8",
    });
    expect((JSON.parse(probe.stdout) as { streams: Record<string, unknown>[] }).streams[0]).toMatchObject({
      codec_name: "h264",
      pix_fmt: "yuv420p",
      width: 128,
      height: 128,
      nb_read_frames: "17",
      r_frame_rate: "16/1",
    });
    const b = join(tmp.dir, "b.mp4");
    expect(reel("generate", PROMPT, "-o", b, "--seed", "11").status).toBe(0);
    const hash = (p: string) => createHash("sha256").update(frames(p)).digest("hex");
    expect(hash(b)).toBe(hash(a));
  });

  // The shipped model names its background reliably (MODEL_CARD.md: 88% over 200 held-out
  // prompts; these prompts were right for seeds 0-3 with the fourth release and for seed 2 with
  // the fifth to fourteenth, the only one rechecked). A pipeline or weight regression (text conditioning, latent statistics, VAE decode) breaks this first.
  it.each([
    ["a red ball bounces to the right over green grass", "grass"],
    ["a yellow star drifts left under an orange sunset", "sunset"],
    ["a green heart moves down on a checkerboard", "checkerboard"],
  ])("the evaluator finds the prompt's background in the shipped model's clip: %s", async (prompt, background) => {
    const out = join(tmp.dir, `${background}.mp4`);
    const r = reel("generate", prompt, "-o", out, "--seed", "2");
    expect(r.status, r.stderr).toBe(0);
    const e = evaluateVideo(await readVideo(out), prompt);
    expect(e.attributes.background).toEqual({ expected: background, detected: background, correct: true });
  });

  // Issue 4's test "the evaluator confirms colour and direction": four one-object prompts
  // (src/toyworld/release-prompts.ts) at seeds 0 and 1, generated once for both checks; check a
  // candidate release on them with scripts/toy/fixed-prompts.ts.
  type Clip = { fixed: FixedPrompt; seed: string; e: ReturnType<typeof evaluateVideo> };
  let clips: Clip[] | undefined;
  async function fixedClips(): Promise<Clip[]> {
    if (clips) return clips;
    const made: Clip[] = [];
    for (const fixed of FIXED_PROMPTS)
      for (const seed of FIXED_SEEDS) {
        const out = join(tmp.dir, `${fixed.colour}-${seed}.mp4`);
        const r = reel("generate", fixed.prompt, "-o", out, "--seed", seed);
        expect(r.status, r.stderr).toBe(0);
        made.push({ fixed, seed, e: evaluateVideo(await readVideo(out), fixed.prompt) });
      }
    clips = made;
    return made;
  }

  // Colour: the shipped model (fourteenth release, as the tenth to thirteenth) gets it right in all 16
  // clips of these prompts at seeds 0-3 (95.5% on one-object held-out prompts; thirteenth 96.3%).
  it("the evaluator confirms the colour of the shipped model's object on fixed prompts", async () => {
    const all = await fixedClips();
    for (const { fixed, e } of all) expect(e.attributes.colour?.expected).toBe(fixed.colour);
    const right = all.filter(({ e }) => e.attributes.colour?.correct).length;
    const seen = all.map(({ fixed, seed, e }) => `${fixed.colour}/${seed}: ${e.attributes.colour?.detected}`);
    expect(right, seen.join(", ")).toBeGreaterThanOrEqual(FIXED_MIN_RIGHT);
  });

  // Direction: the tracked object's net displacement points the named way (compass sector) by
  // at least 0.1 frame heights. The fourteenth release (as the eleventh to thirteenth) moves the
  // object the named way in all 16 clips at seeds 0-3 (0.23-0.54 frame heights along it; the
  // tenth: 9 of 16, 4 of 8 here). The evaluator's motion label agrees in only 5 of 16 (motion 31%
  // over 200 held-out prompts; the report-only direction 60%):
  // the objects' area also changes by 1.2x or more in most clips, and a size change is labelled
  // grow or shrink before a move. So this checks where the object goes, not that it keeps its size.
  it("the evaluator confirms the direction the shipped model's object moves on fixed prompts", async () => {
    const all = await fixedClips();
    const right = all.filter(({ fixed, e }) => movedAsNamed(e.detected.objects, fixed)).length;
    const seen = all.map(({ fixed, seed, e }) => {
      const o = e.detected.objects[0];
      return `${fixed.direction}/${seed}: ${o ? `dx ${o.dx} dy ${o.dy}` : "no object"}`;
    });
    expect(right, seen.join(", ")).toBeGreaterThanOrEqual(FIXED_MIN_RIGHT);
  });
});
