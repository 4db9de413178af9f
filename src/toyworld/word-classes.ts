/**
 * The caption words that name one attribute value, grouped by attribute: every synonym of a
 * shape, colour, size, speed, direction and motion the grammar (lexicon.ts) can say, each word in
 * exactly one class. reel-toy's trainer (`train_toy.py dit --dit-text-aux W`) teaches its text
 * encoder to tell these classes apart from its output at each such word, so that "circle" and
 * "orb" land where "ball" does: the encoder trained only through the DiT had merged the synonyms
 * of colours and sizes but not those of shapes and directions (docs/notes.md, 2026-12-06).
 *
 * Written to training/word_classes.json by `node bin/run-ts.js scripts/toy/word-classes.ts`; a
 * test keeps that file equal to this function's output.
 */
import {
  COLOUR_WORDS,
  DIRECTION_PARTS,
  MOTION_WORDS,
  type MotionKind,
  SHAPE_WORDS,
  SIZE_WORDS,
  SPEED_EXTRA,
  SPEED_WORDS,
  VERBS,
} from "./lexicon.ts";

export type WordGroups = Record<string, Record<string, string[]>>;

/** Verb-phrase heads that say nothing of the motion by themselves ("there is", "does not"). */
const GENERIC = new Set(["is", "are", "being", "do", "does", "don't", "doesn't", "not"]);

/** The first word of each piece of text, lower case ("plus sign" -> "plus"). */
function heads(texts: Iterable<string>): string[] {
  return [...new Set([...texts].map((t) => t.toLowerCase().split(/\s+/)[0]!))];
}

export function wordClasses(): WordGroups {
  const shape: Record<string, string[]> = {};
  for (const [s, forms] of Object.entries(SHAPE_WORDS)) shape[s] = heads(forms.flatMap((f) => [f.one, f.many]));
  const colour: Record<string, string[]> = {};
  for (const [c, words] of Object.entries(COLOUR_WORDS)) colour[c] = heads(words);
  const size: Record<string, string[]> = {};
  for (const [s, words] of Object.entries(SIZE_WORDS)) size[s] = heads(words);
  const speed: Record<string, string[]> = {};
  for (const [s, words] of Object.entries(SPEED_WORDS)) speed[s] = heads([...words, ...SPEED_EXTRA[s as "slow"]]);

  // Directions by component: "leftward" and "top" are single words of a direction; verbs that
  // imply one ("rises", "sinks") belong here, not to their motion kind.
  const direction: Record<string, string[]> = { left: [], right: [], up: [], down: [] };
  for (const [word, part] of Object.entries(DIRECTION_PARTS)) direction[(part.h ?? part.v)!]!.push(word);
  const directed = new Set<string>();
  for (const v of VERBS)
    if (v.v)
      for (const w of heads([v.s, v.base, v.ing])) {
        if (!direction[v.v]!.includes(w)) direction[v.v]!.push(w);
        directed.add(w);
      }

  // Motion kinds by verb head; a head two kinds share ("gets bigger" / "gets smaller") is left out.
  const kindsOf = new Map<string, Set<MotionKind>>();
  const note = (w: string, k: MotionKind) => kindsOf.set(w, (kindsOf.get(w) ?? new Set()).add(k));
  for (const v of VERBS) for (const w of heads([v.s, v.base, v.ing])) note(w, v.kind);
  for (const [w, k] of Object.entries(MOTION_WORDS)) note(w, k);
  const motion: Record<string, string[]> = {};
  for (const [w, kinds] of kindsOf) {
    if (kinds.size !== 1 || GENERIC.has(w) || directed.has(w)) continue;
    const k = [...kinds][0]!;
    motion[k] = [...(motion[k] ?? []), w];
  }
  return { shape, colour, size, speed, direction, motion };
}
