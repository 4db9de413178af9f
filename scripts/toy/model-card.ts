/**
 * Evaluates the embedded model on held-out prompts and writes its model card.
 *
 * usage: node bin/run-ts.js scripts/toy/model-card.ts [--model models/reel-toy] [--count 200] [--run DIR]
 *          [--status FILE.md] [--training FILE.md] [--recon DIR] [--finish DIR ...]
 *
 * --status: a markdown paragraph kept as the card's "Status" section (what this release is).
 * --training: a markdown paragraph describing how this release was trained (its lineage).
 * --recon:  a folder written by `train_toy.py recon` (VAE reconstructions of held-out clips):
 *           scored too, as the ceiling the VAE sets for the whole model.
 * --finish: folders written by `train_toy.py recon --from-sigma S --model M` (held-out clips
 *           noised to S and finished by this model's DiT; repeat the flag): one column each,
 *           showing at which noise level generation loses what the VAE keeps.
 *
 * Held-out prompts are captions of toy-world seeds 0…count−1 (training uses seeds ≥ 1,000,000).
 * Writes MODEL_CARD.md and contact-sheet.png into the model folder and eval.json beside them.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scriptArgs } from "../args.ts";
import { ortRuntime } from "../../src/engine/runtime-ort.ts";
import type { RgbFrame } from "../../src/media/frames.ts";
import { writePng } from "../../src/media/image-io.ts";
import { inspectFolder } from "../../src/models/discovery.ts";
import { generate } from "../../src/pipelines/generate.ts";
import { openWanBundle } from "../../src/pipelines/wan-model.ts";
import {
  aggregate,
  captionScene,
  evaluateFolder,
  evaluateVideo,
  namedObjectCount,
  sampleWorld,
  type AttributeAccuracy,
  type EvaluationReport,
  type VideoEvaluation,
} from "../../src/toyworld/index.ts";

const USAGE = `usage: node bin/run-ts.js scripts/toy/model-card.ts [--model models/reel-toy] [--count 200] [--run DIR]
         [--status FILE.md] [--training FILE.md] [--recon DIR] [--finish DIR ...]`;

const { values } = scriptArgs(USAGE, {
  options: {
    model: { type: "string", default: "models/reel-toy" },
    count: { type: "string", default: "200" },
    run: { type: "string" },
    status: { type: "string" },
    recon: { type: "string" },
    finish: { type: "string", multiple: true, default: [] },
    training: { type: "string" },
  },
});
const folder = inspectFolder(values.model);
if (!folder) throw new Error(`${values.model} is not a model folder`);
const bundle = openWanBundle(folder, { runtime: ortRuntime, device: "cpu", threads: 2 });
const count = Number(values.count);
const prompts = Array.from({ length: count }, (_, i) => captionScene(sampleWorld(i), i).text);
const evals: VideoEvaluation[] = [];
const sheets: RgbFrame[][] = [];
const times: number[] = [];
for (const [i, prompt] of prompts.entries()) {
  const frames: RgbFrame[] = [];
  const t0 = performance.now();
  await generate(bundle, { prompt, seed: i }, { onFrames: (f) => void frames.push(...f) });
  times.push(performance.now() - t0);
  evals.push(evaluateVideo(frames, prompt));
  if (i < 6) sheets.push(frames);
  if ((i + 1) % 20 === 0) process.stderr.write(`evaluated ${i + 1}/${count}\n`);
}
const report = aggregate(
  evals,
  prompts.map((_, i) => String(i)),
);
writeFileSync(join(values.model, "eval.json"), `${JSON.stringify({ prompts: count, ...report }, null, 2)}\n`);

// Contact sheet: 6 prompts × 5 frames (0, 4, 8, 12, 16).
const W = sheets[0]![0]!.width;
const H = sheets[0]![0]!.height;
const cols = [0, 4, 8, 12, 16];
const sheet = {
  width: W * cols.length,
  height: H * sheets.length,
  data: new Uint8Array(W * cols.length * H * sheets.length * 3),
};
for (const [r, frames] of sheets.entries())
  for (const [c, t] of cols.entries()) {
    const f = frames[Math.min(t, frames.length - 1)]!;
    for (let y = 0; y < H; y++)
      sheet.data.set(f.data.subarray(y * W * 3, (y + 1) * W * 3), ((r * H + y) * sheet.width + c * W) * 3);
  }
await writePng(join(values.model, "contact-sheet.png"), sheet);

const reel = JSON.parse(readFileSync(join(values.model, "reel.json"), "utf8"));
// Two experts (Wan 2.2 A14B layout): the same architecture, so the high-noise one's config says it.
const experts: { boundary: number; high_noise_model_training?: Training } | undefined = reel.experts;
const cfg = JSON.parse(readFileSync(join(values.model, experts ? "high_noise_model" : "", "config.json"), "utf8"));
const logTail = (stage: string) => {
  const p = values.run ? join(values.run, `${stage}.log.jsonl`) : "";
  if (!p || !existsSync(p)) return null;
  const lines = readFileSync(p, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  return { first: lines[0], last: lines[lines.length - 1], n: lines.length, lines };
};
/** "grow 40, shrink 25, stay 20, other 9 (94 wrong of 120)": the most frequent detected values of the failed checks. */
const formatMisses = (a: AttributeAccuracy, top = 6) => {
  const wrong = a.total - a.correct;
  if (wrong === 0) return `none wrong of ${a.total}`;
  const shown = a.misses.slice(0, top).map((m) => `${m.detected} ${m.count}`);
  const rest = a.misses.slice(top).reduce((n, m) => n + m.count, 0);
  return `${[...shown, ...(rest ? [`other ${rest}`] : [])].join(", ")} (${wrong} wrong of ${a.total})`;
};
const wobble = (r: EvaluationReport) => (r.quality.sizeWobble === null ? "–" : r.quality.sizeWobble.toFixed(2));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`);
// Extra columns: clips finished by the DiT from a noise level (highest first), then the VAE ceiling.
const sigmaOf = (dir: string) => {
  const m = /from-([\d.]+)\/?$/.exec(dir);
  if (!m)
    throw new Error(`--finish ${dir}: expected a folder written by train_toy.py recon --from-sigma (recon-dit-from-S)`);
  return Number(m[1]);
};
const finished = await Promise.all(
  [...values.finish]
    .sort((a, b) => sigmaOf(b) - sigmaOf(a))
    .map(async (d) => ({ label: `finished from σ ${sigmaOf(d)}`, report: await evaluateFolder(d) })),
);
const recon = values.recon ? await evaluateFolder(values.recon) : null;
// The same generated clips, only the prompts with a single object: do the multi-object prompts
// (binding each colour, shape and motion to its own object) cost more than the objects themselves?
const single = evals.filter((e) => namedObjectCount(e.parsed) === 1);
const oneObject = aggregate(single);
const columns = [
  { label: `one-object prompts (${single.length})`, report: oneObject },
  ...finished,
  ...(recon ? [{ label: `VAE ceiling (${recon.count} clips)`, report: recon }] : []),
];
const rows = Object.entries(report.attributes)
  .map(
    ([k, a]) =>
      `| ${k} | ${pct(a.accuracy)} | ${a.correct}/${a.total} |${columns.map((c) => ` ${pct(c.report.attributes[k as keyof typeof c.report.attributes]?.accuracy)} |`).join("")}`,
  )
  .join("\n");
const status = values.status ? `\n## Status\n\n${readFileSync(values.status, "utf8").trim()}\n` : "";
const training = values.training
  ? readFileSync(values.training, "utf8").trim()
  : "`training/train_toy.py` (PyTorch reference modules in `reference/`), seeded and resumable: VAE, then latents of the training clips, then DiT and text encoder jointly (flow matching, v = ε − x₀).";
const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
// "1,500 in the exporting run's checkpoint, 5,300 in all (with the weights it started from)" for warm starts.
interface Training {
  dit_steps?: number;
  dit_steps_total?: number;
  vae_steps?: number;
  vae_steps_total?: number;
  clips?: number;
  dit_invocations?: Invocation[];
}
const steps = (stage: "dit" | "vae", t: Training | undefined = reel.training) => {
  const own: number | undefined = t?.[`${stage}_steps`];
  const total: number | undefined = t?.[`${stage}_steps_total`];
  if (own === undefined) return "?";
  if (total === undefined || total === own) return own.toLocaleString("en-US");
  return `${own.toLocaleString("en-US")} in the exporting run's checkpoint, ${total.toLocaleString("en-US")} in all (with the weights it started from)`;
};
interface Invocation {
  from: number;
  to: number;
  stills: number;
  batch: number;
  still_batch: number;
  recipe?: {
    motion_weight: number;
    image_every: number;
    text_aux: number;
    obj_weight: number;
    shift: number;
    contrast?: number;
    multi_weight?: number;
    mask_aux?: number;
    mask_aux_block?: number;
    mask_aux_groups?: boolean;
    attn_ground?: number;
    attn_ground_any_order?: boolean;
    colour_bind?: number;
    colour_bind_sigma?: number;
    colour_bind_frames?: boolean;
    sigma_min?: number;
    sigma_max?: number;
    freeze_text?: boolean;
  };
}
/** An expert's share of the noise levels (--dit-sigma-min/-max), or nothing for all of them. */
const noiseLevels = (min: number, max: number) =>
  min > 0 && max < 1
    ? `, noise levels σ ${min}–${max} only`
    : min > 0
      ? `, noise levels above σ ${min} only`
      : max < 1
        ? `, noise levels below σ ${max} only`
        : "";
/** What the last `dit` invocation trained, from the checkpoint's record (train_toy.py export). */
const seen = (t: { dit_invocations?: Invocation[] } | undefined) => {
  const last = t?.dit_invocations?.at(-1);
  if (!last) return "samples seen: not recorded by this checkpoint";
  const n = last.to - last.from;
  const clips = (n - last.stills) * last.batch;
  const stills = last.stills * last.still_batch;
  const r = last.recipe;
  const terms = r
    ? `, with object weight ${r.obj_weight}, frame-to-frame weight ${r.motion_weight}${r.image_every ? `, stills every ${r.image_every} steps` : ""}${r.text_aux ? `, text aux weight ${r.text_aux}` : ""}${r.contrast ? `, contrast weight ${r.contrast}` : ""}${r.multi_weight && r.multi_weight !== 1 ? `, multi-object clips drawn x${r.multi_weight}` : ""}${r.mask_aux ? `, outline read-out weight ${r.mask_aux} (after block ${r.mask_aux_block}${r.mask_aux_groups ? ", each named object's too" : ""})` : ""}${r.attn_ground ? `, attention grounding weight ${r.attn_ground}${r.attn_ground_any_order ? " (objects in any order)" : ""}` : ""}${r.colour_bind ? `, colour binding weight ${r.colour_bind}${r.colour_bind_frames ? " frame by frame" : ""}${r.colour_bind_sigma ? ` (σ ≥ ${r.colour_bind_sigma})` : ""}` : ""}${noiseLevels(r.sigma_min ?? 0, r.sigma_max ?? 1)}${r.freeze_text ? ", text encoder frozen" : ""}, sigma shift ${r.shift}`
    : "";
  return `the last \`dit\` invocation trained steps ${last.from.toLocaleString("en-US")}–${last.to.toLocaleString("en-US")} (${n.toLocaleString("en-US")} steps${last.stills ? `, ${last.stills.toLocaleString("en-US")} of them on stills` : ""}): ${clips.toLocaleString("en-US")} clips${stills ? ` and ${stills.toLocaleString("en-US")} stills` : ""} seen${terms}`;
};
const curve = (stage: string) => {
  const t = logTail(stage);
  if (!t) return "(log not available)";
  const pick = t.lines.filter(
    (_, i) => i % Math.max(1, Math.floor(t.lines.length / 8)) === 0 || i === t.lines.length - 1,
  );
  return pick.map((l) => `step ${l.step}: loss ${Number(l.loss).toFixed(4)} (${Math.round(l.sec)} s)`).join("; ");
};
const card = `# reel-toy

reel's embedded model: a small model with the **Wan 2.1 architecture** (the same DiT, VAE and
umT5 code paths and checkpoint layout as the real Wan models), trained from scratch on reel's
procedural toy world (\`src/toyworld\`). It exists so that \`reel generate\` works offline right
after \`npm ci\`, and so that tests and benchmarks have a real trained model. It only knows the
toy world: simple shapes in named colours moving over simple backgrounds.
${status}
## World

8 shapes (ball, square, triangle, star, ring, diamond, heart, cross), 10 colours, 3 sizes, 1–3
objects, 15 motions (8 directions, bounce, grow, shrink, spin, stay) at two speeds, 10
backgrounds (plain, sky/sunset/night gradients, grass, checkerboard, stripes, dots), 5 camera
moves (static, pan left/right, zoom in/out). Captions come from a grammar with synonyms and
varied word order. Clips: ${reel.defaults.sizes[0][0]}×${reel.defaults.sizes[0][1]}, ${reel.defaults.frames} frames at ${reel.defaults.fps} fps.

## Architecture (official key layout, fp16 safetensors)

| part | config |
|---|---|
| ${experts ? `DiT, two experts as in Wan 2.2 A14B (\`high_noise_model/\`, \`low_noise_model/\`, each \`diffusion_pytorch_model.safetensors\`; the low-noise one runs below σ ${experts.boundary})` : "DiT (`diffusion_pytorch_model.safetensors`)"} | dim ${cfg.dim}, ${cfg.num_layers} layers, ${cfg.num_heads} heads, ffn ${cfg.ffn_dim}, freq_dim ${cfg.freq_dim}, text_dim ${cfg.text_dim}, text_len ${cfg.text_len}, patch [1,2,2], 16 latent channels |
| VAE (\`Wan2.1_VAE.safetensors\`) | Wan 2.1 VAE with dim ${reel.vae.dim}, z_dim ${reel.vae.z_dim}, dim_mult [${reel.vae.dim_mult}], ${reel.vae.num_res_blocks} res block(s) per stage; own latent mean/std in reel.json |
| text encoder (\`models_t5_reel-toy-enc-fp16.safetensors\`) | umT5 encoder, vocab ${reel.t5.vocab}, dim ${reel.t5.dim}, ${reel.t5.num_layers} layers, ${reel.t5.num_heads} heads, ffn ${reel.t5.dim_ffn}, per-layer relative position bias |
| tokenizer (\`tokenizer/tokenizer.json\`) | umT5 format (SentencePiece Unigram + Metaspace + "$A </s>"), word-level vocabulary of the caption grammar plus single characters |

Sampling defaults: ${reel.defaults.sampler}, ${reel.defaults.steps} steps, shift ${reel.defaults.shift}, guidance ${reel.defaults.guidance}, empty negative prompt.

## Training

${training}

${
  experts
    ? `- High-noise expert's DiT steps: ${steps("dit", experts.high_noise_model_training)}; ${seen(experts.high_noise_model_training)}.
- Low-noise expert's DiT steps: ${steps("dit")}; ${seen(reel.training)} (from ${reel.training?.clips ?? "?"} encoded training clips).`
    : `- DiT steps: ${steps("dit")}; ${seen(reel.training)} (from ${reel.training?.clips ?? "?"} encoded training clips).`
}
- VAE steps: ${steps("vae")}.
- VAE loss curve: ${curve("vae")}
- DiT loss curve: ${curve("dit")}

## Evaluation (${count} held-out prompts, toy-world evaluator, one video each, seed = index)

| attribute | accuracy | correct/total |${columns.map((c) => ` ${c.label} |`).join("")}
|---|---|---|${columns.map(() => "---|").join("")}
${rows}
| **overall** | **${pct(report.overall)}** | |${columns.map((c) => ` ${pct(c.report.overall)} |`).join("")}

One-object prompts: the same generated clips, only those whose prompt names a single object.

What the evaluator saw where an attribute was wrong (detected value and how often; "none": no
object matched, or for shape an outline close to no reference shape, a blob):
${(["colour", "shape", "motion", "size"] as const).map((a) => `- ${a}: ${formatMisses(report.attributes[a])}`).join("\n")}

Motion by the motion the prompt named (correct/total): ${report.attributes.motion.byExpected.map((b) => `${b.expected} ${b.correct}/${b.total}`).join(", ")}.

Direction (report-only, not in overall): of the ${report.direction.total} objects told to move in a named direction,
${pct(report.direction.accuracy)} went that way (net displacement of at least 0.1 frame heights in the named
compass sector), whether or not they also changed size on the way; one-object prompts
${pct(oneObject.direction.accuracy)}. Where not: ${formatMisses({ ...report.direction, byExpected: [] })}
("none": moved less than 0.1 heights). The motion row reads a move that also grows or shrinks as
grow or shrink, so it is the stricter of the two.

Binding (report-only, not in overall): of the ${report.binding.total} prompts naming objects of two or more
different colours, ${report.binding.correct} (${pct(report.binding.accuracy)}) showed every named colour. The colour row
gives a clip whose objects all took one of two named colours half marks; this row gives it none.

Object size wobble (median over detected objects of the mean |residual| of ln(area) about its
trend over the clip; rendered truth ≈ 0.006, the VAE alone ≈ 0.03; a steady grow or move scores 0): ${wobble(report)}${columns.map((c) => `, ${c.label} ${wobble(c.report)}`).join("")}.
An object redrawn at another size each frame has a first-to-last area ratio the evaluator reads
as grow or shrink, whatever its path.
${recon ? `\nVAE ceiling: the same evaluator on held-out clips passed through the VAE alone (encode, decode),\nwritten by \`training/train_toy.py recon\`; the whole model cannot score above it.\n` : ""}${finished.length ? `\nFinished from σ: the same held-out clips encoded, noised to σ (seeded) and finished by this model's DiT\n(Euler, 20 steps, the default guidance; \`training/train_toy.py recon --from-sigma σ --model M\`). From a\nlow σ the clip's layout is given and the DiT only has to sharpen it; from σ near 1 it has to make\nthe layout itself, as in generation. Where the score falls between two columns is where\ngeneration loses what the VAE can keep.\n` : ""}
Targets from the issue: colour ≥ 85%, motion direction ≥ 70%, background ≥ 80%, shape ≥ 60%.
Generation time per clip during this evaluation (2 threads, in process, sessions warm): median
${(median / 1000).toFixed(1)} s. Reproduce: \`node bin/run-ts.js scripts/toy/model-card.ts --count ${count}\`.

![contact sheet](contact-sheet.png)

Contact sheet: the first 6 held-out prompts (rows) at frames 0, 4, 8, 12, 16:
${prompts
  .slice(0, 6)
  .map((p, i) => `${i + 1}. ${p}`)
  .join("\n")}
`;
writeFileSync(join(values.model, "MODEL_CARD.md"), card);
process.stdout.write(
  `${JSON.stringify({ overall: report.overall, attributes: report.attributes, median_ms: median })}\n`,
);
