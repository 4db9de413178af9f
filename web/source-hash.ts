/**
 * The studio's build is committed (web/dist). This hash of its sources is written into the
 * build as dist/source-hash.txt; a test recomputes it so a stale build fails the suite.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const WEB = import.meta.dirname;
const SOURCES = ["index.html", "vite.config.ts", "source-hash.ts", "src"];

function files(p: string): string[] {
  try {
    return readdirSync(p, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? files(join(p, d.name)) : d.name.endsWith(".test.ts") ? [] : [join(p, d.name)],
    );
  } catch {
    return [p];
  }
}

export function sourceHash(web = WEB): string {
  const h = createHash("sha256");
  for (const f of SOURCES.flatMap((s) => files(join(web, s))).sort()) {
    h.update(relative(web, f).replaceAll("\\", "/"));
    h.update("\0");
    h.update(readFileSync(f, "utf8").replaceAll("\r\n", "\n"));
    h.update("\0");
  }
  return h.digest("hex");
}

export function sourceHashPlugin() {
  return {
    name: "reel-source-hash",
    writeBundle(options: { dir?: string }) {
      writeFileSync(join(options.dir ?? join(WEB, "dist"), "source-hash.txt"), `${sourceHash()}\n`);
    },
  };
}
