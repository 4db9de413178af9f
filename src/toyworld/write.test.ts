import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { findFfmpeg } from "../media/ffmpeg.ts";
import { parseNpyHeader } from "./npy.ts";
import { evaluateFolder, readSampleFolder } from "./read.ts";
import { sampleScene } from "./sample.ts";
import { type SampleRecord, writeSamples } from "./write.ts";

function hasFfmpeg(): boolean {
  try {
    findFfmpeg();
    return true;
  } catch {
    return false;
  }
}

describe("writing and reading sample folders", () => {
  it("writes PNG frames and captions.jsonl that read back losslessly and evaluate", async () => {
    const { dir, cleanup } = tempDir("reel-toyworld-");
    try {
      const r = await writeSamples({ seed: 11, count: 3, out: dir, width: 64, height: 64, frames: 9, format: "png" });
      expect(r.count).toBe(3);
      const records = readFileSync(join(dir, "captions.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as SampleRecord);
      expect(records.map((x) => x.file)).toEqual(["000000", "000001", "000002"]);
      const items = await readSampleFolder(dir);
      for (const [i, rec] of records.entries()) {
        const s = sampleScene(rec.seed, { width: 64, height: 64, frames: 9 });
        expect(rec.caption).toBe(s.caption.text);
        expect(items[i]!.frames.length).toBe(9);
        for (let t = 0; t < 9; t++)
          expect(Buffer.from(items[i]!.frames[t]!.data).equals(Buffer.from(s.frames[t]!.data))).toBe(true);
      }
      const report = await evaluateFolder(dir);
      expect(report.count).toBe(3);
      expect(report.attributes.colour.accuracy).toBe(1);
    } finally {
      cleanup();
    }
  });

  it("writes one memory-mappable .npy with every clip", async () => {
    const { dir, cleanup } = tempDir("reel-toyworld-");
    try {
      await writeSamples({ seed: 13, count: 3, out: dir, width: 32, height: 24, frames: 5, format: "npy" });
      const bytes = new Uint8Array(readFileSync(join(dir, "clips.npy")));
      const { offset, shape } = parseNpyHeader(bytes, "clips.npy");
      expect(shape).toEqual([3, 5, 24, 32, 3]);
      expect(offset % 64).toBe(0);
      expect(bytes.length).toBe(offset + 3 * 5 * 24 * 32 * 3);
      const items = await readSampleFolder(dir);
      const recs = readFileSync(join(dir, "captions.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as SampleRecord);
      expect(recs.map((r) => [r.file, r.index])).toEqual([
        ["clips.npy", 0],
        ["clips.npy", 1],
        ["clips.npy", 2],
      ]);
      const s = sampleScene(recs[2]!.seed, { width: 32, height: 24, frames: 5 });
      for (let t = 0; t < 5; t++)
        expect(Buffer.from(items[2]!.frames[t]!.data).equals(Buffer.from(s.frames[t]!.data))).toBe(true);
    } finally {
      cleanup();
    }
  });

  it.skipIf(!hasFfmpeg())("writes MP4s that evaluate like the renders", async () => {
    const { dir, cleanup } = tempDir("reel-toyworld-");
    try {
      await writeSamples({ seed: 12, count: 2, out: dir, format: "mp4" });
      const report = await evaluateFolder(dir);
      expect(report.count).toBe(2);
      expect(report.overall).toBeGreaterThan(0.9);
    } finally {
      cleanup();
    }
  });

  it("rejects bad options with clear errors", async () => {
    await expect(writeSamples({ seed: 1, count: 0, out: "/tmp/x" })).rejects.toThrow(/count must be an integer/);
    await expect(writeSamples({ seed: 1, count: 1, out: "/tmp/x", format: "gif" as unknown as "png" })).rejects.toThrow(
      /format must be "mp4", "png" or "npy"/,
    );
    await expect(readSampleFolder("/nonexistent-reel-dir")).rejects.toThrow(/captions.jsonl/);
  });
});
