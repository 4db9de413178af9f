/**
 * The restricted .pth reader: real files from torch.save (Debian's torch at /usr/bin/python3),
 * compared byte-for-byte with what torch wrote to a safetensors file, bound through
 * weightMapFromFiles + compile; and hand-built hostile or malformed files, all refused with
 * E_CHECKPOINT_INVALID naming the file.
 */
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { crc32 as zlibCrc32, deflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { isReelError } from "../errors.ts";
import { compile } from "./compile.ts";
import { Graph, Scope } from "./graph.ts";
import { linearRaw } from "./ops/index.ts";
import { readPthHeader } from "./pth.ts";
import { ortRuntime } from "./runtime-ort.ts";
import { loadAll, readHeader, readTensor, readTensorRaw } from "./safetensors.ts";
import { f32 } from "./tensor.ts";
import { weightMapFromFiles } from "./weights.ts";

const tmp = tempDir("reel-pth-");
afterAll(tmp.cleanup);

// ---------------------------------------------------------------------------------------
// Hand-built zips and pickles (no torch needed)
// ---------------------------------------------------------------------------------------

interface ZipItem {
  readonly name: string;
  readonly data: Uint8Array;
  /** 8 = deflate the data. */
  readonly method?: 0 | 8;
  /** Instead of `data`: this many bytes left as a hole (a sparse file; CRC 0, never read). */
  readonly hole?: number;
}

interface Chunk {
  readonly at: number;
  readonly bytes: Buffer;
}

/** A zip laid out like torch's writer (data 64-byte aligned), optionally with every ZIP64 record. */
function zipChunks(items: readonly ZipItem[], zip64 = false): Chunk[] {
  const parts: Chunk[] = [];
  const central: Buffer[] = [];
  let pos = 0;
  const push = (b: Buffer) => {
    parts.push({ at: pos, bytes: b });
    pos += b.length;
  };
  for (const it of items) {
    const name = Buffer.from(it.name);
    const body = it.method === 8 ? deflateRawSync(it.data) : Buffer.from(it.data);
    const crc = it.hole === undefined ? zlibCrc32(it.data) : 0;
    const size = it.hole ?? it.data.length;
    const z64 = Buffer.alloc(zip64 ? 20 : 0);
    if (zip64) {
      z64.writeUInt16LE(1, 0);
      z64.writeUInt16LE(16, 2);
      z64.writeBigUInt64LE(BigInt(size), 4);
      z64.writeBigUInt64LE(BigInt(it.hole ?? body.length), 12);
    }
    const unpadded = pos + 30 + name.length + z64.length + 4;
    const pad = Buffer.alloc(4 + ((64 - (unpadded % 64)) % 64), 0x5a);
    pad.writeUInt16LE(0x4246, 0); // "FB", torch's padding field
    pad.writeUInt16LE(pad.length - 4, 2);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(it.method ?? 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? 0xffffffff : body.length, 18);
    local.writeUInt32LE(zip64 ? 0xffffffff : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(z64.length + pad.length, 28);
    const lho = pos;
    push(Buffer.concat([local, name, z64, pad]));
    if (it.hole === undefined) push(body);
    else pos += it.hole;
    const cz64 = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      cz64.writeUInt16LE(1, 0);
      cz64.writeUInt16LE(24, 2);
      cz64.writeBigUInt64LE(BigInt(size), 4);
      cz64.writeBigUInt64LE(BigInt(it.hole ?? body.length), 12);
      cz64.writeBigUInt64LE(BigInt(lho), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(zip64 ? 45 : 20, 6);
    c.writeUInt16LE(it.method ?? 0, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(zip64 ? 0xffffffff : body.length, 20);
    c.writeUInt32LE(zip64 ? 0xffffffff : size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(cz64.length, 30);
    c.writeUInt32LE(zip64 ? 0xffffffff : lho, 42);
    central.push(Buffer.concat([c, name, cz64]));
  }
  const cdOffset = pos;
  const cd = Buffer.concat(central);
  push(cd);
  if (zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(items.length), 24);
    rec.writeBigUInt64LE(BigInt(items.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(pos), 8);
    loc.writeUInt32LE(1, 16);
    push(Buffer.concat([rec, loc]));
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(zip64 ? 0xffff : items.length, 8);
  eocd.writeUInt16LE(zip64 ? 0xffff : items.length, 10);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : cdOffset, 16);
  push(eocd);
  return parts;
}

function buildZip(items: readonly ZipItem[], zip64 = false): Buffer {
  return Buffer.concat(zipChunks(items, zip64).map((c) => c.bytes));
}

/** Writes the zip chunk by chunk, so holes stay sparse on disk. */
function writeZip(path: string, items: readonly ZipItem[]): void {
  const fd = openSync(path, "w");
  try {
    for (const c of zipChunks(items, true)) writeSync(fd, c.bytes, 0, c.bytes.length, c.at);
  } finally {
    closeSync(fd);
  }
}

/** Pickle protocol 2 opcodes, for writing test pickles by hand. */
const op = {
  proto: Buffer.from([0x80, 2]),
  str: (s: string) => {
    const b = Buffer.from(s);
    const n = Buffer.alloc(5);
    n[0] = 0x58; // BINUNICODE
    n.writeUInt32LE(b.length, 1);
    return Buffer.concat([n, b]);
  },
  int: (v: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x4a; // BININT
    b.writeInt32LE(v, 1);
    return b;
  },
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, "latin1"),
  mark: Buffer.from("("),
  tuple: Buffer.from("t"),
  emptyTuple: Buffer.from(")"),
  emptyDict: Buffer.from("}"),
  setitems: Buffer.from("u"),
  reduce: Buffer.from("R"),
  binpersid: Buffer.from("Q"),
  newfalse: Buffer.from([0x89]),
  stop: Buffer.from("."),
};
const ints = (xs: readonly number[]) => Buffer.concat([op.mark, ...xs.map(op.int), op.tuple]);

interface FakeTensor {
  readonly name: string;
  readonly storageType?: string;
  readonly key: string;
  readonly numel: number;
  readonly offset?: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

/** A state-dict pickle exactly as torch.save lays it out (without the memo). */
function stateDictPickle(tensors: readonly FakeTensor[]): Buffer {
  const body = tensors.map((t) =>
    Buffer.concat([
      op.str(t.name),
      op.global("torch._utils", "_rebuild_tensor_v2"),
      op.mark,
      op.mark,
      op.str("storage"),
      op.global("torch", t.storageType ?? "FloatStorage"),
      op.str(t.key),
      op.str("cpu"),
      op.int(t.numel),
      op.tuple,
      op.binpersid,
      op.int(t.offset ?? 0),
      ints(t.size),
      ints(t.stride),
      op.newfalse,
      op.global("collections", "OrderedDict"),
      op.emptyTuple,
      op.reduce,
      op.tuple,
      op.reduce,
    ]),
  );
  return Buffer.concat([op.proto, op.emptyDict, op.mark, ...body, op.setitems, op.stop]);
}

function f32Bytes(xs: readonly number[]): Uint8Array {
  return new Uint8Array(new Float32Array(xs).buffer);
}

function writeFile(name: string, bytes: Uint8Array): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** A small valid checkpoint: w = [[1, 2], [3, 4]] in storage "0". */
function validItems(pickle?: Buffer): ZipItem[] {
  return [
    {
      name: "archive/data.pkl",
      data: pickle ?? stateDictPickle([{ name: "w", key: "0", numel: 4, size: [2, 2], stride: [2, 1] }]),
    },
    { name: "archive/data/0", data: f32Bytes([1, 2, 3, 4]) },
    { name: "archive/version", data: Buffer.from("3\n") },
  ];
}

function refusal(path: string): { code: string; message: string } {
  try {
    readPthHeader(path);
  } catch (e) {
    if (!isReelError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error(`${path} was accepted`);
}

describe("pth reader on hand-built files", () => {
  it("reads a ZIP64 archive and resolves two tensors sharing one storage", () => {
    const pickle = stateDictPickle([
      { name: "w", key: "0", numel: 6, size: [2, 2], stride: [2, 1] },
      { name: "tail", key: "0", numel: 6, offset: 4, size: [2], stride: [1] },
    ]);
    const path = writeFile(
      "z64.pth",
      buildZip(
        [
          { name: "archive/data.pkl", data: pickle },
          { name: "archive/data/0", data: f32Bytes([1, 2, 3, 4, 5, 6]) },
        ],
        true,
      ),
    );
    const h = readPthHeader(path);
    expect(h.tensors.get("w")!.offset % 64).toBe(0);
    expect(h.tensors.get("tail")!.offset).toBe(h.tensors.get("w")!.offset + 16);
    expect([...(readTensor(h, "w").data as Float32Array)]).toEqual([1, 2, 3, 4]);
    expect([...(readTensor(h, "tail").data as Float32Array)]).toEqual([5, 6]);
  });

  it("reads ZIP64 offsets past 4 GiB (a sparse 5 GiB storage before the tensor)", () => {
    const big = 5 * 2 ** 30;
    const path = join(tmp.dir, "big.pth");
    writeZip(path, [
      {
        name: "archive/data.pkl",
        data: stateDictPickle([
          { name: "huge", key: "0", numel: big / 4, size: [big / 4], stride: [1] },
          { name: "small", key: "1", numel: 3, size: [3], stride: [1] },
        ]),
      },
      { name: "archive/data/0", data: new Uint8Array(0), hole: big },
      { name: "archive/data/1", data: f32Bytes([7, 8, 9]) },
    ]);
    const h = readPthHeader(path);
    expect(h.fileSize).toBeGreaterThan(big);
    expect(h.tensors.get("huge")!.byteLength).toBe(big);
    expect(h.tensors.get("small")!.offset).toBeGreaterThan(big);
    expect([...(readTensor(h, "small").data as Float32Array)]).toEqual([7, 8, 9]);
  });

  const hostile: [string, () => Uint8Array, RegExp][] = [
    [
      "a pickle calling os.system",
      // PROTO 2; GLOBAL 'os system'; BINUNICODE 'echo pwned'; TUPLE1; REDUCE; STOP
      () =>
        buildZip([
          {
            name: "archive/data.pkl",
            data: Buffer.from("\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R.", "latin1"),
          },
        ]),
      /global os\.system is not allowed/,
    ],
    [
      "builtins.eval through STACK_GLOBAL",
      () =>
        buildZip([
          {
            name: "archive/data.pkl",
            data: Buffer.from("\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.", "latin1"),
          },
        ]),
      /global builtins\.eval is not allowed/,
    ],
    [
      "an object built with NEWOBJ",
      () => buildZip(validItems(Buffer.from("\x80\x02ccollections\nOrderedDict\n)\x81.", "latin1"))),
      /opcode NEWOBJ is not allowed/,
    ],
    [
      "a storage type off the allowlist",
      () =>
        buildZip(
          validItems(
            stateDictPickle([{ name: "w", storageType: "ShortStorage", key: "0", numel: 8, size: [8], stride: [1] }]),
          ),
        ),
      /global torch\.ShortStorage is not allowed/,
    ],
    ["a truncated zip", () => buildZip(validItems()).subarray(0, 150), /no zip end-of-central-directory record/],
    [
      "a compressed entry",
      () => {
        const items = validItems();
        return buildZip([{ ...items[0]!, method: 8 }, ...items.slice(1)]);
      },
      /"archive\/data\.pkl" is compressed \(method 8\)/,
    ],
    [
      "a storage offset out of range",
      () =>
        buildZip(
          validItems(stateDictPickle([{ name: "w", key: "0", numel: 4, offset: 3, size: [2, 2], stride: [2, 1] }])),
        ),
      /tensor "w" needs elements \[3, 7\) of storage "0", which holds 4/,
    ],
    [
      "a storage key with no entry",
      () => buildZip(validItems(stateDictPickle([{ name: "w", key: "7", numel: 4, size: [4], stride: [1] }]))),
      /storage "7" has no zip entry archive\/data\/7/,
    ],
    [
      "a storage whose entry is shorter than its numel",
      () => buildZip(validItems(stateDictPickle([{ name: "w", key: "0", numel: 8, size: [8], stride: [1] }]))),
      /storage "0" is 16 bytes, but 8 x float32 needs 32/,
    ],
    [
      "a non-contiguous tensor",
      () => buildZip(validItems(stateDictPickle([{ name: "w", key: "0", numel: 4, size: [2, 2], stride: [1, 2] }]))),
      /tensor "w" is not contiguous \(shape \[2, 2\], strides \[1, 2\]\)/,
    ],
    [
      "a dict that contains itself",
      // PROTO 2; EMPTY_DICT; BINPUT 0; MARK; 'a'; BINGET 0; SETITEMS; STOP
      () =>
        buildZip(validItems(Buffer.concat([op.proto, Buffer.from("}q\x00("), op.str("a"), Buffer.from("h\x00u.")]))),
      /the object at "a" contains itself/,
    ],
    [
      "a corrupted pickle (CRC mismatch)",
      () => {
        const z = buildZip(validItems());
        z[64 + 10] = z[64 + 10]! ^ 0xff;
        return z;
      },
      /fails its CRC-32 check/,
    ],
    ["the legacy (pre-1.6) format", () => Buffer.from("\x80\x02\x8a\x0a", "latin1"), /legacy \(pre-1\.6\)/],
  ];
  for (const [what, make, pattern] of hostile) {
    it(`refuses ${what}`, () => {
      const path = writeFile(`bad-${what.replace(/\W+/g, "-")}.pth`, make());
      const e = refusal(path);
      expect(e.code).toBe("E_CHECKPOINT_INVALID");
      expect(e.message).toContain(path);
      expect(e.message).toMatch(pattern);
    });
  }
});

// ---------------------------------------------------------------------------------------
// Real files from torch.save
// ---------------------------------------------------------------------------------------

const TORCH_PYTHON = "/usr/bin/python3";
const REFERENCE = resolve(import.meta.dirname, "../../reference");

function torchMissing(): string | null {
  try {
    execFileSync(TORCH_PYTHON, ["-c", "import torch"], { stdio: "pipe" });
    return null;
  } catch {
    if (process.env.CI === "true") throw new Error(`${TORCH_PYTHON} cannot import torch (CI=true: torch is required)`);
    return `SKIPPED: ${TORCH_PYTHON} cannot import torch (apt install python3-torch)`;
  }
}

/** Writes the .pth files and, for each, what torch holds as a safetensors file (reference/safetensors_io.py). */
const MAKE = `
import collections, sys, torch
sys.path.insert(0, sys.argv[2])
import safetensors_io as st
out = sys.argv[1]
torch.manual_seed(0)
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
sd = collections.OrderedDict()
sd["f32"] = torch.randn(3, 4)
sd["f16"] = torch.randn(5).half()
sd["bf16"] = torch.randn(2, 3).to(torch.bfloat16)
sd["i64"] = torch.tensor([1, -2, 2**40], dtype=torch.int64)
sd["flags"] = torch.tensor([True, False, True])
sd["base"] = base
sd["row1"] = base[1]
sd["rows23"] = base[2:4]
sd["param"] = torch.nn.Parameter(torch.randn(2, 2))
sd["scalar"] = torch.tensor(3.5)
sd["empty"] = torch.zeros(0, 3)
torch.save(sd, f"{out}/sd.pth")
torch.save({"state_dict": sd, "epoch": 3, "note": "hi"}, f"{out}/nested.pt")
st.save(f"{out}/sd.safetensors", {k: v.detach() for k, v in sd.items()})
torch.save({"w": torch.randn(3, 4).t()}, f"{out}/transposed.pth")
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(5, 6)
x = torch.randn(3, 5)
for dtype, name in ((torch.float32, "f32"), (torch.bfloat16, "bf16")):
    m = M().to(dtype)
    torch.save({"model": m.state_dict(), "step": 10}, f"{out}/lin-{name}.pth")
    w, b = m.fc.weight.double(), m.fc.bias.double()
    st.save(f"{out}/lin-{name}.safetensors", {"x": x, "y": (x.double() @ w.t() + b).float()})
`;

const skip = torchMissing();

describe.skipIf(skip !== null)(skip ?? "pth reader on files from torch.save", () => {
  beforeAll(() => {
    writeFileSync(join(tmp.dir, "make.py"), MAKE);
    execFileSync(TORCH_PYTHON, [join(tmp.dir, "make.py"), tmp.dir, REFERENCE], { stdio: "pipe" });
  }, 120_000);

  for (const [file, prefix] of [
    ["sd.pth", ""],
    ["nested.pt", "state_dict."],
  ] as const) {
    it(`${file}: every tensor matches what torch saved, byte for byte`, () => {
      const h = readPthHeader(join(tmp.dir, file));
      const want = readHeader(join(tmp.dir, "sd.safetensors"));
      expect([...h.tensors.keys()].sort()).toEqual([...want.tensors.keys()].map((k) => prefix + k).sort());
      for (const name of want.tensors.keys()) {
        const got = readTensorRaw(h, prefix + name);
        const exp = readTensorRaw(want, name);
        expect([name, got.dtype, got.dims]).toEqual([name, exp.dtype, exp.dims]);
        expect(Buffer.from(got.data.buffer).equals(Buffer.from(exp.data.buffer)), name).toBe(true);
      }
      // The views share the storage of "base" (row 1 starts 6 floats in, rows 2-3 12 floats in).
      const base = h.tensors.get(`${prefix}base`)!.offset;
      expect(h.tensors.get(`${prefix}row1`)!.offset).toBe(base + 6 * 4);
      expect(h.tensors.get(`${prefix}rows23`)!.offset).toBe(base + 12 * 4);
      if (prefix) expect(h.metadata).toEqual({ epoch: "3", note: '"hi"' });
    });
  }

  it("refuses a non-contiguous tensor, naming it", () => {
    const path = join(tmp.dir, "transposed.pth");
    const e = refusal(path);
    expect(e.code).toBe("E_CHECKPOINT_INVALID");
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/tensor "w" is not contiguous \(shape \[4, 3\], strides \[1, 4\]\)/);
  });

  for (const dtype of ["f32", "bf16"] as const) {
    it(`binds a ${dtype} nn.Linear from a .pth through weightMapFromFiles + compile`, async () => {
      const weights = weightMapFromFiles([join(tmp.dir, `lin-${dtype}.pth`)], (k) =>
        k.startsWith("model.") ? k.slice("model.".length) : null,
      );
      expect([...weights.keys()].sort()).toEqual(["fc.bias", "fc.weight"]);
      const g = new Graph(`pth-lin-${dtype}`);
      const fc = new Scope(g, "fc");
      g.output(linearRaw(g, g.input("x", "float32", [3, 5]), fc.param("weight", [6, 5]), fc.param("bias", [6])), "y");
      const s = await compile(g, weights, {
        runtime: ortRuntime,
        device: "cpu",
        threads: 1,
        cacheDir: join(tmp.dir, `cache-${dtype}`),
      });
      const io = loadAll(join(tmp.dir, `lin-${dtype}.safetensors`)).tensors;
      const y = (await s.run({ x: f32([3, 5], io.get("x")!.data as Float32Array) })).y!.data as Float32Array;
      const want = io.get("y")!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(y[i]! - want[i]!));
      expect(worst).toBeLessThan(1e-5);
    });
  }
});

describe("pth test helpers", () => {
  it("buildZip writes archives Python's zipfile reads (classic and ZIP64)", (ctx) => {
    const items = validItems();
    for (const zip64 of [false, true]) {
      const path = writeFile(`py-${zip64}.zip`, buildZip(items, zip64));
      let listing: string;
      try {
        listing = execFileSync(
          TORCH_PYTHON,
          [
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.testzip(); print(','.join(f'{i.filename}:{i.file_size}' for i in z.infolist()))",
            path,
          ],
          { encoding: "utf8" },
        ).trim();
      } catch (e) {
        if (process.env.CI === "true") throw e;
        ctx.skip(`SKIPPED: ${TORCH_PYTHON} is not available`);
        return;
      }
      expect(listing).toBe(items.map((i) => `${i.name}:${i.data.length}`).join(","));
      expect(readFileSync(path).subarray(0, 4).toString("latin1")).toBe("PK\x03\x04");
    }
  });
});
