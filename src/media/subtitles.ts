/** Subtitle cues as WebVTT and SubRip (SRT) text. */

export interface Cue {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** Who speaks (dialogue); shown before the text. */
  readonly speaker?: string;
}

function stamp(seconds: number, sep: "." | ","): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

/** Cue text on one or more lines; no blank lines (they end a cue in both formats). */
function body(c: Cue): string {
  const t = c.text
    .replace(/\r/g, "")
    .replace(/\n\s*\n/g, "\n")
    .trim();
  return c.speaker ? `${c.speaker}: ${t}` : t;
}

export function toWebVtt(cues: readonly Cue[]): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const blocks = cues.map((c, i) => `${i + 1}\n${stamp(c.start, ".")} --> ${stamp(c.end, ".")}\n${esc(body(c))}`);
  return `WEBVTT\n\n${blocks.join("\n\n")}${blocks.length ? "\n" : ""}`;
}

export function toSrt(cues: readonly Cue[]): string {
  return cues.map((c, i) => `${i + 1}\n${stamp(c.start, ",")} --> ${stamp(c.end, ",")}\n${body(c)}\n`).join("\n");
}
