/**
 * The umT5 tokenizer as Wan uses it (HF AutoTokenizer('google/umt5-xxl'), add_special_tokens,
 * padding='max_length', max_length=512, truncation): SentencePiece-unigram pieces + EOS `</s>`,
 * pad id 0, attention mask 1 for pieces and EOS. Reads the `tokenizer.json` shipped next to
 * Wan checkpoints (`google/umt5-xxl/`), or SentencePiece's `spiece.model` converted to the
 * same form (spiece.ts), through @huggingface/tokenizers (pure TypeScript).
 * Prompts are cleaned as the official code does first (text-clean.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { ReelError } from "../../errors.ts";
import { readHeader, readTensorRaw } from "../../engine/safetensors.ts";
import { parseSentencePieceModel, sentencePieceToTokenizerJson } from "./spiece.ts";
import { cleanPrompt } from "./text-clean.ts";

/** The tensor name ComfyUI uses for an embedded SentencePiece model. */
export const SPIECE_TENSOR = "spiece_model";

export interface TokenBatch {
  /** [B, maxLength] int64 ids, EOS-terminated, 0-padded. */
  readonly ids: BigInt64Array;
  /** [B, maxLength] 1 for pieces and EOS, 0 for padding. */
  readonly mask: BigInt64Array;
  /** Tokens per prompt, EOS included (the official seq_lens). */
  readonly lengths: readonly number[];
  readonly maxLength: number;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: unknown };
  added_tokens?: { id: number; content: string }[];
}

export class UmT5Tokenizer {
  private readonly tok: Tokenizer;
  readonly eosId: number;
  readonly padId: number;

  constructor(json: TokenizerJson, config: Record<string, unknown> = {}, where = "tokenizer.json") {
    if (json.model?.type !== "Unigram")
      throw new ReelError(
        "E_CONFIG_INVALID",
        `${where}: expected a SentencePiece Unigram model (umT5), got ${json.model?.type ?? "none"}`,
      );
    this.tok = new Tokenizer(json, { eos_token: "</s>", pad_token: "<pad>", ...config });
    const id = (content: string): number => {
      const hit = json.added_tokens?.find((t) => t.content === content);
      if (hit) return hit.id;
      const vocab = json.model?.vocab;
      if (Array.isArray(vocab)) {
        const i = vocab.findIndex((v) => Array.isArray(v) && v[0] === content);
        if (i >= 0) return i;
      }
      throw new ReelError("E_CONFIG_INVALID", `${where}: no "${content}" token`);
    };
    this.eosId = id("</s>");
    this.padId = id("<pad>");
  }

  /**
   * Loads a tokenizer folder (fromFolder), or the SentencePiece model that some ComfyUI umT5
   * `.safetensors` files embed as a uint8 `spiece_model` tensor.
   */
  static fromPath(path: string): UmT5Tokenizer {
    if (!path.endsWith(".safetensors")) return UmT5Tokenizer.fromFolder(path);
    const header = readHeader(path);
    if (!header.tensors.has(SPIECE_TENSOR))
      throw new ReelError("E_MODEL_NOT_FOUND", `${path}: no embedded "${SPIECE_TENSOR}" tokenizer tensor`);
    const t = readTensorRaw(header, SPIECE_TENSOR);
    if (t.dtype !== "uint8" && t.dtype !== "int8")
      throw new ReelError("E_CONFIG_INVALID", `${path}: "${SPIECE_TENSOR}" is ${t.dtype}, expected uint8 bytes`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const where = `${path} (${SPIECE_TENSOR})`;
    return new UmT5Tokenizer(
      sentencePieceToTokenizerJson(parseSentencePieceModel(bytes, where)) as TokenizerJson,
      {},
      where,
    );
  }

  /**
   * Loads `tokenizer.json` (preferred) or `spiece.model` from a folder, and
   * `tokenizer_config.json` when present.
   */
  static fromFolder(dir: string): UmT5Tokenizer {
    let path = join(dir, "tokenizer.json");
    const spiece = join(dir, "spiece.model");
    let json: TokenizerJson;
    if (existsSync(path)) {
      try {
        json = JSON.parse(readFileSync(path, "utf8")) as TokenizerJson;
      } catch (e) {
        throw new ReelError("E_CONFIG_INVALID", `${path}: not valid JSON (${(e as Error).message})`);
      }
    } else if (existsSync(spiece)) {
      path = spiece;
      json = sentencePieceToTokenizerJson(parseSentencePieceModel(readFileSync(spiece), spiece)) as TokenizerJson;
    } else
      throw new ReelError("E_MODEL_NOT_FOUND", `no tokenizer in ${dir}: looked for ${path} or ${spiece}`, {
        details: { looked: [path, spiece] },
      });
    const cfgPath = join(dir, "tokenizer_config.json");
    const config = existsSync(cfgPath) ? (JSON.parse(readFileSync(cfgPath, "utf8")) as Record<string, unknown>) : {};
    return new UmT5Tokenizer(json, config, path);
  }

  /** Pieces of one cleaned prompt, EOS-terminated, truncated to maxLength (the last kept slot is EOS). */
  ids(prompt: string, maxLength: number): number[] {
    let ids = this.tok.encode(cleanPrompt(prompt), { add_special_tokens: true }).ids;
    if (ids[ids.length - 1] !== this.eosId) ids = [...ids, this.eosId];
    if (ids.length > maxLength) ids = [...ids.slice(0, maxLength - 1), this.eosId];
    return ids;
  }

  encode(prompts: readonly string[], maxLength = 512): TokenBatch {
    const B = prompts.length;
    const ids = new BigInt64Array(B * maxLength).fill(BigInt(this.padId));
    const mask = new BigInt64Array(B * maxLength);
    const lengths: number[] = [];
    prompts.forEach((p, b) => {
      const row = this.ids(p, maxLength);
      row.forEach((v, i) => {
        ids[b * maxLength + i] = BigInt(v);
        mask[b * maxLength + i] = 1n;
      });
      lengths.push(row.length);
    });
    return { ids, mask, lengths, maxLength };
  }

  decode(ids: readonly number[]): string {
    return this.tok.decode(ids, { skip_special_tokens: true });
  }
}
