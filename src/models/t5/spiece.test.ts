import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tinySpieceModel } from "../../../test/helpers/tiny-layouts.ts";
import { TINY_WORDS, tinyTokenizerJson } from "../../../test/helpers/tiny-model.ts";
import { tempDir } from "../../../test/helpers/tmp.ts";
import { PIECE_TYPE, parseSentencePieceModel, sentencePieceToTokenizerJson } from "./spiece.ts";
import { UmT5Tokenizer } from "./tokenizer.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

describe("spiece.model (SentencePiece ModelProto) tokenizer", () => {
  it("parses pieces, scores, types and the normaliser spec", () => {
    const m = parseSentencePieceModel(tinySpieceModel({ charsmap: true }));
    expect(m.pieces.slice(0, 4)).toEqual([
      { piece: "<pad>", score: 0, type: PIECE_TYPE.CONTROL },
      { piece: "</s>", score: 0, type: PIECE_TYPE.CONTROL },
      { piece: "<unk>", score: 0, type: PIECE_TYPE.UNKNOWN },
      { piece: "▁", score: -4, type: PIECE_TYPE.NORMAL },
    ]);
    expect(m.pieces).toHaveLength(4 + TINY_WORDS.length + 28);
    expect(m).toMatchObject({ modelType: 1, unkId: 2, addDummyPrefix: true, removeExtraWhitespaces: true });
    expect(m.precompiledCharsmap.length).toBe(8);
  });

  it("gives the same ids as the equivalent tokenizer.json, from a folder holding only spiece.model", () => {
    const dir = join(tmp.dir, "google", "umt5-xxl");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "spiece.model"), tinySpieceModel());
    const fromSpiece = UmT5Tokenizer.fromFolder(dir);
    const fromJson = new UmT5Tokenizer(tinyTokenizerJson() as ConstructorParameters<typeof UmT5Tokenizer>[0]);
    for (const p of [
      "a red ball moves left over the grass",
      "  the   blue square, up... ",
      "greenish skyward xyz", // pieces and unknown characters
      "A RED BALL", // no lower-casing in umT5
    ])
      expect(fromSpiece.ids(p, 64), p).toEqual(fromJson.ids(p, 64));
    expect(fromSpiece.eosId).toBe(1);
    expect(fromSpiece.padId).toBe(0);
    expect(fromSpiece.decode(fromSpiece.ids("a red ball", 16))).toBe("a red ball");
  });

  it("applies the precompiled (NFKC-style) normaliser when the model has a charsmap, as umT5's tokenizer.json does", () => {
    const json = sentencePieceToTokenizerJson(parseSentencePieceModel(tinySpieceModel({ charsmap: true }))) as {
      normalizer: { normalizers: { type: string }[] };
    };
    expect(json.normalizer.normalizers.map((n) => n.type)).toEqual(["Precompiled", "Replace"]);
    const tok = new UmT5Tokenizer(json as ConstructorParameters<typeof UmT5Tokenizer>[0]);
    expect(tok.ids("\uff52\uff45\uff44 ball", 16)).toEqual(tok.ids("red ball", 16)); // full-width letters
  });

  it("refuses bytes that are not a Unigram SentencePiece model, and says where it looked", () => {
    expect(() => parseSentencePieceModel(new Uint8Array([0x0a, 0xff]), "x/spiece.model")).toThrow(
      /x\/spiece\.model: not a SentencePiece model/,
    );
    expect(() => parseSentencePieceModel(new Uint8Array([]), "x/spiece.model")).toThrow(/no pieces/);
    expect(() => UmT5Tokenizer.fromFolder(join(tmp.dir, "nothing"))).toThrow(
      /looked for .*tokenizer\.json or .*spiece\.model/,
    );
  });
});
