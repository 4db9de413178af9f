/** Renders pipeline progress: a one-line bar on a terminal, plain lines otherwise. */
import type { Progress } from "../pipelines/progress.ts";

const LABEL: Record<Progress["phase"], string> = {
  load: "loading",
  encode_text: "encoding prompt",
  encode_image: "encoding image",
  sample: "sampling",
  decode: "decoding",
  write: "writing",
};

function dur(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "--";
  const s = Math.round(ms / 1000);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
      : `${s}s`;
}

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): {
  report: (p: Progress) => void;
  end: () => void;
} {
  const tty = stream.isTTY === true;
  let last = "";
  return {
    report(p) {
      const label = LABEL[p.phase];
      if (tty) {
        const width = 24;
        const fill = p.total ? Math.round((p.step / p.total) * width) : 0;
        const line = `${label.padEnd(16)} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${p.step}/${p.total}  elapsed ${dur(p.elapsedMs)}  eta ${dur(p.etaMs)}`;
        stream.write(`\r${line.padEnd(last.length)}`);
        last = line;
      } else if (p.step > 0) {
        stream.write(
          `${label} ${p.step}/${p.total} elapsed ${dur(p.elapsedMs)} eta ${dur(p.etaMs)}${p.preview ? ` preview ${p.preview}` : ""}\n`,
        );
      }
    },
    end() {
      if (tty && last) stream.write("\n");
      last = "";
    },
  };
}
