/**
 * The text cleaning Wan applies before tokenizing (wan/modules/tokenizers.py, clean='whitespace';
 * shared/docs/wan-architecture.md §4.2):
 *
 *   text = ftfy.fix_text(text); text = html.unescape(html.unescape(text)).strip();
 *   text = re.sub(r"\s+", " ", text).strip()
 *
 * ftfy has no JavaScript port; `fixText` implements the parts of `ftfy.fix_text` (default
 * settings) that change real prompts: UTF-8 mojibake decoded as Windows-1252/Latin-1
 * ("cafÃ©" → "café"), curly quotes → straight (uncurl_quotes), ligatures (ﬁ → fi),
 * full-width ASCII → ASCII (fix_character_width), terminal escapes and control characters
 * removed, CRLF → LF, then NFC. `htmlUnescape` handles numeric references and the named
 * entities that occur in text people type; Python's table of 2,231 HTML5 names is not copied.
 */

const CP1252_HIGH: Record<number, number> = {
  8364: 0x80,
  8218: 0x82,
  402: 0x83,
  8222: 0x84,
  8230: 0x85,
  8224: 0x86,
  8225: 0x87,
  710: 0x88,
  8240: 0x89,
  352: 0x8a,
  8249: 0x8b,
  338: 0x8c,
  381: 0x8e,
  8216: 0x91,
  8217: 0x92,
  8220: 0x93,
  8221: 0x94,
  8226: 0x95,
  8211: 0x96,
  8212: 0x97,
  732: 0x98,
  8482: 0x99,
  353: 0x9a,
  8250: 0x9b,
  339: 0x9c,
  382: 0x9e,
  376: 0x9f,
};

/** Encodes a string as Windows-1252 bytes, or null when a character has no byte. */
function toCp1252(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x100) out[i] = c;
    else {
      const b = CP1252_HIGH[c];
      if (b === undefined) return null;
      out[i] = b;
    }
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** Runs of characters typical of UTF-8 read as 1252: a lead byte char followed by continuation chars. */
const MOJIBAKE =
  /[\u00c2-\u00f4][\u0080-\u00bf\u2018-\u203a\u20ac\u2122\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc]+/g;

/** Re-decodes mojibake runs as UTF-8 where that gives valid text. */
function fixMojibake(s: string): string {
  return s.replace(MOJIBAKE, (run) => {
    const bytes = toCp1252(run);
    if (bytes === null) return run;
    try {
      return utf8.decode(bytes);
    } catch {
      return run;
    }
  });
}

const LIGATURES: Record<string, string> = {
  ﬀ: "ff",
  ﬁ: "fi",
  ﬂ: "fl",
  ﬃ: "ffi",
  ﬄ: "ffl",
  ﬅ: "st",
  ﬆ: "st",
  Ĳ: "IJ",
  ĳ: "ij",
};

export function fixText(text: string): string {
  let s = text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  s = s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ""); // terminal escapes
  s = fixMojibake(s);
  s = s.replace(/\r\n?|\u2028|\u2029|\u0085/g, "\n");
  s = s.replace(/[ﬀ-ﬆĲĳ]/g, (c) => LIGATURES[c] ?? c);
  s = s.replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, " ");
  s = s.replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'").replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  s = s.replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufeff\ufffc]/g, "");
  return s.normalize("NFC");
}

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  copy: "©",
  reg: "®",
  trade: "™",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  deg: "°",
  middot: "·",
  times: "×",
  divide: "÷",
  euro: "€",
  pound: "£",
  yen: "¥",
  cent: "¢",
  sect: "§",
  para: "¶",
  bull: "•",
  eacute: "é",
  egrave: "è",
  ecirc: "ê",
  agrave: "à",
  aacute: "á",
  acirc: "â",
  auml: "ä",
  ouml: "ö",
  uuml: "ü",
  szlig: "ß",
  ccedil: "ç",
  ntilde: "ñ",
  iacute: "í",
  oacute: "ó",
  uacute: "ú",
  Eacute: "É",
  Auml: "Ä",
  Ouml: "Ö",
  Uuml: "Ü",
  shy: "\u00ad",
};

/** html.unescape: numeric references (&#39; &#x27;) and common named entities. */
export function htmlUnescape(s: string): string {
  return s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?/g, (m, ref: string) => {
    if (ref.startsWith("#")) {
      const cp =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) return "\ufffd";
      return String.fromCodePoint(cp);
    }
    const v = NAMED[ref];
    return v !== undefined && m.endsWith(";")
      ? v
      : v !== undefined && ["amp", "lt", "gt", "quot"].includes(ref)
        ? v
        : m;
  });
}

/** Wan's prompt cleaning (`clean='whitespace'`). */
export function cleanPrompt(text: string): string {
  let s = fixText(text);
  s = htmlUnescape(htmlUnescape(s)).trim();
  return s.replace(/\s+/g, " ").trim();
}
