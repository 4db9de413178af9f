/** Official ⇄ HF UMT5EncoderModel key names: the spec table, both round trips, layout detection. */
import { describe, expect, it } from "vitest";
import { t5Preset } from "./config.ts";
import { detectT5Layout, hfToOfficial, officialToHf, t5RenamerFor } from "./keys.ts";
import { t5Params } from "./model.ts";

const official = [...t5Params(t5Preset("umt5-xxl")).keys()];

describe("umT5 key names", () => {
  it("follow the table of wan-architecture.md §4.6", () => {
    expect(officialToHf("token_embedding.weight")).toBe("shared.weight");
    expect(officialToHf("norm.weight")).toBe("encoder.final_layer_norm.weight");
    expect(officialToHf("blocks.23.pos_embedding.embedding.weight")).toBe(
      "encoder.block.23.layer.0.SelfAttention.relative_attention_bias.weight",
    );
    expect(officialToHf("blocks.7.ffn.gate.0.weight")).toBe("encoder.block.7.layer.1.DenseReluDense.wi_0.weight");
    expect(officialToHf("blocks.7.ffn.fc1.weight")).toBe("encoder.block.7.layer.1.DenseReluDense.wi_1.weight");
    expect(officialToHf("blocks.7.ffn.fc2.weight")).toBe("encoder.block.7.layer.1.DenseReluDense.wo.weight");
    expect(officialToHf("blocks.0.norm2.weight")).toBe("encoder.block.0.layer.1.layer_norm.weight");
    expect(officialToHf("blocks.10.attn.o.weight")).toBe("encoder.block.10.layer.0.SelfAttention.o.weight");
    expect(hfToOfficial("encoder.embed_tokens.weight")).toBe("token_embedding.weight");
  });

  it("round-trip every umT5-XXL param: official → HF → official and HF → official → HF", () => {
    expect(official.length).toBe(2 + 24 * 10);
    const hf = official.map((k) => officialToHf(k));
    expect(hf.every((k) => k !== null)).toBe(true);
    expect(new Set(hf).size).toBe(official.length);
    expect(hf.map((k) => hfToOfficial(k!))).toEqual(official);
    expect(hf.map((k) => officialToHf(hfToOfficial(k!)!))).toEqual(hf);
  });

  it("leave unknown keys unmapped", () => {
    expect(officialToHf("blocks.0.attn.q.bias")).toBeNull();
    expect(hfToOfficial("encoder.block.0.layer.0.SelfAttention.q.bias")).toBeNull();
    expect(hfToOfficial("decoder.block.0.layer.0.SelfAttention.q.weight")).toBeNull();
  });

  it("detect the layout and rename a HF file, dropping the tied alias and non-encoder parts", () => {
    const hfKeys = [
      "shared.weight",
      "encoder.embed_tokens.weight",
      "encoder.block.0.layer.0.SelfAttention.q.weight",
      "decoder.block.0.layer.0.SelfAttention.q.weight",
      "lm_head.weight",
      "encoder.block.0.layer.0.SelfAttention.q.bias",
    ];
    expect(detectT5Layout(hfKeys)).toBe("hf");
    expect(detectT5Layout(official)).toBe("official");
    const r = t5RenamerFor("hf", hfKeys);
    expect(hfKeys.map(r)).toEqual([
      "token_embedding.weight",
      null,
      "blocks.0.attn.q.weight",
      null,
      null,
      "encoder.block.0.layer.0.SelfAttention.q.bias", // kept, so the weight check reports it
    ]);
    // Only the alias present: it names the embedding.
    expect(t5RenamerFor("hf", ["encoder.embed_tokens.weight"])("encoder.embed_tokens.weight")).toBe(
      "token_embedding.weight",
    );
  });
});
