/**
 * The web studio's build (web/dist) is committed so that `reel serve` needs no build step.
 * This fails when web/ sources changed without `npm run build:web`, or when the build would
 * reach the network (the studio must work offline).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sourceHash } from "../web/source-hash.ts";

const WEB = resolve(import.meta.dirname, "../web");
const DIST = join(WEB, "dist");

describe("web studio build", () => {
  it("web/dist was built from the current web/ sources", () => {
    const built = readFileSync(join(DIST, "source-hash.txt"), "utf8").trim();
    expect(built, "web/dist is stale: run `npm run build:web` and commit web/dist").toBe(sourceHash(WEB));
  });

  it("index.html refers only to files in web/dist, and nothing loads from the network", () => {
    const html = readFileSync(join(DIST, "index.html"), "utf8");
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.some((r) => r.startsWith("/assets/") && r.endsWith(".js"))).toBe(true);
    for (const r of refs) {
      if (r.startsWith("#") || r.startsWith("data:")) continue;
      expect(r, `${r} must be a local /assets/ file`).toMatch(/^\/assets\//);
      expect(existsSync(join(DIST, r)), `${r} is missing from web/dist`).toBe(true);
    }
    for (const f of readdirSync(join(DIST, "assets"))) {
      const text = readFileSync(join(DIST, "assets", f), "utf8");
      expect(text, `${f} mentions a remote URL`).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/);
      expect(text, `${f} imports a remote stylesheet or font`).not.toMatch(/@import|url\(\s*["']?\/\//);
    }
  });
});
