/**
 * Writes a tokenizer.json in the exact shape of google/umt5-xxl's (SentencePiece Unigram,
 * Metaspace pre-tokenizer, "$A </s>" template, ids 0/1/2 = <pad>/</s>/<unk>) with a given
 * word vocabulary: reel-toy's tokenizer and the tests' tiny tokenizers.
 */
export function unigramTokenizerJson(
  words: readonly string[],
  chars: readonly string[],
  o: { lowercase?: boolean } = {},
): object {
  const vocab: [string, number][] = [
    ["<pad>", 0],
    ["</s>", 0],
    ["<unk>", 0],
    ["▁", -4],
    ...words.map((w) => [`▁${w}`, -1] as [string, number]),
    ...chars.map((c) => [c, -6] as [string, number]),
  ];
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const seq = (id: "A" | "B") => ({ Sequence: { id, type_id: 0 } });
  const eos = { SpecialToken: { id: "</s>", type_id: 0 } };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<pad>"), special(1, "</s>"), special(2, "<unk>")],
    normalizer: {
      type: "Sequence",
      normalizers: [
        ...(o.lowercase ? [{ type: "Lowercase" }] : []),
        { type: "Replace", pattern: { Regex: " {2,}" }, content: " " },
      ],
    },
    pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
    post_processor: {
      type: "TemplateProcessing",
      single: [seq("A"), eos],
      pair: [seq("A"), eos, seq("B"), eos],
      special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
    },
    decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
    model: { type: "Unigram", unk_id: 2, vocab, byte_fallback: false },
  };
}
