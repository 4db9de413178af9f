/**
 * The embedded model's trainer end to end at toy scale: every stage of training/train_toy.py
 * runs (VAE, resume, recon, latents with object masks, DiT, export), and the exported folder is
 * a model the real `reel generate` loads and samples. Needs Debian's python3-torch at
 * /usr/bin/python3 (installed by .ci/run); elsewhere it skips with a visible reason, and under
 * CI=true a missing torch is a failure.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { readHeader } from "../../src/engine/safetensors.ts";
import { TORCH_PY, torchMissing } from "../helpers/torch.ts";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);

const skip = torchMissing();

function train(stage: string, ...args: string[]) {
  return trainIn("run", stage, ...args);
}

function trainIn(runName: string, stage: string, ...args: string[]) {
  const r = spawnSync(
    TORCH_PY,
    [join(ROOT, "training/train_toy.py"), stage, "--run", join(tmp.dir, runName), "--threads", "1", ...args],
    { cwd: ROOT, encoding: "utf8", timeout: 300_000 },
  );
  expect(r.status, `${stage}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A stage that must fail (exit code not 0) in the run folder runName: its stderr. */
function trainFails(runName: string, stage: string, ...args: string[]) {
  const r = spawnSync(
    TORCH_PY,
    [join(ROOT, "training/train_toy.py"), stage, "--run", join(tmp.dir, runName), "--threads", "1", ...args],
    { cwd: ROOT, encoding: "utf8", timeout: 300_000 },
  );
  expect(r.status).not.toBe(0);
  return r.stderr;
}

/** A new run folder holding copies of the main run's files (its latents, masks, ...). */
function runFrom(name: string, files: string[]) {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(join(tmp.dir, "run", f), join(dir, f));
  return dir;
}

/** The real `reel generate` samples a clip (2 steps) with an exported model folder. */
function generateWith(model: string, name: string) {
  const out = join(tmp.dir, name);
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "bin/reel.js"), "generate", "a red ball moves right", "--model", model, "-o", out, "--steps", "2"],
    { encoding: "utf8", timeout: 300_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  expect(existsSync(out)).toBe(true);
}

/** Runs Python lines with Debian's torch from the repository root; its trimmed stdout. */
function python(lines: string[]): string {
  const r = spawnSync(TORCH_PY, ["-c", lines.join("\n")], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe.skipIf(skip !== null)(skip ?? "train_toy.py, every stage at toy scale", () => {
  const run = join(tmp.dir, "run");
  const model = join(tmp.dir, "model");
  const model2 = join(tmp.dir, "model2"); // run2's export (a warm start from model)

  it("--dit-motion-weight's term: 0 for an error the same in every frame, the plain loss's scale for independent ones", () => {
    const code = [
      "import sys, torch",
      "sys.path.insert(0, 'training')",
      "from train_toy import frame_change_loss",
      "torch.manual_seed(0)",
      "w = torch.ones(4, 1, 5, 8, 8)",
      "still = torch.randn(4, 16, 1, 8, 8).expand(4, 16, 5, 8, 8)",
      "noise = torch.randn(4, 16, 5, 8, 8)",
      "obj = w.clone(); obj[:, :, :, :2] = 5",
      "print(frame_change_loss(still, w).item(), frame_change_loss(noise, w).item() / (noise ** 2).mean().item(),",
      "      frame_change_loss(noise * (obj > 1), obj).item() > frame_change_loss(noise * (obj > 1), w).item())",
    ];
    const [still, ratio, weighted] = python(code).split(/\s+/);
    expect(Number(still)).toBe(0);
    expect(Number(ratio)).toBeGreaterThan(0.9);
    expect(Number(ratio)).toBeLessThan(1.1);
    // Errors only on object cells count more when object cells weigh more.
    expect(weighted).toBe("True");
  });

  it("the DiT trainer's float32 GELU and RoPE compute what the reference kernels do, gradients included", () => {
    const code = [
      "import sys, copy, torch",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "from wan_model import WanModel",
      "import wan_model, train_kernels",
      "torch.manual_seed(0)",
      "ref = WanModel(model_type='t2v', patch_size=[1, 2, 2], text_len=8, in_dim=4, dim=64, ffn_dim=128, freq_dim=32,",
      "               text_dim=16, out_dim=4, num_heads=2, num_layers=2, qk_norm=True, cross_attn_norm=True)",
      "for p in ref.parameters(): torch.nn.init.normal_(p, std=0.1)  # the head starts at zero",
      "fast = train_kernels.use_training_kernels(copy.deepcopy(ref))",
      "x = torch.randn(2, 4, 3, 8, 8); t = torch.tensor([900.0, 200.0]); ctx = torch.randn(2, 8, 16)",
      "def run(m, rope, bf16):",
      "    wan_model.rope_apply = rope",
      "    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):",
      "        y = m(x, t, ctx, 48).float()",
      "    y.square().mean().backward()",
      "    g = torch.cat([p.grad.flatten() for p in m.parameters() if p.grad is not None])",
      "    m.zero_grad()",
      "    return y, g",
      "def rel(a, b): return ((a - b).norm() / b.norm()).item()",
      "print(sum(type(m) is train_kernels.GELUFloat32 for m in fast.modules()))",
      "for bf16 in (False, True):",
      "    y0, g0 = run(ref, train_kernels._REFERENCE_ROPE, bf16)",
      "    y1, g1 = run(fast, train_kernels.rope_apply_f32, bf16)",
      "    print(rel(y1, y0), rel(g1, g0))",
    ];
    const [swapped, f32Out, f32Grad, bf16Out, bf16Grad] = python(code).split(/\s+/).map(Number);
    expect(swapped).toBe(3); // one per block's FFN, one in text_embedding
    expect(f32Out).toBeLessThan(1e-5); // float32 vs float64 RoPE
    expect(f32Grad).toBeLessThan(1e-5);
    // Under bf16 autocast the reference's GELU rounds to bf16, the float32 one does not.
    expect(bf16Out).toBeLessThan(0.01);
    expect(bf16Grad).toBeLessThan(0.01);
  });

  it("probe's word swaps: a prompt's shape / colour / direction words become other shapes' / colours' / the opposite", () => {
    const code = [
      "import sys, json",
      "sys.path.insert(0, 'training')",
      "from train_toy import swap_map, SWAP_SHAPES, SWAP_COLOURS, SWAP_MOTIONS",
      "v = [w for w, _ in json.load(open('training/tokenizer.json'))['model']['vocab']]",
      "ids = [v.index('\u2581' + w) for w in 'a red ball and two blue stars move left'.split()] + [1]",
      "for cyc in (SWAP_SHAPES, SWAP_COLOURS, SWAP_MOTIONS):",
      "    print(' '.join(v[i] if i > 1 else '</s>' for i in (swap_map('training/tokenizer.json', cyc).get(t, t) for t in ids)).replace('\u2581', ''))",
    ];
    expect(python(code).split("\n")).toEqual([
      "a red square and two blue rings move left </s>",
      "a orange ball and two purple stars move left </s>",
      "a red ball and two blue stars move right </s>",
    ]);
  });

  it("trains the VAE, resumes from its checkpoint, and writes held-out reconstructions", () => {
    const tiny = ["--vae-dim", "4", "--crop", "16", "--batch", "1", "--window", "17", "--no-bf16"];
    expect(train("vae", ...tiny, "--steps", "2")).toMatch(/vae: 2 steps/);
    expect(train("vae", ...tiny, "--steps", "3")).toMatch(/resumed vae at step 2[\s\S]*vae: 3 steps/);
    expect(JSON.parse(readFileSync(join(run, "vae_config.json"), "utf8"))).toMatchObject({ dim: 4, z_dim: 16 });
    expect(train("recon", "--count", "2")).toMatch(/recon: 2 clips/);
    for (const d of ["recon-truth", "recon-vae"]) expect(existsSync(join(run, d, "captions.jsonl"))).toBe(true);
  });

  it("encodes latents with object masks, trains the DiT, exports a model reel loads", () => {
    expect(train("latents", "--count", "4")).toMatch(/latents: 4 clips/);
    const masks = readFileSync(join(run, "latent_masks.npy"));
    expect(masks.subarray(0, 200).toString("latin1")).toMatch(/'shape': \(4, 5, 16, 16\)/);
    // The renderer's object masks: some cells of every clip, far from all (an edge detector
    // marked most cells of textured backgrounds).
    const cells = masks.subarray(masks.length - 4 * 5 * 16 * 16);
    for (let c = 0; c < 4; c++) {
      const cover = cells.subarray(c * 1280, (c + 1) * 1280).reduce((a, b) => a + b, 0) / 1280;
      expect(cover, `clip ${c}`).toBeGreaterThan(0);
      expect(cover, `clip ${c}`).toBeLessThan(0.5);
    }
    // `masks` recomputes them from the renderer for a run's encoded clips: the same bytes.
    expect(train("masks")).toMatch(/masks: 4 clips/);
    expect(readFileSync(join(run, "latent_masks.npy")).equals(masks)).toBe(true);
    // Three renderer processes (seeds interleaved) stream the same clips in the same order.
    expect(train("masks", "--workers", "3")).toMatch(/masks: 4 clips/);
    expect(readFileSync(join(run, "latent_masks.npy")).equals(masks)).toBe(true);
    // ... and the outlines at twice the latent resolution: a cell of the mask covers an object
    // exactly where one of its 2x2 outline cells has any cover.
    const consistent = python([
      "import numpy as np",
      `m, c = np.load('${join(run, "latent_masks.npy")}'), np.load('${join(run, "object_cover.npy")}')`,
      "coarse = c.reshape(4, 5, 16, 2, 16, 2).max(axis=(3, 5)) > 0",
      "print(c.shape, c.dtype, int((coarse == (m > 0)).all()), int(((c > 0) & (c < 255)).any()))",
    ]);
    expect(consistent).toBe("(4, 5, 32, 32) uint8 1 1"); // partial cells too: a share, not a bit
    // ... and per named object (caption order): the groups' covers add up to the outline (an
    // object drawn over another takes its pixels), and every clip shows its first named object.
    const groups = python([
      "import numpy as np",
      `c, g = np.load('${join(run, "object_cover.npy")}'), np.load('${join(run, "group_cover.npy")}')`,
      "print(g.shape, int((np.abs(g.astype(int).sum(1) - c.astype(int)) <= 3).all()), int((g[:, 0] > 0).any(axis=(1, 2, 3)).all()))",
    ]);
    expect(groups).toBe("(4, 3, 5, 32, 32) 1 1");
    expect(train("dit", "--steps", "1", "--batch", "2", "--no-bf16", "--shift", "5")).toMatch(/dit: 1 steps/);
    // The training sigma shift is kept in the checkpoint (a resume says when it changes) and
    // exported as the model's sampling default. The resume adds the frame-to-frame error term.
    expect(train("dit", "--steps", "2", "--batch", "2", "--no-bf16", "--dit-motion-weight", "1")).toMatch(
      /resumed dit at step 1\n[\s\S]*dit: 2 steps/,
    );
    // Joint image-video training: with --dit-image-every 1 every step is a batch of stills (each
    // clip's first latent frame; 4x the batch, capped at the run's clip count).
    expect(train("dit", "--steps", "3", "--batch", "2", "--no-bf16", "--dit-image-every", "1")).toMatch(
      /resumed dit at step 2\n[\s\S]*dit: 3 steps \(1 of this invocation's on stills\)/,
    );
    expect(train("export", "--out", model)).toMatch(/exported/);
    const reel = JSON.parse(readFileSync(join(model, "reel.json"), "utf8"));
    expect(reel.defaults.shift).toBe(5);
    // probe: the exported DiT's loss on object/background cells per noise level and prompt.
    expect(train("probe", "--model", model, "--count", "2", "--no-bf16")).toMatch(/probe: 2 clips/);
    const probe = JSON.parse(readFileSync(join(run, "probe.json"), "utf8"));
    expect(probe.rows.map((r: { sigma: number }) => r.sigma)).toEqual([0.99, 0.95, 0.8, 0.5, 0.2]);
    // A word gain is over the clips whose prompt the swap changed (none: null).
    for (const r of probe.rows)
      for (const k of ["true_obj", "text_gain_bg", "shape_gain_obj", "colour_gain_obj", "motion_gain_obj"])
        expect(Number.isFinite(r[k]) || (r[k] === null && r[k.replace("gain_obj", "clips")] === 0), k).toBe(true);
    // ... and how well its text encoder tells attribute values apart at their words (training captions).
    expect(probe.words.colour.words).toBeGreaterThan(0);
    expect(probe.words.colour.main).toBeGreaterThanOrEqual(0);
    expect(probe.words.colour.main).toBeLessThanOrEqual(1);
    expect(reel.training).toMatchObject({
      dit_steps: 3,
      dit_steps_total: 3,
      vae_steps: 3,
      vae_steps_total: 3,
      clips: 4,
    });
    // The checkpoint records each invocation of `dit`; the last one trained step 2 to 3, on stills.
    expect(reel.training.dit_invocations.map((i: { from: number; to: number }) => [i.from, i.to])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(reel.training.dit_invocations[2]).toMatchObject({ stills: 1, batch: 2, still_batch: 4 });
    // ... and the loss terms of each: the second one added the frame-to-frame term.
    expect(reel.training.dit_invocations[1].recipe).toMatchObject({ motion_weight: 1, image_every: 0, shift: 5 });
    expect(reel.training.dit_invocations[2].recipe).toMatchObject({ motion_weight: 0, image_every: 1, text_aux: 0 });
    // Each weight file's metadata counts that part's own steps.
    expect(readHeader(join(model, "diffusion_pytorch_model.safetensors")).metadata.steps).toBe("3");
    expect(readHeader(join(model, "Wan2.1_VAE.safetensors")).metadata.steps).toBe("3");
    generateWith(model, "clip.mp4");
  });

  it("probe's word separation: synonyms score 1 when the encoder maps them to their value, less when it keeps words apart", () => {
    const code = [
      "import sys, json, torch",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "from train_toy import word_class_table, word_separation",
      "tok = 'training/tokenizer.json'",
      "table, names = word_class_table(tok)",
      "vocab = {w: i for i, (w, _) in enumerate(json.load(open(tok))['model']['vocab'])}",
      "rows = [[vocab['\u2581' + w] for w in c.split()] + [1] for c in",
      "        ['a red ball moves left', 'a violet circle drifts leftward', 'two blue orbs rise', 'a green sphere sinks',",
      "         'a pink box spins', 'a small square rotates', 'a yellow block hops up', 'a tiny ring bounces down', 'a purple star falls']]",
      "torch.manual_seed(0)",
      "by_value = torch.randn(len(names), 16)",
      "by_word = torch.randn(len(vocab), 16)",
      "def encoder(emb): return lambda ids, mask: emb[ids]",
      "per_value = torch.where((table >= 0).unsqueeze(1), by_value[table.clamp(min=0)], by_word)",
      "for emb in (per_value, by_word):",
      "    w = word_separation(encoder(emb), rows, tok, torch.device('cpu'))",
      "    print(w['shape']['main'], w['shape']['synonym'], w['colour']['synonym'], w['direction']['synonym'])",
    ];
    const [byValue, byWord] = python(code)
      .split("\n")
      .map((l) => l.split(" ").map(Number));
    expect(byValue).toEqual([1, 1, 1, 1]);
    expect(byWord![0]).toBe(1); // a main word is its own centroid
    expect(byWord![1]).toBeLessThan(1); // random vectors per word: synonyms land elsewhere
  });

  it("--dit-text-aux's read-out: training an encoder with it brings synonyms to their value's main word", () => {
    const code = [
      "import sys, json, torch",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "from umt5 import T5Encoder",
      "from train_toy import TextAux, word_class_table, word_separation",
      "tok = 'training/tokenizer.json'",
      "vocab = {w: i for i, (w, _) in enumerate(json.load(open(tok))['model']['vocab'])}",
      "caps = ['a red ball moves left', 'a violet circle drifts leftward', 'two blue orbs rise', 'a green sphere sinks',",
      "        'a pink box spins', 'a small square rotates', 'a yellow block hops up', 'a tiny ring bounces down',",
      "        'a purple star falls', 'a big heart moves right', 'a brown hoop glides rightward', 'an orange donut twirls']",
      "rows = [[vocab['\u2581' + w] for w in c.split()] + [1] for c in caps]",
      "ids = torch.zeros(len(rows), 32, dtype=torch.long)",
      "for i, r in enumerate(rows): ids[i, :len(r)] = torch.tensor(r)",
      "torch.manual_seed(0)",
      "t5 = T5Encoder(vocab=len(vocab), dim=32, dim_attn=32, dim_ffn=64, num_heads=2, num_layers=1, num_buckets=8,",
      "               shared_pos=False, dropout=0.0)",
      "before = word_separation(t5, rows, tok, torch.device('cpu'))",
      "aux = TextAux(32, *word_class_table(tok))",
      "aux.fit_head(t5, ids.numpy(), steps=100, batch=12)",
      "opt = torch.optim.Adam(list(t5.parameters()) + list(aux.parameters()), lr=3e-3)",
      "for _ in range(200):",
      "    ce, acc = aux(t5(ids, (ids != 0).long()), ids)",
      "    opt.zero_grad(); ce.backward(); opt.step()",
      "after = word_separation(t5, rows, tok, torch.device('cpu'))",
      "print(before['shape']['synonym'], after['shape']['synonym'], after['direction']['synonym'], acc.item())",
    ];
    const [shapeBefore, shapeAfter, directionAfter, accuracy] = python(code).split(/\s+/).map(Number);
    expect(shapeBefore).toBeLessThan(0.5); // a random encoder: "circle" is not near "ball"
    expect(shapeAfter).toBe(1);
    expect(directionAfter).toBe(1);
    expect(accuracy).toBe(1);
  });

  it("dit --dit-text-aux fits its read-out, trains with it, logs it and resumes it", () => {
    const aux = runFrom("aux", ["latents.npy", "latents.json", "latent_stats.json", "latent_masks.npy"]);
    const opts = ["--batch", "2", "--no-bf16", "--dit-text-aux", "0.1"];
    expect(trainIn("aux", "dit", "--steps", "20", ...opts)).toMatch(
      /text aux: 33 attribute classes, weight 0.1\ntext aux: read-out fitted to the encoder as it is: cross-entropy [\d.]+, accuracy [\d.]+\n/,
    );
    const resumed = trainIn("aux", "dit", "--steps", "21", ...opts);
    expect(resumed).toMatch(/text aux: .* \(resumed\)[\s\S]*dit: 21 steps/);
    expect(resumed).not.toMatch(/read-out fitted/);
    const rows = readFileSync(join(aux, "dit.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { loss_text?: number; text_acc?: number; grad_norm?: number });
    expect(rows).toHaveLength(2); // logged every 10 steps
    for (const r of rows) {
      expect(Number.isFinite(r.loss_text)).toBe(true);
      expect(r.text_acc).toBeGreaterThanOrEqual(0);
      expect(r.grad_norm).toBeGreaterThan(0);
    }
  });

  it("--dit-contrast's alternatives swap shape words for another shape's and directions for their opposite", () => {
    const code = [
      "import sys, json, numpy as np",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "from train_toy import ContrastSwap",
      "tok = 'training/tokenizer.json'",
      "vocab = [w for w, _ in json.load(open(tok))['model']['vocab']]",
      "ix = {w: i for i, w in enumerate(vocab)}",
      "cs, rng = ContrastSwap(tok), np.random.default_rng(0)",
      "def alt(cap, still):",
      "    a = cs.alternative([ix['\u2581' + w] for w in cap.split()] + [1, 0, 0], rng, still)",
      "    return 'none' if a is None else '_'.join(vocab[t].lstrip('\u2581') for t in a[:-1])",
      "print(alt('two blue spheres sink', True), alt('a red plus moves left', False), alt('a red ball rolls', True),",
      "      alt('a red', False), alt('a red moves up', True))",
      "cs = ContrastSwap(tok, kinds=('binding',))  # the objects' colours passed on; a background's stays",
      "print(alt('a red ball and a blue star stay on green grass', True),",
      "      alt('two red balls and a violet star and a green ring spin', False),",
      "      alt('two red balls sit under a blue sky', True), alt('a red ball and a red star stay', True))",
      "import torch",
      "from train_toy import contrast_loss",
      "e, m = torch.rand(3, 16, 5, 8, 8) + 0.1, (torch.rand(3, 1, 5, 8, 8) > 0.7).float()",
      "same, far, wrong = (contrast_loss(e, a, m, 0.05) for a in (e, 2 * e, 0.5 * e))",
      "print(round(same[0].item(), 4), far[0].item() < 1e-6, round(far[1].item(), 4), wrong[0].item() > 5)",
    ];
    const [plural, either, still, none, stillMotion, bound, bound3, oneColour, sameColour, same, far, farGap, wrong] =
      python(code).split(/\s+/);
    expect(bound).toBe("a_blue_ball_and_a_red_star_stay_on_green_grass");
    expect(bound3).toBe("two_green_balls_and_a_red_star_and_a_violet_ring_spin");
    expect([oneColour, sameColour]).toEqual(["none", "none"]);
    expect(Number(same)).toBeCloseTo(Math.log(2), 4); // equal errors: a coin toss
    expect([far, farGap, wrong]).toEqual(["True", "1.0", "True"]); // fades once the alternative is far worse
    expect(plural).toMatch(
      /^two_blue_(squares|boxes|blocks|cubes|triangles|stars|rings|donuts|hoops|doughnuts|diamonds|rhombuses|hearts|crosses)_sink$/,
    );
    expect(either === "a_red_plus_moves_right" || /^a_red_(?!plus_|cross_)\w+_moves_left$/.test(either!)).toBe(true);
    expect(still).toMatch(/^a_red_(?!ball_)\w+_rolls$/);
    expect(none).toBe("none");
    expect(stillMotion).toBe("none"); // a still shows no motion: no direction swap
  });

  it('--dit-multi-weight\'s reading of captions: more than one shape word, or a plural one ("plus signs" too), is more than one object', () => {
    const code = [
      "import sys, json",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "from train_toy import multi_object_rows",
      "tok = 'training/tokenizer.json'",
      "ix = {w: i for i, (w, _) in enumerate(json.load(open(tok))['model']['vocab'])}",
      "caps = ['a red ball moves left', 'two blue spheres sink', 'a red plus and a blue cross stay',",
      "        'a pair of rings spin', 'a red cross spins', 'a red', 'two red plus signs spin', 'a red plus sign spins']",
      "print(*(int(x) for x in multi_object_rows([[ix['\u2581' + w] for w in c.split()] + [1] for c in caps], tok)))",
    ];
    expect(python(code)).toBe("0 1 1 1 0 0 1 0");
  });

  it("dit --dit-contrast trains with the extra forward and logs its loss and gap; --dit-multi-weight says what it draws", () => {
    const dir = runFrom("contrast", ["latents.npy", "latents.json", "latent_stats.json", "latent_masks.npy"]);
    const out = trainIn(
      "contrast",
      "dit",
      "--steps",
      "20",
      "--batch",
      "4",
      "--no-bf16",
      "--dit-contrast",
      "0.1",
      "--dit-multi-weight",
      "3",
    );
    expect(out).toMatch(
      /contrast: weight 0.1, 4 clips per step \(x4 stills\), tau 0.05, shape\/motion swaps, at sigma >= 0.4\n[\s\S]*dit: 20 steps/,
    );
    expect(out).toMatch(/multi-object clips: \d+ of \d+ \(\d+\.\d%\), drawn x3: \d+\.\d% of each batch/);
    const rows = readFileSync(join(dir, "dit.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { loss_contrast?: number; contrast_gap?: number });
    expect(rows).toHaveLength(2);
    expect(rows.some((r) => Number.isFinite(r.loss_contrast) && r.loss_contrast! > 0)).toBe(true);
    expect(rows.some((r) => Number.isFinite(r.contrast_gap))).toBe(true);
    // The kinds of alternative and the lowest noise level are options (checked, and said).
    const opts = ["--steps", "0", "--batch", "4", "--no-bf16", "--dit-contrast", "0.1"];
    expect(trainFails("contrast", "dit", ...opts, "--dit-contrast-kinds", "shape,colour")).toMatch(
      /'shape,colour': comma-separated kinds of shape, motion, binding/,
    );
    expect(
      trainIn("contrast", "dit", ...opts, "--dit-contrast-kinds", "binding", "--dit-contrast-sigma", "0.7"),
    ).toMatch(/tau 0.05, binding swaps, at sigma >= 0.7/);
  });

  it("--dit-attn-ground: which words name which object, and the share of their attention inside it", () => {
    const code = [
      "import sys, json, torch",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "import train_toy as tt",
      "from wan_model import WanModel",
      "torch.manual_seed(0)",
      "tok = 'training/tokenizer.json'",
      "ix = {w: i for i, (w, _) in enumerate(json.load(open(tok))['model']['vocab'])}",
      "cfg = dict(tt.DIT_CONFIG, num_layers=2)",
      "dit = WanModel(**cfg).eval()",
      "g = tt.AttnGround(dit, tok)",
      "caps = ['a red ball and a blue star', 'two green rings spin']",
      "ids = torch.zeros(2, 32, dtype=torch.long)",
      "for r, c in enumerate(caps):",
      "    row = [ix['\u2581' + w] for w in c.split()] + [1]",
      "    ids[r, :len(row)] = torch.tensor(row)",
      "wg = g.word_groups(ids)",
      "print(*wg[0, :7].tolist()); print(*wg[1, :5].tolist())",
      "# group covers [B, 3, F=5, 32, 32]: clip 0: group 0 on the left half, group 1 on the right; clip 1: group 0 top rows",
      "gt = torch.zeros(2, 3, 5, 32, 32)",
      "gt[0, 0, :, :, :16] = 1; gt[0, 1, :, :, 16:] = 1; gt[1, 0, :, :8] = 1",
      "# a real forward keeps one map per block: [B, S, 32], rows summing to 1",
      "x = torch.randn(2, 16, 5, 16, 16)",
      "g.active = True",
      "with torch.no_grad():",
      "    dit(x, torch.full((2,), 500.0), torch.randn(2, 32, cfg['text_dim']), tt.seq_len(dit, x))",
      "print(len(g.probs), tuple(g.probs[0].shape), round(float(g.probs[0].sum(-1).mean()), 4))",
      "r = g.loss((5, 16, 16), gt, ids)",
      "print(round(float(r.loss), 3) > 0, 0 < r.share < 1)",
      "# made-up maps: every word attended only from its own object's tokens -> loss 0, share 1, bind 1 (either order)",
      "S = 5 * 8 * 8",
      "cov = torch.nn.functional.avg_pool3d(gt, (1, 4, 4)).flatten(2)  # [B, 3, S]",
      "p = torch.full((2, S, 32), 1e-12)",
      "for r in range(2):",
      "    for t in range(32):",
      "        k = int(wg[r, t])",
      "        if k >= 0:",
      "            p[r, :, t] = cov[r, k]",
      "g.probs = [p]",
      "r = g.loss((5, 16, 16), gt, ids)",
      "print(round(float(r.loss), 4), round(r.share, 4), round(r.bind, 4), round(r.bind_any, 4))",
      "# ... and from the other object's tokens (clip 0): its words' share 0, bind -1; clip 1 alone -> its share 1",
      "p0 = p.clone(); p0[0, :, 1:3] = cov[0, 1].unsqueeze(1); p0[0, :, 5:7] = cov[0, 0].unsqueeze(1)",
      "g.probs = [p0]",
      "r = g.loss((5, 16, 16), gt, ids)",
      "print(round(float(r.loss), 4), round(r.share, 4), round(r.bind, 4), round(r.bind_any, 4))",
      "# any order: the swapped order fits clip 0 perfectly, so nothing is lost",
      "g.any_order = True",
      "g.probs = [p0]",
      "r = g.loss((5, 16, 16), gt, ids)",
      "print(round(float(r.loss), 4), round(r.share, 4), round(r.bind, 4), round(r.bind_any, 4))",
      "# one order for all blocks: block 1 has both phrases on the left object, block 2 swapped -> swapped wins",
      "p1 = p.clone(); p1[0, :, 5:7] = cov[0, 0].unsqueeze(1)",
      "g.probs = [p1, p0]",
      "r = g.loss((5, 16, 16), gt, ids)",
      "print(round(float(r.loss), 4), round(r.share, 4), round(r.bind, 4), round(r.bind_any, 4))",
      "# a dropped prompt (EOS only) names nothing",
      "g.probs = [p]",
      "print(g.loss((5, 16, 16), gt, torch.tensor([[1] + [0] * 31] * 2)))",
    ];
    expect(python(code).split("\n")).toEqual([
      "-1 0 0 -1 -1 1 1", // "a red ball and a blue star": colour and shape words, by object
      "-1 0 0 -1 -1", // "two green rings spin": one group
      "2 (2, 320, 32) 1.0", // a real forward: each block's map, each token's softmax over the prompt
      "True True",
      "0.0 1.0 1.0 1.0", // every word attended from its own object's tokens only
      "0.6667 0.3333 -1.0 1.0", // clip 0's four words from the other object's: (1 - 0)^2 each
      "0.0 1.0 -1.0 1.0", // any order: the same maps cost nothing (bind stays in caption order)
      "0.1667 0.8333 -0.5 0.5", // swapped: block 1's right-object words (2 of 6) miss; (0 + 1) / 2 share lost
      "None", // a dropped prompt names nothing
    ]);
  });

  it("--dit-colour-bind: each named object's preview colour, in the best order of the objects", () => {
    const code = [
      "import sys, torch",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "import train_toy as tt",
      "# preview: rgb = the first three latent channels",
      "w = torch.zeros(3, 16); w[0, 0] = w[1, 1] = w[2, 2] = 1",
      "cb = tt.ColourBind({'weight': w.tolist(), 'bias': [0, 0, 0]}, torch.device('cpu'), sigma_min=0.5)",
      "# two clips [2, 16, F=5, 16, 16]: clip 0 shows a red object (left half) and a blue one (right half); clip 1 one green object",
      "x0 = torch.zeros(2, 16, 5, 16, 16)",
      "x0[0, 0, :, :, :8] = 1; x0[0, 2, :, :, 8:] = 1; x0[1, 1, :, :4] = 1",
      "gt = torch.zeros(2, 3, 5, 32, 32)",
      "gt[0, 0, :, :, :16] = 1; gt[0, 1, :, :, 16:] = 1; gt[1, 0, :, :8] = 1",
      "sig, keep = torch.tensor([0.9, 0.9]), torch.tensor([True, True])",
      "def show(r): print(round(float(r.loss), 4), round(r.err, 4), r.swap)",
      "show(cb.loss(x0, x0, gt, sig, keep))  # the true latents: nothing lost",
      "sw = x0.clone(); sw[0, 0], sw[0, 2] = x0[0, 2], x0[0, 0]",
      "show(cb.loss(sw, x0, gt, sig, keep))  # the objects' colours swapped: nothing lost in the best order",
      "one = x0.clone(); one[0, 2] = 0; one[0, 0] = 1  # both objects red",
      "x = one.clone().requires_grad_(True)",
      "r = cb.loss(x, x0, gt, sig, keep); show(r)",
      "r.loss.backward(); print(round(float(x.grad[0, 0, :, :, 8:].sum()), 4) > 0, round(float(x.grad[0, 2, :, :, 8:].sum()), 4) < 0)",
      "print(cb.loss(x0, x0, gt, torch.tensor([0.9, 0.4]), torch.tensor([False, True])))  # dropped or too little noise",
      "show(cb.loss(x0, x0, gt, sig, torch.tensor([False, True])))  # one object only: no swap share",
      "# --dit-colour-bind-frames: each frame's colour over the object's cover against the truth's there, that frame",
      "pf = tt.ColourBind({'weight': w.tolist(), 'bias': [0, 0, 0]}, torch.device('cpu'), per_frame=True)",
      "show(pf.loss(x0, x0, gt, sig, keep)); show(pf.loss(sw, x0, gt, sig, keep))",
      "mv = x0.clone(); mv[0, 0, 2:] = 0; mv[0, 0, 2:, :, 8:] = 1  # the red object leaves its place after frame 1, for the blue one's",
      "show(cb.loss(mv, x0, gt, sig, keep)); show(pf.loss(mv, x0, gt, sig, keep))",
      "fl = x0.clone(); fl[0, 0, :2] *= 0.5  # the red object dimmer in frames 0-1: frame by frame, the truth still costs nothing",
      "show(pf.loss(fl, fl, gt, sig, keep))",
    ];
    expect(python(code).split("\n")).toEqual([
      "0.0 0.0 0.0", // the true latents
      "0.0 1.0 1.0", // swapped: (|r-b|^2 = 2 per object) / 2 clips in caption order; the best order is the other
      "0.5 0.5 0.0", // both red: the right object is 2 away from blue, mean over 2 objects, 2 clips
      "True True", // the gradient pulls the right object from red toward blue
      "None",
      "0.0 0.0 None",
      "0.0 0.0 0.0", // frame by frame: the true latents
      "0.0 1.0 1.0", // and the swap, as over the clip
      "0.18 0.18 0.0", // moved, over the clip: left (0.4, 0, 0) vs red, right (0.6, 0, 1) vs blue: 0.36 each, 2 clips
      "0.3 0.3 0.0", // frame by frame: frames 2-4 of 5 are 1 away for both objects: 0.6, 2 clips
      "0.0 0.0 0.0", // each frame against the truth's colour in that frame, not the clip's
    ]);
  });

  it("--dit-mask-aux: object_cover averages frames and pixels (per group too); its read-out lays tokens' sub-cells out in place", () => {
    const code = [
      "import sys, types, numpy as np, torch",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "from train_toy import object_cover, MaskAux",
      "px = np.zeros((1, 17, 8, 8), np.uint8)",
      "px[0, 0, :4, :4] = 1  # frame 0 alone is latent frame 0",
      "px[0, 1:3, 4:, 4:] = 2  # frames 1-2 of latent frame 1's four (1-4); the second named object (group 1)",
      "px[0, 5:9, 0, 0] = 1  # one pixel of 16 in all four frames of latent frame 2",
      "c = object_cover(px, 4)[0]",
      "print(c.shape[0], c.shape[1], c[0, 0, 0].item(), c[0, 1, 1].item(), c[1, 1, 1].item(), c[1, 0, 0].item(), c[2, 0, 0].item())",
      "g0, g1 = object_cover(px, 4, 0)[0], object_cover(px, 4, 1)[0]  # each group's own",
      "print(g0[0, 0, 0].item(), g0[1, 1, 1].item(), g1[1, 1, 1].item(), g1[0, 0, 0].item())",
      "dit = types.SimpleNamespace(blocks=torch.nn.ModuleList([torch.nn.Identity()]), patch_size=(1, 2, 2), dim=16)",
      "aux = MaskAux(dit, 0)",
      "aux.head = torch.nn.Identity()  # 16 = 1 x 4 x 4 sub-cells per token",
      "f, h, w = 2, 3, 2",
      "n = torch.arange(f * h * w).float().view(1, -1, 1)",
      "dit.blocks[0](n * 100 + torch.arange(16).float().view(1, 1, 16))",
      "out = aux.logits((f, 2 * h, 2 * w))[:, 0]",
      "ok = all(out[0, i, r, q].item() == ((i * h + r // 4) * w + q // 4) * 100 + (r % 4) * 4 + q % 4",
      "         for i in range(f) for r in range(4 * h) for q in range(4 * w))",
      "print(tuple(out.shape), ok)",
      "# detach=True (a fresh read-out's first steps): its loss sends no gradient into the blocks",
      "aux.head = torch.nn.Linear(16, 16)",
      "grads = []",
      "for detach in (True, False):",
      "    hid = torch.randn(1, f * h * w, 16, requires_grad=True)",
      "    dit.blocks[0](hid)",
      "    aux((f, 2 * h, 2 * w), torch.rand(1, f, 4 * h, 4 * w), torch.ones(1, f, 4 * h, 4 * w), detach)[0].backward()",
      "    grads.append(hid.grad is not None and bool(hid.grad.abs().sum() > 0))",
      "print(*grads)",
      "# --dit-mask-aux-groups: channel c of the read-out is features c*16.. of each token",
      "dit2 = types.SimpleNamespace(blocks=torch.nn.ModuleList([torch.nn.Identity()]), patch_size=(1, 2, 2), dim=48)",
      "ga = MaskAux(dit2, 0, groups=2)",
      "ga.head = torch.nn.Identity()",
      "dit2.blocks[0](n * 100 + torch.arange(48).float().view(1, 1, 48))",
      "o = ga.logits((f, 2 * h, 2 * w))",
      "print(tuple(o.shape), all(o[0, c, i, r, q].item() == ((i * h + r // 4) * w + q // 4) * 100 + c * 16 + (r % 4) * 4 + q % 4",
      "      for c in range(3) for i in range(f) for r in range(4 * h) for q in range(4 * w)))",
      "# which object a cell shows: a read-out that names each cell's own object scores 1, the other 0",
      "gt = torch.zeros(1, 2, f, 4 * h, 4 * w); gt[0, 0, :, :4] = 1; gt[0, 1, :, 4:8] = 1",
      "cover, wt = gt.sum(1), torch.ones(1, f, 4 * h, 4 * w)",
      "for lg in (gt, gt.flip(1)):",
      "    ga.logits = lambda grid, detach=False, lg=lg: torch.cat([cover.unsqueeze(1), lg], 1) * 20 - 10",
      "    print(ga((f, 2 * h, 2 * w), cover, wt, group_target=gt)[2].item(), end=' ')",
      "one = gt * torch.tensor([1.0, 0.0]).view(1, 2, 1, 1, 1)  # a clip showing one named object: not counted",
      "print(ga((f, 2 * h, 2 * w), cover, wt, group_target=one)[2])",
    ];
    expect(python(code).split("\n")).toEqual([
      "5 2 255 0 128 0 16",
      "255 0 128 0",
      "(1, 2, 12, 8) True",
      "False True",
      "(1, 3, 2, 12, 8) True",
      "1.0 0.0 None",
    ]);
  });

  it("dit --dit-mask-aux trains its read-out alone first, then with the DiT; logs, saves and resumes it", () => {
    const dir = runFrom("maskaux", ["latents.npy", "latents.json", "latent_stats.json", "latent_masks.npy"]);
    const opts = ["--batch", "2", "--no-bf16", "--dit-mask-aux", "0.3"];
    expect(trainFails("maskaux", "dit", "--steps", "1", ...opts)).toMatch(
      /--dit-mask-aux needs .*object_cover\.npy: run `train_toy\.py masks --run /,
    );
    copyFileSync(join(run, "object_cover.npy"), join(dir, "object_cover.npy"));
    expect(trainIn("maskaux", "dit", "--steps", "20", ...opts)).toMatch(
      /mask aux: outlines 5x32x32 from block 3's tokens, weight 0.3\n[\s\S]*dit: 20 steps/,
    );
    expect(trainIn("maskaux", "dit", "--steps", "21", ...opts)).toMatch(/mask aux: .* \(resumed\)[\s\S]*dit: 21 steps/);
    const rows = readFileSync(join(dir, "dit.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { loss_mask?: number; mask_iou?: number });
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.loss_mask).toBeGreaterThan(0);
      expect(r.mask_iou).toBeGreaterThanOrEqual(0);
    }
    const bad = trainFails("maskaux", "dit", "--steps", "22", ...opts, "--dit-mask-aux-block", "1");
    expect(bad).toMatch(/--dit-mask-aux-block 1: this checkpoint's read-out is of block 3/);
    // `readout` asks for the named objects' read-out, which this one is not yet.
    expect(trainFails("maskaux", "readout")).toMatch(
      /has no read-out of the named objects: train it with --dit-mask-aux W --dit-mask-aux-groups/,
    );
    // --dit-mask-aux-groups: each named object's outline too, from group_cover.npy; a read-out
    // without them starts afresh.
    const g = ["--dit-mask-aux-groups"];
    expect(trainFails("maskaux", "dit", "--steps", "22", "--batch", "2", "--no-bf16", ...g)).toMatch(
      /--dit-mask-aux-groups reads out with --dit-mask-aux's read-out/,
    );
    expect(trainFails("maskaux", "dit", "--steps", "22", ...opts, ...g)).toMatch(
      /--dit-mask-aux-groups needs .*group_cover\.npy/,
    );
    expect(trainFails("maskaux", "dit", "--steps", "22", ...opts, "--dit-attn-ground", "0.1")).toMatch(
      /--dit-attn-ground needs .*group_cover\.npy/,
    );
    copyFileSync(join(run, "group_cover.npy"), join(dir, "group_cover.npy"));
    expect(trainIn("maskaux", "dit", "--steps", "40", ...opts, ...g)).toMatch(
      /reads 0 named objects, this one 3: a fresh read-out\n.*, and each of up to 3 named objects'\n[\s\S]*dit: 40 steps/,
    );
    const grouped = readFileSync(join(dir, "dit.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; loss_mask?: number; mask_group_acc?: number })
      .filter((r) => r.step > 21);
    expect(grouped).toHaveLength(2);
    // This run's four clips each show one named object, where "the first" is always right, so
    // no step has a group accuracy to log (the read-out test above checks the accuracy itself).
    for (const r of grouped) expect(r.mask_group_acc).toBeUndefined();
    // `readout` measures it on clips showing two named objects: none here, which it says; then
    // clip 0 (every 7th clip is read) given a second object over its right quarter of columns.
    expect(trainFails("maskaux", "readout")).toMatch(/none of .* clips \(every 7th\) shows two or more named objects/);
    python([
      "import numpy as np",
      `p = '${join(dir, "group_cover.npy")}'`,
      "g = np.load(p); g[0] = 0; g[0, 0, :, :, :16] = 255; g[0, 1, :, :, 24:] = 255; np.save(p, g)",
    ]);
    expect(trainIn("maskaux", "readout")).toMatch(
      /readout: 1 clips showing 2\+ named objects, block 3's read-out at step 40/,
    );
    const readout = JSON.parse(readFileSync(join(dir, "readout.json"), "utf8")) as {
      rows: {
        sigma: number;
        accuracy: number;
        always_first: number;
        attn_share: number;
        attn_bind: number;
        attn_bind_any: number;
      }[];
    };
    expect(readout.rows.map((r) => r.sigma)).toEqual([0.95, 0.9, 0.8, 0.6, 0.4]);
    for (const r of readout.rows) {
      expect(r.always_first).toBeCloseTo(16 / 24, 4); // first object's cells over both objects'
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      // where the objects' words draw their attention from (AttnGround): a share, and own - others'
      expect(r.attn_share).toBeGreaterThan(0);
      expect(r.attn_share).toBeLessThan(1);
      expect(Math.abs(r.attn_bind)).toBeLessThan(1);
      expect(Math.abs(r.attn_bind_any)).toBeLessThan(1); // in each clip's best order
    }
    // --dit-attn-ground trains with the grounding loss and logs it, with the words' share inside
    // their object and (clip 0 now shows two) how much more inside their own than the other;
    // then 10 steps with the objects in any order.
    expect(trainIn("maskaux", "dit", "--steps", "50", ...opts, ...g, "--dit-attn-ground", "0.1")).toMatch(
      /attention grounding: weight 0.1, every block's cross-attention\n[\s\S]*dit: 50 steps/,
    );
    expect(
      trainIn(
        "maskaux",
        "dit",
        "--steps",
        "60",
        ...opts,
        ...g,
        "--dit-attn-ground",
        "0.1",
        "--dit-attn-ground-any-order",
      ),
    ).toMatch(/attention grounding: weight 0.1, every block's cross-attention, the objects in any order\n/);
    const ground = readFileSync(join(dir, "dit.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            step: number;
            loss_ground?: number;
            attn_share?: number;
            attn_bind?: number;
            attn_bind_any?: number;
          },
      )
      .filter((r) => r.step > 40);
    expect(ground.map((r) => r.step)).toEqual([50, 60]);
    for (const r of ground) {
      expect(r.loss_ground).toBeGreaterThan(0);
      expect(r.attn_share).toBeGreaterThan(0);
      expect(r.attn_share).toBeLessThan(1);
      if (r.attn_bind !== undefined) expect(Math.abs(r.attn_bind_any!)).toBeLessThan(1);
    }
    // --dit-colour-bind: each named object's colour in the DiT's clean-latent estimate, logged
    // with its distance in caption order.
    expect(trainIn("maskaux", "dit", "--steps", "70", ...opts, ...g, "--dit-colour-bind", "0.1")).toMatch(
      /colour binding: weight 0.1, each named object's preview colour in its best order, at sigma >= 0\n[\s\S]*dit: 70 steps/,
    );
    const coloured = readFileSync(join(dir, "dit.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; loss_colour?: number; colour_err?: number })
      .filter((r) => r.step > 60);
    expect(coloured.map((r) => r.step)).toEqual([70]);
    for (const r of coloured) {
      expect(r.loss_colour).toBeGreaterThan(0);
      expect(r.colour_err).toBeGreaterThanOrEqual(r.loss_colour!); // the best order costs no more than the caption's
    }
    // --dit-colour-bind-frames: the same term frame by frame; it needs the term itself.
    expect(trainFails("maskaux", "dit", "--steps", "80", ...opts, ...g, "--dit-colour-bind-frames")).toMatch(
      /--dit-colour-bind-frames changes how --dit-colour-bind measures; give --dit-colour-bind W > 0 too/,
    );
    expect(
      trainIn("maskaux", "dit", "--steps", "80", ...opts, ...g, "--dit-colour-bind", "0.1", "--dit-colour-bind-frames"),
    ).toMatch(
      /colour binding: weight 0.1, each named object's preview colour in its best order, frame by frame, at sigma >= 0\n[\s\S]*dit: 80 steps/,
    );
    const framed = readFileSync(join(dir, "dit.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; loss_colour?: number })
      .filter((r) => r.step > 70);
    expect(framed.map((r) => r.step)).toEqual([80]);
    expect(framed[0]?.loss_colour).toBeGreaterThan(0);
  });

  it("warm-starts a new run from the exported model and counts the steps its weights already had", () => {
    const tiny = ["--vae-dim", "4", "--crop", "16", "--batch", "1", "--no-bf16"];
    // --steps 0 imports the weights and trains nothing.
    expect(
      trainIn("run2", "vae", ...tiny, "--vae-init", join(model, "Wan2.1_VAE.safetensors"), "--steps", "0"),
    ).toMatch(/vae initialised from .* \(3 steps in all\)[\s\S]*vae: 0 steps/);
    expect(trainIn("run2", "vae", ...tiny, "--steps", "1")).toMatch(/resumed vae at step 0[\s\S]*vae: 1 steps/);
    expect(trainIn("run2", "latents", "--count", "4")).toMatch(/latents: 4 clips/);
    expect(trainIn("run2", "dit", "--dit-init", model, "--steps", "1", "--batch", "2", "--no-bf16")).toMatch(
      /dit initialised from .* \(3 steps in all; 6 blocks, FFN 768, patch 2x2\)[\s\S]*dit: 1 steps/,
    );
    expect(trainIn("run2", "export", "--out", model2)).toMatch(/exported/);
    const reel = JSON.parse(readFileSync(join(model2, "reel.json"), "utf8"));
    expect(reel.training).toMatchObject({ dit_steps: 1, dit_steps_total: 4, vae_steps: 1, vae_steps_total: 4 });
    // The probe: losses on object and background cells with the true, empty and another prompt.
    expect(trainIn("run2", "probe", "--model", model2, "--count", "3")).toMatch(/probe: 3 clips/);
    const probe = JSON.parse(readFileSync(join(tmp.dir, "run2", "probe.json"), "utf8"));
    expect(probe.rows).toHaveLength(5); // sigma 0.99, 0.95, 0.8, 0.5, 0.2
    for (const row of probe.rows)
      for (const k of ["true_obj", "empty_bg", "text_gain_obj"]) expect(Number.isFinite(row[k])).toBe(true);
    // Every swap reports how many clips it changed (binding: multi-object prompts of 2+ colours).
    for (const w of ["shape", "colour", "motion", "binding"])
      expect(Number.isInteger(probe.rows[0][`${w}_clips`])).toBe(true);
    // recon --from-sigma: held-out clips noised to sigma and finished by the model's DiT. From a
    // tiny sigma the DiT barely moves the latents, so the error is the VAE's own (run2's VAE is
    // the one model2 exported, in fp16).
    const err = (out: string) => Number(/mean \|rec - x\| = ([\d.]+)/.exec(out)?.[1]);
    const vaeOnly = err(trainIn("run2", "recon", "--count", "2"));
    const finish = (sigma: string) =>
      trainIn("run2", "recon", "--count", "2", "--model", model2, "--from-sigma", sigma, "--denoise-steps", "2");
    const near0 = finish("0.001");
    expect(near0).toMatch(/recon-dit-from-0.001/);
    expect(Math.abs(err(near0) - vaeOnly)).toBeLessThan(0.01);
    const half = finish("0.5");
    expect(err(half)).toBeGreaterThan(err(near0)); // an untrained DiT cannot finish a half-noised clip
    expect(existsSync(join(tmp.dir, "run2", "recon-dit-from-0.5", "captions.jsonl"))).toBe(true);
  });

  it("--vae-texture's gap: fine detail per patch like the truth's, wherever in the patch", () => {
    const code = [
      "import sys, torch",
      "sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')",
      "import train_toy as tt",
      "x = torch.full((1, 3, 2, 16, 16), -0.8)",
      "for y, c in [(2, 3), (5, 11), (12, 6), (13, 13)]: x[..., y, c] = 1.0  # a one-pixel star in each 8x8 patch",
      "moved = torch.full_like(x, -0.8)",
      "for y, c in [(3, 2), (6, 10), (11, 5), (12, 12)]: moved[..., y, c] = 1.0  # each a pixel off, same patch",
      "blur = torch.nn.functional.avg_pool3d(x, (1, 3, 3), stride=1, padding=(0, 1, 1), count_include_pad=False)",
      "flat = torch.full_like(x, float(x.mean()))",
      "r = lambda v: round(float(v), 4)",
      "print(r(tt.texture_gap(x, x)), r(tt.texture_gap(moved, x)), r((moved - x).abs().mean()))",
      "print(r(tt.texture_gap(blur, x)) > 0, r((blur - x).abs().mean()) < r((moved - x).abs().mean()))",
      "print(r(tt.texture_gap(flat, x)))",
    ];
    expect(python(code).split("\n")).toEqual([
      "0.0 0.0 0.0562", // the truth, and its stars moved a pixel: no gap, though every moved star costs per pixel
      "True True", // a blur costs less per pixel than the moved stars, but leaves a gap
      // No detail at all: per patch, luma energy 2 x 1.8 / 64 each way (a white star's colour
      // differences have none) and luma's peak 1 - (63 x -0.8 + 1) / 64; the mean of the 7 gaps.
      "0.2692",
    ]);
  });

  it("--decoder-only --vae-texture: the encoder stays as it was, the decoder learns, the texture gap is logged", () => {
    // The shipped VAE, not this file's 3-step one: an untrained encoder's log-variance (up to the
    // clamp, e^10 noise) overflows the decoder within a few steps, with or without the term.
    const small = ["--crop", "16", "--batch", "1", "--no-bf16"];
    const init = join(ROOT, "models/reel-toy/Wan2.1_VAE.safetensors");
    const out = trainIn(
      "dec",
      "vae",
      ...small,
      "--vae-init",
      init,
      "--decoder-only",
      "--vae-texture",
      "1",
      "--steps",
      "10",
    );
    expect(out).toMatch(/texture: weight 1, fine detail per 8x8 patch[\s\S]*vae: 10 steps/);
    const rows = readFileSync(join(tmp.dir, "dec", "vae.log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; tex?: number });
    expect(rows.map((r) => r.step)).toEqual([10]);
    expect(rows[0]?.tex).toBeGreaterThan(0);
    const changed = python([
      "import sys, torch; sys.path.insert(0, 'training')",
      "from train_toy import load_f32",
      `a = load_f32(${JSON.stringify(init)})`,
      `b = torch.load(${JSON.stringify(join(tmp.dir, "dec", "vae.pt"))})['model']`,
      "diff = lambda p: any(not torch.equal(b[k].float(), a[k].float()) for k in a if k.startswith(p))",
      "print(diff('encoder.'), diff('conv1.'), diff('decoder.'))",
    ]);
    expect(changed).toBe("False False True");
  });

  it("trains a low-noise expert and exports a two-expert model that reel, recon and probe run", () => {
    // The cut draws: the shifted distribution up to --dit-sigma-max or from --dit-sigma-min,
    // reaching the cut, and with the uncut distribution's shape inside it (the share above 0.9
    // of those above 0.75 is the shifted draw's: (1 - u(0.9)) / (1 - u(0.75)) = 0.5).
    const cut = python([
      "import sys, torch; sys.path.insert(0, 'training')",
      "from train_toy import shift_sigma, unshift_sigma, draw_sigma",
      "torch.manual_seed(0)",
      "s, h = draw_sigma(100000, 3.0, 0.0, 0.5), draw_sigma(100000, 3.0, 0.75)",
      "print(round(unshift_sigma(shift_sigma(0.3, 3.0), 3.0), 6), int(s.max() <= 0.5), int(s.max() > 0.499), int(s.min() >= 0),",
      "      int(h.min() >= 0.75), int(h.min() < 0.751), int(h.max() <= 1), round((h > 0.9).float().mean().item(), 2))",
    ]);
    expect(cut).toBe("0.3 1 1 1 1 1 1 0.5");
    const dir = join(tmp.dir, "expert");
    cpSync(join(tmp.dir, "run2"), dir, { recursive: true });
    rmSync(join(dir, "dit.pt"));
    const opts = ["--dit-init", model2, "--steps", "2", "--batch", "2", "--no-bf16", "--dit-sigma-max", "0.5"];
    expect(trainFails("expert", "dit", ...opts, "--dit-freeze-text", "--dit-text-aux", "0.1")).toMatch(
      /--dit-freeze-text with --dit-text-aux/,
    );
    expect(trainFails("expert", "dit", ...opts, "--dit-sigma-max", "1.5")).toMatch(
      /--dit-sigma-max 1.5: a noise level in \(0, 1\]/,
    );
    // An expert whose text encoder moved cannot join another model's.
    trainIn("expert", "dit", ...opts, "--lr", "0.01");
    expect(trainFails("expert", "export", "--out", join(tmp.dir, "moe-bad"), "--high-noise-model", model2)).toMatch(
      /text encoder differs/,
    );
    rmSync(join(dir, "dit.pt"));
    trainIn("expert", "dit", ...opts, "--dit-freeze-text");
    const moe = join(tmp.dir, "moe");
    expect(trainIn("expert", "export", "--out", moe, "--high-noise-model", model2, "--boundary", "0.6")).toMatch(
      /exported/,
    );
    const bytes = (...p: string[]) => readFileSync(join(...p));
    const DIT = "diffusion_pytorch_model.safetensors";
    const T5 = "models_t5_reel-toy-enc-fp16.safetensors";
    expect(existsSync(join(moe, DIT))).toBe(false);
    expect(bytes(moe, "high_noise_model", DIT).equals(bytes(model2, DIT))).toBe(true);
    expect(bytes(moe, "low_noise_model", DIT).equals(bytes(model2, DIT))).toBe(false);
    // The frozen encoder: the same tensors as the high-noise model's (the header's steps differ).
    const t5 = (p: string) => JSON.stringify([...readHeader(p).tensors.values()].map((t) => t.shape));
    expect(t5(join(moe, T5))).toBe(t5(join(model2, T5)));
    expect(
      python([
        "import sys; sys.path.insert(0, 'training')",
        "from train_toy import load_f32",
        `a, b = load_f32('${join(moe, T5)}'), load_f32('${join(model2, T5)}')`,
        "print(int(all(bool((a[k] == b[k]).all()) for k in b)))",
      ]),
    ).toBe("1");
    const reel = JSON.parse(readFileSync(join(moe, "reel.json"), "utf8"));
    expect(reel.experts).toMatchObject({
      boundary: 0.6,
      high_noise_model_training: { dit_steps: 1, dit_steps_total: 4 },
    });
    expect(reel.training).toMatchObject({ dit_steps: 2, dit_steps_total: 6 });
    expect(reel.training.dit_invocations.at(-1).recipe).toMatchObject({ sigma_max: 0.5, freeze_text: true });
    // A frozen-text checkpoint resumes only frozen (its optimiser holds the DiT's parameters alone).
    expect(trainFails("expert", "dit", "--steps", "3", "--batch", "2", "--no-bf16")).toMatch(
      /trained with --dit-freeze-text: resume it the same way/,
    );
    expect(trainIn("expert", "dit", "--steps", "3", "--batch", "2", "--no-bf16", "--dit-freeze-text")).toMatch(
      /resumed dit at step 2[\s\S]*dit: 3 steps/,
    );
    // Warm starts name an expert; each counts its own steps.
    rmSync(join(dir, "dit.pt"));
    expect(trainFails("expert", "dit", "--dit-init", moe, "--steps", "0")).toMatch(/has two DiTs: name one/);
    expect(trainIn("expert", "dit", "--dit-init", join(moe, "low_noise_model"), "--steps", "0")).toMatch(
      /\(6 steps in all/,
    );
    rmSync(join(dir, "dit.pt"));
    expect(trainIn("expert", "dit", "--dit-init", join(moe, "high_noise_model"), "--steps", "0")).toMatch(
      /\(4 steps in all/,
    );
    // The Python side runs the pair as reel does: recon from above the boundary, probe at every level.
    expect(
      trainIn("expert", "recon", "--count", "1", "--model", moe, "--from-sigma", "0.9", "--denoise-steps", "3"),
    ).toMatch(/recon-dit-from-0.9/);
    expect(trainIn("expert", "probe", "--model", moe, "--count", "2", "--no-bf16")).toMatch(/probe: 2 clips/);
    // Exporting one DiT into the folder again leaves no expert behind.
    const again = join(tmp.dir, "moe-again");
    cpSync(moe, again, { recursive: true });
    trainIn("expert", "export", "--out", again);
    expect(existsSync(join(again, "low_noise_model"))).toBe(false);
    expect(existsSync(join(again, DIT))).toBe(true);
    generateWith(moe, "moe.mp4");
    // The other way round: a high-noise expert, trained above --dit-sigma-min and exported with
    // another model's low-noise expert (here moe's).
    rmSync(join(dir, "dit.pt"));
    const high = ["--dit-init", model2, "--steps", "3", "--batch", "2", "--no-bf16", "--dit-freeze-text"];
    expect(trainFails("expert", "dit", ...high, "--dit-sigma-min", "0.6", "--dit-sigma-max", "0.5")).toMatch(
      /--dit-sigma-min 0.6: a noise level in \[0, --dit-sigma-max 0.5\)/,
    );
    trainIn("expert", "dit", ...high, "--dit-sigma-min", "0.75");
    const moe2 = join(tmp.dir, "moe2");
    expect(
      trainFails("expert", "export", "--out", moe2, "--high-noise-model", model2, "--low-noise-model", moe),
    ).toMatch(/--high-noise-model with --low-noise-model/);
    // Experts share one latent space: another VAE is refused.
    const otherVae = join(tmp.dir, "moe-other-vae");
    cpSync(moe, otherVae, { recursive: true });
    cpSync(join(model, "Wan2.1_VAE.safetensors"), join(otherVae, "Wan2.1_VAE.safetensors"));
    expect(trainFails("expert", "export", "--out", moe2, "--low-noise-model", otherVae)).toMatch(
      /VAE or latent statistics differ/,
    );
    expect(trainIn("expert", "export", "--out", moe2, "--low-noise-model", moe, "--boundary", "0.8")).toMatch(
      /exported/,
    );
    expect(bytes(moe2, "low_noise_model", DIT).equals(bytes(moe, "low_noise_model", DIT))).toBe(true);
    expect(bytes(moe2, "high_noise_model", DIT).equals(bytes(model2, DIT))).toBe(false);
    const reel2 = JSON.parse(readFileSync(join(moe2, "reel.json"), "utf8"));
    expect(reel2.experts.boundary).toBe(0.8);
    // `training` stays the low-noise expert's (moe's), `experts` holds this run's.
    expect(reel2.training).toMatchObject({ dit_steps: 2, dit_steps_total: 6 });
    expect(reel2.experts.high_noise_model_training).toMatchObject({ dit_steps: 3, dit_steps_total: 7 });
    expect(reel2.experts.high_noise_model_training.dit_invocations.at(-1).recipe).toMatchObject({
      sigma_min: 0.75,
      sigma_max: 1,
      freeze_text: true,
    });
    generateWith(moe2, "moe2.mp4");
  });

  it("grows a warm-started DiT to more blocks and a wider FFN without changing what it computes", () => {
    const tiny = ["--vae-dim", "4", "--crop", "16", "--batch", "1", "--no-bf16"];
    trainIn("run3", "vae", ...tiny, "--vae-init", join(model, "Wan2.1_VAE.safetensors"), "--steps", "0");
    trainIn("run3", "latents", "--count", "2");
    const grow = ["--dit-init", model, "--dit-layers", "9", "--dit-ffn", "1024", "--batch", "2", "--no-bf16"];
    expect(trainIn("run3", "dit", ...grow, "--steps", "0")).toMatch(
      /\(3 steps in all; 9 blocks, FFN 1024, patch 2x2\)[\s\S]*dit: 0 steps/,
    );
    const model3 = join(tmp.dir, "model3");
    trainIn("run3", "export", "--out", model3);
    expect(JSON.parse(readFileSync(join(model3, "config.json"), "utf8"))).toMatchObject({
      num_layers: 9,
      ffn_dim: 1024,
    });
    // The 6-block model and its growth (9 blocks, FFN 768 -> 1024) finish the same noised clips
    // identically.
    // (The widened FFN sums its zero outputs in another order: float rounding, ~1e-6.)
    const err = (m: string) =>
      Number(
        /mean \|rec - x\| = ([\d.]+)/.exec(
          trainIn("run3", "recon", "--count", "2", "--model", m, "--from-sigma", "0.5", "--denoise-steps", "2"),
        )?.[1],
      );
    expect(err(model3)).toBeCloseTo(err(model), 3);
    // A run keeps its depth: resuming with another --dit-layers is refused.
    const r = spawnSync(
      TORCH_PY,
      [join(ROOT, "training/train_toy.py"), "dit", "--run", join(tmp.dir, "run3"), "--dit-layers", "7", "--steps", "1"],
      { cwd: ROOT, encoding: "utf8", timeout: 300_000 },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--dit-layers 9, not 7/);
    generateWith(model3, "grown.mp4"); // reel itself loads and samples the grown model
  });

  it("trains a DiT of another width from scratch; a warm start cannot change the width", () => {
    // run4 reuses run3's VAE and latents.
    const run4 = join(tmp.dir, "run4");
    mkdirSync(run4);
    for (const f of [
      "vae.pt",
      "vae_config.json",
      "latents.npy",
      "latents.json",
      "latent_stats.json",
      "latent_masks.npy",
    ])
      copyFileSync(join(tmp.dir, "run3", f), join(run4, f));
    const narrow = ["--dit-dim", "128", "--dit-layers", "2", "--batch", "2", "--no-bf16"];
    expect(trainIn("run4", "dit", ...narrow, "--steps", "1")).toMatch(/dit: 1 steps/);
    const model4 = join(tmp.dir, "model4");
    trainIn("run4", "export", "--out", model4);
    expect(JSON.parse(readFileSync(join(model4, "config.json"), "utf8"))).toMatchObject({
      dim: 128,
      ffn_dim: 512,
      num_heads: 2,
      num_layers: 2,
    });
    generateWith(model4, "narrow.mp4");
    const r = spawnSync(
      TORCH_PY,
      [
        join(ROOT, "training/train_toy.py"),
        "dit",
        "--run",
        join(tmp.dir, "run5"),
        "--dit-init",
        model,
        "--dit-dim",
        "128",
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 300_000 },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/has width 192, this run's 128/);
  });

  it("carries an 8x VAE into a 4x one and a patch-2 DiT into patch 4, and reel generates with the result", () => {
    const tiny = ["--vae-dim", "4", "--crop", "16", "--batch", "1", "--no-bf16"];
    const vaeInit = ["--vae-init", join(model, "Wan2.1_VAE.safetensors"), "--vae-down", "4"];
    const carry = /8x -> 4x: (\d+) tensors carried, (\d+) fresh[\s\S]*vae: 1 steps/.exec(
      trainIn("run6", "vae", ...tiny, ...vaeInit, "--steps", "1"),
    );
    // All but the first decoder block's norm and first conv (it now takes twice the width) and the two
    // resamples that became temporal (their time_conv weight and bias).
    expect(carry?.slice(1, 3)).toEqual(["116", "6"]);
    expect(JSON.parse(readFileSync(join(tmp.dir, "run6", "vae_config.json"), "utf8"))).toMatchObject({
      dim_mult: [1, 2, 4],
      temperal_downsample: [true, true],
    });
    trainIn("run6", "latents", "--count", "2");
    const lat = readFileSync(join(tmp.dir, "run6", "latents.npy"))
      .subarray(0, 200)
      .toString("latin1");
    expect(lat).toMatch(/'shape': \(2, 16, 5, 32, 32\)/);
    const masks = readFileSync(join(tmp.dir, "run6", "latent_masks.npy"))
      .subarray(0, 200)
      .toString("latin1");
    expect(masks).toMatch(/'shape': \(2, 5, 32, 32\)/);
    const patch4 = ["--dit-init", model, "--dit-patch", "4", "--batch", "2", "--no-bf16"];
    expect(trainIn("run6", "dit", ...patch4, "--steps", "1")).toMatch(
      /patch 4x4 \(fresh patch_embedding, head\)[\s\S]*dit: 1 steps/,
    );
    const model6 = join(tmp.dir, "model6");
    trainIn("run6", "export", "--out", model6);
    expect(JSON.parse(readFileSync(join(model6, "config.json"), "utf8"))).toMatchObject({ patch_size: [1, 4, 4] });
    const reel = JSON.parse(readFileSync(join(model6, "reel.json"), "utf8"));
    expect(reel.vae.dim_mult).toEqual([1, 2, 4]);
    expect(reel.preview.weight).toHaveLength(3);
    generateWith(model6, "patch4.mp4");
  });
});
