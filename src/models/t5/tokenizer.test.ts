import { describe, expect, it } from "vitest";
import { cleanPrompt, fixText, htmlUnescape } from "./text-clean.ts";
import { tinyTokenizerJson } from "../../../test/helpers/tiny-model.ts";
import { UmT5Tokenizer } from "./tokenizer.ts";

describe("umT5 tokenizer", () => {
  const tok = new UmT5Tokenizer(
    tinyTokenizerJson(["a", "red", "ball", "bounces"]) as ConstructorParameters<typeof UmT5Tokenizer>[0],
  );

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
