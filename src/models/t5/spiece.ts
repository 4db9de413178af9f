/**
 * SentencePiece's `spiece.model` (a serialised `sentencepiece.ModelProto`, as shipped with
 * google/umt5-xxl and in diffusers `tokenizer/` folders) read into the same tokenizer.json
 * form that google/umt5-xxl's `tokenizer.json` has, so both go through one tokenizer library.
 *
 * The ModelProto fields read (sentencepiece_model.proto): `pieces` (1) = { piece (1), score (2),
 * type (3): NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6 };
 * `trainer_spec` (2): model_type (3, UNIGRAM 1), unk_id (40), byte_fallback (35);
 * `normalizer_spec` (3): precompiled_charsmap (2), add_dummy_prefix (3),
 * remove_extra_whitespaces (4). Other fields are skipped. Decoded with protobufjs's Reader.
 *
 * The result mirrors what transformers' SentencePiece converter writes for umT5: Unigram over
 * the pieces with their scores; normalizer = Precompiled(charsmap) then " {2,}" → " "
 * (remove_extra_whitespaces); Metaspace "▁" with a prepended "▁" (add_dummy_prefix);
 * "$A </s>" template; CONTROL and UNKNOWN pieces as special added tokens. Not carried over:
 * T5's extra `<extra_id_N>` sentinels (never produced from prompt text).
 */
import { createRequire } from "node:module";
import { ReelError } from "../../errors.ts";

const require = createRequire(import.meta.url);
const { Reader } = require("protobufjs/minimal") as typeof import("protobufjs");
type ReaderT = InstanceType<typeof Reader>;

export interface SentencePieceModel {
  readonly pieces: readonly { piece: string; score: number; type: number }[];
  readonly modelType: number;
  readonly unkId: number;
  readonly byteFallback: boolean;
  readonly precompiledCharsmap: Uint8Array;
  readonly addDummyPrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
}

export const PIECE_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

function readPiece(r: ReaderT, end: number) {
  const p = { piece: "", score: 0, type: PIECE_TYPE.NORMAL as number };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        p.piece = r.string();
        break;
      case 2:
        p.score = r.float();
        break;
      case 3:
        p.type = r.int32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return p;
}

/** Parses a ModelProto; throws E_CONFIG_INVALID when the bytes are not one. */
export function parseSentencePieceModel(bytes: Uint8Array, where = "spiece.model"): SentencePieceModel {
  const out = {
    pieces: [] as { piece: string; score: number; type: number }[],
    modelType: 1,
    unkId: 0,
    byteFallback: false,
    precompiledCharsmap: new Uint8Array(0) as Uint8Array,
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
  };
  try {
    const r = Reader.create(bytes);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if ((field === 1 || field === 2 || field === 3) && (tag & 7) !== 2)
        throw new Error(`field ${field}: wrong wire type`);
      if (field === 1) {
        const len = r.uint32();
        out.pieces.push(readPiece(r, r.pos + len));
      } else if (field === 2) {
        const end = r.uint32() + r.pos;
        while (r.pos < end) {
          const t = r.uint32();
          const f = t >>> 3;
          if (f === 3) out.modelType = r.int32();
          else if (f === 40) out.unkId = r.int32();
          else if (f === 35) out.byteFallback = r.bool();
          else r.skipType(t & 7);
        }
      } else if (field === 3) {
        const end = r.uint32() + r.pos;
        while (r.pos < end) {
          const t = r.uint32();
          const f = t >>> 3;
          if (f === 2) out.precompiledCharsmap = r.bytes();
          else if (f === 3) out.addDummyPrefix = r.bool();
          else if (f === 4) out.removeExtraWhitespaces = r.bool();
          else r.skipType(t & 7);
        }
      } else r.skipType(tag & 7);
    }
  } catch (e) {
    throw new ReelError("E_CONFIG_INVALID", `${where}: not a SentencePiece model (${(e as Error).message})`);
  }
  if (out.pieces.length === 0)
    throw new ReelError("E_CONFIG_INVALID", `${where}: no pieces (not a SentencePiece model?)`);
  if (out.modelType !== 1)
    throw new ReelError(
      "E_CONFIG_INVALID",
      `${where}: model_type ${out.modelType}: only Unigram (1), as umT5, is supported`,
    );
  return out;
}

/** The tokenizer.json (umT5 form) equivalent to a parsed spiece.model. */
export function sentencePieceToTokenizerJson(m: SentencePieceModel): object {
  const special = m.pieces.flatMap((p, id) =>
    p.type === PIECE_TYPE.CONTROL || p.type === PIECE_TYPE.UNKNOWN
      ? [{ id, content: p.piece, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }]
      : [],
  );
  const eos = m.pieces.findIndex((p) => p.piece === "</s>");
  const normalizers: object[] = [];
  if (m.precompiledCharsmap.length > 0)
    normalizers.push({
      type: "Precompiled",
      precompiled_charsmap: Buffer.from(m.precompiledCharsmap).toString("base64"),
    });
  if (m.removeExtraWhitespaces) normalizers.push({ type: "Replace", pattern: { Regex: " {2,}" }, content: " " });
  const prepend = m.addDummyPrefix ? "always" : "never";
  const seq = (id: "A" | "B") => ({ Sequence: { id, type_id: 0 } });
  const eosTok = { SpecialToken: { id: "</s>", type_id: 0 } };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special,
    normalizer: { type: "Sequence", normalizers },
    pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: prepend, split: true },
    post_processor: {
      type: "TemplateProcessing",
      single: [seq("A"), eosTok],
      pair: [seq("A"), eosTok, seq("B"), eosTok],
      special_tokens: { "</s>": { id: "</s>", ids: [eos], tokens: ["</s>"] } },
    },
    decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: prepend, split: true },
    model: {
      type: "Unigram",
      unk_id: m.unkId,
      vocab: m.pieces.map((p) => [p.piece, p.score]),
      byte_fallback: m.byteFallback,
    },
  };
}
