import { describe, expect, it } from "vitest";
import { cleanPrompt, fixText, htmlUnescape } from "./text-clean.ts";
import { UmT5Tokenizer } from "./tokenizer.ts";

/** A tiny tokenizer.json in the exact shape of google/umt5-xxl's (Unigram + Metaspace + "$A </s>"). */
function t5Json(words: string[]) {
  const vocab: [string, number][] = [
    ["<pad>", 0],
    ["</s>", 0],
    ["<unk>", 0],
    ["▁", -3],
    ...words.map((w) => [`▁${w}`, -1] as [string, number]),
    ..."abcdefghijklmnopqrstuvwxyz".split("").map((c) => [c, -5] as [string, number]),
  ];
  return {
    version: "1.0",
    added_tokens: [
      { id: 0, content: "<pad>", special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 1, content: "</s>", special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 2, content: "<unk>", special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
    ],
    normalizer: { type: "Sequence", normalizers: [{ type: "Replace", pattern: { Regex: " {2,}" }, content: " " }] },
    pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
      pair: [
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "</s>", type_id: 0 } },
        { Sequence: { id: "B", type_id: 0 } },
        { SpecialToken: { id: "</s>", type_id: 0 } },
      ],
      special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
    },
    decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
    model: { type: "Unigram", unk_id: 2, vocab, byte_fallback: false },
  };
}

describe("umT5 tokenizer", () => {
  const tok = new UmT5Tokenizer(t5Json(["a", "red", "ball", "bounces"]));

  it("appends EOS, pads with 0 to max_length and masks the padding", () => {
    const b = tok.encode(["a red ball", "ball"], 8);
    const row = (i: number) => [...b.ids.slice(i * 8, i * 8 + 8)].map(Number);
    expect(row(0)).toEqual([4, 5, 6, 1, 0, 0, 0, 0]);
    expect(row(1)).toEqual([6, 1, 0, 0, 0, 0, 0, 0]);
    expect([...b.mask.slice(0, 8)].map(Number)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(b.lengths).toEqual([4, 2]);
    expect(tok.decode(row(0))).toBe("a red ball");
  });

  it("splits unknown words into pieces and truncates to max_length − 1 pieces + EOS", () => {
    const ids = tok.ids("a red balloon bounces", 5);
    expect(ids).toHaveLength(5);
    expect(ids[4]).toBe(1);
    expect(ids.slice(0, 3)).toEqual([4, 5, 6]); // ▁a ▁red ▁ball + o, o, n pieces follow
  });

  it("cleans prompts as Wan does (ftfy subset, double html.unescape, whitespace)", () => {
    expect(cleanPrompt("  a   red\n\tball  ")).toBe("a red ball");
    expect(cleanPrompt("caf\u00c3\u00a9 &amp;amp; \u201cquotes\u201d")).toBe('café & "quotes"');
    expect(htmlUnescape("&#39;x&#x27; &lt;b&gt; &unknown;")).toBe("'x' <b> &unknown;");
    expect(fixText("\uff21\uff22\u3000\ufb01ne\u001b[31m")).toBe("AB fine");
    expect(tok.ids("a\u00a0red", 16)).toEqual(tok.ids("a red", 16));
  });

  it("refuses a tokenizer that is not a Unigram model", () => {
    expect(() => new UmT5Tokenizer({ model: { type: "BPE" } })).toThrow(/expected a SentencePiece Unigram model/);
  });
});
