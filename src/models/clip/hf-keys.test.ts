import { describe, expect, it } from "vitest";
import { fromHfClipConfig, inferClipConfig, isHfClipKeys, planHfClip } from "./hf-keys.ts";

describe("HF CLIPVisionModel → official open-clip visual", () => {
  const D = 64;
  const hf = new Map<string, number[]>([
    ["vision_model.embeddings.class_embedding", [D]],
    ["vision_model.embeddings.patch_embedding.weight", [D, 3, 14, 14]],
    ["vision_model.embeddings.position_embedding.weight", [17, D]],
    ["vision_model.embeddings.position_ids", [1, 17]],
    ["vision_model.pre_layrnorm.weight", [D]],
    ["vision_model.encoder.layers.0.self_attn.q_proj.weight", [D, D]],
    ["vision_model.encoder.layers.0.self_attn.k_proj.weight", [D, D]],
    ["vision_model.encoder.layers.0.self_attn.v_proj.weight", [D, D]],
    ["vision_model.encoder.layers.0.self_attn.q_proj.bias", [D]],
    ["vision_model.encoder.layers.0.self_attn.k_proj.bias", [D]],
    ["vision_model.encoder.layers.0.self_attn.v_proj.bias", [D]],
    ["vision_model.encoder.layers.0.self_attn.out_proj.weight", [D, D]],
    ["vision_model.encoder.layers.0.layer_norm1.bias", [D]],
    ["vision_model.encoder.layers.0.mlp.fc1.weight", [4 * D, D]],
    ["vision_model.encoder.layers.0.mlp.fc2.bias", [D]],
    ["vision_model.post_layernorm.weight", [D]],
    ["visual_projection.weight", [32, D]],
  ]);

  it("plans fused qkv, reshaped embeddings and plain renames; drops the projection and index buffer", () => {
    expect(isHfClipKeys([...hf.keys()])).toBe(true);
    const plans = new Map(planHfClip(hf, "clip.safetensors").map((p) => [p.name, p]));
    expect(plans.get("visual.cls_embedding")?.shape).toEqual([1, 1, D]);
    expect(plans.get("visual.pos_embedding")?.shape).toEqual([1, 17, D]);
    expect(plans.get("visual.transformer.0.attn.to_qkv.weight")).toMatchObject({
      shape: [3 * D, D],
      from: ["q", "k", "v"].map((p) => `vision_model.encoder.layers.0.self_attn.${p}_proj.weight`),
    });
    expect(plans.get("visual.transformer.0.attn.to_qkv.bias")?.shape).toEqual([3 * D]);
    expect(plans.get("visual.transformer.0.attn.proj.weight")?.from).toEqual([
      "vision_model.encoder.layers.0.self_attn.out_proj.weight",
    ]);
    expect(plans.has("visual.transformer.0.norm1.bias")).toBe(true);
    expect(plans.has("visual.transformer.0.mlp.0.weight")).toBe(true);
    expect(plans.has("visual.transformer.0.mlp.2.bias")).toBe(true);
    expect(plans.has("visual.pre_norm.weight")).toBe(true);
    expect(plans.has("visual.post_norm.weight")).toBe(true);
    expect(plans.size).toBe(11); // 15 vision tensors, q|k|v weight and bias fused 3 → 1
  });

  it("reports tensors it does not know and a missing q/k/v part", () => {
    expect(() => planHfClip(new Map([...hf, ["vision_model.encoder.layers.0.adapter.weight", [D]]]), "x")).toThrow(
      /not part of a CLIP vision tower: vision_model\.encoder\.layers\.0\.adapter\.weight/,
    );
    const noV = new Map(hf);
    noV.delete("vision_model.encoder.layers.0.self_attn.v_proj.weight");
    expect(() => planHfClip(noV, "x")).toThrow(/missing .*v_proj\.weight/);
  });

  it("reads configs from config.json and from the weights (ViT-H head width 80)", () => {
    expect(
      fromHfClipConfig({
        vision_config: {
          hidden_size: 1280,
          intermediate_size: 5120,
          num_attention_heads: 16,
          num_hidden_layers: 32,
          image_size: 224,
          patch_size: 14,
          hidden_act: "gelu",
        },
        projection_dim: 1024,
      }),
    ).toMatchObject({
      dim: 1280,
      mlp_ratio: 4,
      num_heads: 16,
      num_layers: 32,
      image_size: 224,
      out_dim: 1024,
      activation: "gelu",
    });
    const shapes = new Map<string, number[]>([
      ["visual.cls_embedding", [1, 1, 1280]],
      ["visual.patch_embedding.weight", [1280, 3, 14, 14]],
      ["visual.pos_embedding", [1, 257, 1280]],
      ["visual.transformer.0.mlp.0.weight", [5120, 1280]],
      ["visual.transformer.31.mlp.0.weight", [5120, 1280]],
    ]);
    expect(inferClipConfig(shapes, "x")).toMatchObject({
      image_size: 224,
      patch_size: 14,
      dim: 1280,
      mlp_ratio: 4,
      num_heads: 16,
      num_layers: 32,
    });
  });
});
