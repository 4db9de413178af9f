/**
 * Image-to-video continuity in `reel story`, through the real CLI, with a tiny Wan 2.2 TI2V
 * model assembled from the shared parity fixtures (random weights: the machinery is tested,
 * not the picture). A `continue` shot is conditioned on the previous shot's last frame, so its
 * cache key follows the previous shot's: editing shot 1 re-renders shots 1 and 2, and shot 3
 * (a cut, whose first frame is a character's reference image) comes from the cache.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { readHeader } from "../../src/engine/safetensors.ts";
import { fixturePath, missingFixtures } from "../helpers/fixtures.ts";
import { tinyTokenizerJson } from "../helpers/tiny-model.ts";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);
const FIXTURES = [
  "dit22-tiny-ti2v.weights.safetensors",
  "t5-tiny.weights.safetensors",
  "vae22-tiny.weights.safetensors",
];
const skip = missingFixtures(...FIXTURES);
const hasFfmpeg = spawnSync("ffprobe", ["-version"]).status === 0;

function makeTinyTi2v(dir: string): string {
  const [dit, t5, vae] = FIXTURES.map((f) => fixturePath(f)!) as [string, string, string];
  const root = join(dir, "tiny-ti2v");
  mkdirSync(join(root, "google", "umt5-xxl"), { recursive: true });
  copyFileSync(dit, join(root, "diffusion_pytorch_model.safetensors"));
  writeFileSync(join(root, "config.json"), readHeader(dit).metadata.config!);
  copyFileSync(t5, join(root, "models_t5_umt5-xxl-enc-bf16.safetensors"));
  copyFileSync(vae, join(root, "Wan2.2_VAE.safetensors"));
  writeFileSync(join(root, "google", "umt5-xxl", "tokenizer.json"), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(
    join(root, "reel.json"),
    JSON.stringify({
      name: "tiny-ti2v",
      t5: JSON.parse(readHeader(t5).metadata.config!),
      vae: JSON.parse(readHeader(vae).metadata.config!),
      defaults: { steps: 2, shift: 5, guidance: 5, frames: 5, fps: 8, sizes: [[32, 32]], sampler: "unipc" },
    }),
  );
  return root;
}

function reel(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), ...args], { encoding: "utf8", timeout: 300_000 });
}

interface Plan {
  shots: { prompt: string }[];
  resolved: {
    shots: { key: string; seed: number; conditioning: { kind: string; previousKey?: string; path?: string } }[];
  };
}

describe.skipIf(skip !== null || !hasFfmpeg)(skip ?? "reel story continuity (tiny TI2V model)", () => {
  it("continues from the previous shot's last frame and re-renders the chain after an edit", async () => {
    const model = makeTinyTi2v(tmp.dir);
    const story = join(tmp.dir, "film.json");
    writeFileSync(
      story,
      JSON.stringify({
        title: "chain",
        style: "",
        seed: 4,
        model,
        characters: [{ name: "square", description: "a blue square", image: "square.png" }],
        shots: [
          { prompt: "a red ball moves left", duration: 0.625 },
          { prompt: "the red ball moves up", duration: 0.625, continuity: "continue" },
          { prompt: "a blue square over the sky", duration: 0.625, transition: "crossfade", characters: ["square"] },
        ],
      }),
    );
    await sharp({ create: { width: 48, height: 40, channels: 3, background: "#2040e0" } })
      .png()
      .toFile(join(tmp.dir, "square.png"));
    const out = join(tmp.dir, "film.mp4");
    const a = reel("story", story, "-o", out, "--json");
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ model: "tiny-ti2v", rendered: [1, 2, 3], cached: [] });
    const planPath = join(tmp.dir, "film.plan.json");
    const p1 = JSON.parse(readFileSync(planPath, "utf8")) as Plan;
    const [s1, s2, s3] = p1.resolved.shots as [
      Plan["resolved"]["shots"][0],
      Plan["resolved"]["shots"][0],
      Plan["resolved"]["shots"][0],
    ];
    expect(s2.conditioning).toEqual({ kind: "previous-last-frame", previousKey: s1.key });
    expect((s2 as { continued_by?: string }).continued_by).toBe("last-frame");
    // a character's reference image (relative to the story file) is shot 3's first frame
    expect(s3.conditioning).toEqual({ kind: "reference-image", path: join(tmp.dir, "square.png") });
    expect(s2.seed).not.toBe(s1.seed); // with image input the continuing shot keeps its own seed

    // edit shot 1: shot 2 follows it (new key), shot 3 is untouched
    const edited = {
      ...p1,
      shots: p1.shots.map((s, i) => (i === 0 ? { ...s, prompt: "a green ball moves right" } : s)),
    };
    writeFileSync(planPath, JSON.stringify(edited));
    const b = reel("story", "render", planPath, "-o", out, "--json");
    expect(b.status, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ rendered: [1, 2], cached: [3] });
    const p2 = JSON.parse(readFileSync(planPath, "utf8")) as Plan;
    expect(p2.resolved.shots[1]!.key).not.toBe(s2.key);
    expect(p2.resolved.shots[2]!.key).toBe(s3.key);
  });
});
