import { defineConfig } from "vite";
import { sourceHashPlugin } from "./source-hash.ts";

// Builds the studio into web/dist (committed): `reel serve` serves it with no build step.
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", modulePreload: { polyfill: false } },
  plugins: [sourceHashPlugin()],
});
