import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { loadAll, readHeader, readTensor, writeSafetensors } from "./safetensors.ts";
import { f32ToBf16, f32ToF16 } from "./tensor.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

function rawFile(name: string, header: unknown, dataBytes = 0, headerLenOverride?: bigint): string {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLenOverride ?? BigInt(json.length));
  const p = join(tmp.dir, name);
  writeFileSync(p, Buffer.concat([len, json, Buffer.alloc(dataBytes)]));
  return p;
}

describe("safetensors", () => {
  it("round-trips F32, F16, BF16 and I64 with metadata", () => {
    const p = join(tmp.dir, "rt.safetensors");
    const a = new Float32Array([1.5, -2.25, 3, 0.1]);
    writeSafetensors(
      p,
      {
        a: { dtype: "float32", dims: [2, 2], data: a },
        h: { dtype: "float16", dims: [4], data: f32ToF16(a) },
        b: { dtype: "bfloat16", dims: [4], data: f32ToBf16(a) },
        i: { dtype: "int64", dims: [2], data: new BigInt64Array([7n, -1n]) },
      },
      { config: '{"x":1}' },
    );
    const { header, tensors } = loadAll(p);
    expect(header.metadata.config).toBe('{"x":1}');
    expect((header.dataStart - 8) % 8).toBe(0);
    expect([...(tensors.get("a")!.data as Float32Array)]).toEqual([...a]);
    expect(tensors.get("a")!.dims).toEqual([2, 2]);
    // F16/BF16 widen to float32 on read; 0.1 is not exact in either.
    const h = tensors.get("h")!.data as Float32Array;
    const b = tensors.get("b")!.data as Float32Array;
    expect([h[0], h[1], h[2]]).toEqual([1.5, -2.25, 3]);
    expect(Math.abs(h[3]! - 0.1)).toBeLessThan(1e-4);
    expect([b[0], b[1], b[2]]).toEqual([1.5, -2.25, 3]);
    expect(Math.abs(b[3]! - 0.1)).toBeLessThan(1e-3);
    expect([...(tensors.get("i")!.data as BigInt64Array)]).toEqual([7n, -1n]);
  });

  const hostile: [string, () => string, RegExp][] = [
    [
      "a file shorter than 8 bytes",
      () => {
        writeFileSync(join(tmp.dir, "short"), Buffer.alloc(3));
        return join(tmp.dir, "short");
      },
      /shorter than the 8-byte/,
    ],
    ["a header length past the end", () => rawFile("trunc", { a: 1 }, 0, 1000n), /runs past the end/],
    ["a huge header length", () => rawFile("huge", {}, 0, 1n << 62n), /exceeds the/],
    ["invalid JSON", () => rawFile("json", "{not json"), /not valid UTF-8 JSON/],
    ["a JSON array", () => rawFile("arr", "[1,2]"), /not a JSON object/],
    [
      "an unknown dtype",
      () => rawFile("dt", { w: { dtype: "F8", shape: [1], data_offsets: [0, 1] } }, 1),
      /tensor "w".*dtype "F8"/,
    ],
    [
      "a negative shape",
      () => rawFile("neg", { w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4),
      /tensor "w".*shape/,
    ],
    [
      "offsets past the data",
      () => rawFile("oob", { w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8),
      /tensor "w".*past the data section/,
    ],
    [
      "a byte length that does not match the shape",
      () => rawFile("len", { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8),
      /tensor "w".*does not match shape/,
    ],
    [
      "overlapping tensors",
      () =>
        rawFile(
          "ovl",
          {
            a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
            b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
          },
          12,
        ),
      /overlaps tensor/,
    ],
    [
      "begin after end",
      () => rawFile("rev", { w: { dtype: "F32", shape: [0], data_offsets: [8, 4] } }, 8),
      /begin 8 > end 4/,
    ],
    ["non-string metadata", () => rawFile("meta", { __metadata__: { a: 1 } }), /__metadata__ value/],
  ];
  for (const [what, make, msg] of hostile) {
    it(`rejects ${what} with E_SAFETENSORS_INVALID naming the file`, () => {
      const p = make();
      let err: unknown;
      try {
        readHeader(p);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: "E_SAFETENSORS_INVALID" });
      expect((err as Error).message).toContain(p);
      expect((err as Error).message).toMatch(msg);
    });
  }

  it("reads one tensor without loading the others", () => {
    const p = join(tmp.dir, "two.safetensors");
    writeSafetensors(p, {
      x: { dtype: "float32", dims: [2], data: new Float32Array([1, 2]) },
      y: { dtype: "float32", dims: [1], data: new Float32Array([3]) },
    });
    const h = readHeader(p);
    expect([...(readTensor(h, "y").data as Float32Array)]).toEqual([3]);
    expect(() => readTensor(h, "z")).toThrow(/no such tensor/);
  });

  it("refuses to write data that does not match its dims", () => {
    expect(() =>
      writeSafetensors(join(tmp.dir, "bad.safetensors"), {
        x: { dtype: "float32", dims: [3], data: new Float32Array(2) },
      }),
    ).toThrow(/need 12/);
  });
});
