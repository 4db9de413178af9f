/**
 * The web studio end to end: the real `reel serve` (embedded model reel-toy) and the built
 * studio in Debian's Chromium driven by playwright-core. Enters the API key, types a prompt,
 * watches live progress and latent previews arrive over /studio/events, plays the finished
 * video, and checks the page's labels and phone-width layout. Chromium missing: skipped with a reason locally, a
 * failure under CI=true. REEL_STUDIO_SCREENSHOT=docs/studio.png saves a screenshot.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Served, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tmp.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE = existsSync(CHROMIUM);
const KEY = "reel-studio-key-aaaaaaaaaaaa";
const PROMPT = "a red ball rolls to the right over green grass";

/** The parts of an HTMLVideoElement the checks read (this file compiles without the DOM lib). */
interface Media {
  readyState: number;
  duration: number;
  videoWidth: number;
  videoHeight: number;
  currentTime: number;
  error: { message: string } | null;
  pause(): void;
}

if (!HAVE && process.env.CI !== "true")
  console.warn(`studio e2e skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.runIf(process.env.CI === "true")("studio e2e under CI", () => {
  it("has Debian's chromium", () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs the chromium package`).toBe(true);
  });
});

describe.skipIf(!HAVE)("web studio in Chromium", () => {
  const tmp = tempDir();
  let srv: Served;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    srv = await startServe(["--data", join(tmp.dir, "data"), "--workers", "1"], { REEL_API_KEYS: KEY });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
    tmp.cleanup();
  });

  it("serves the studio and its assets; the event stream needs the key; no path escapes web/dist", async () => {
    const r = await fetch(`${srv.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/html");
    const html = await r.text();
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    const a = await fetch(`${srv.url}${js}`);
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toContain("text/javascript");
    expect((await fetch(`${srv.url}/studio/events`)).status).toBe(401);
    expect((await fetch(`${srv.url}/studio/models`)).status).toBe(401);
    for (const p of ["/assets/..%2f..%2fpackage.json", "/assets/%2e%2e/%2e%2e/package.json", "/assets/nope.js"])
      expect((await fetch(`${srv.url}${p}`)).status, p).not.toBe(200);
  });

  it("takes the API key, queues a prompt, shows live progress and plays the video", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${srv.url}/`);
    // No key yet: the studio says so.
    await expect.poll(() => page.locator("#connection").textContent(), { timeout: 15_000 }).toMatch(/missing API key/);

    // Keyboard only: the key field, Enter saves it.
    await page.getByLabel("API key", { exact: true }).focus();
    await page.keyboard.type(KEY);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#connection").textContent(), { timeout: 15_000 }).toBe("Live");
    await expect.poll(() => page.getByLabel("Model").inputValue(), { timeout: 15_000 }).toBe("reel-toy");
    expect(await page.evaluate('localStorage.getItem("reel.apiKey")')).toBe(KEY);

    // Record every status the gallery shows, as it changes.
    await page.evaluate(`(() => {
      const seen = (window.seen = []);
      window.previews = new Set();
      new MutationObserver(() => {
        for (const s of document.querySelectorAll(".card .status")) {
          const t = s.textContent ?? "";
          if (seen[seen.length - 1] !== t) seen.push(t);
        }
        for (const img of document.querySelectorAll(".card img.preview")) window.previews.add(img.alt);
      }).observe(document.getElementById("gallery"), { childList: true, subtree: true });
    })()`);

    await page.getByLabel("Prompt").fill(PROMPT);
    await page.getByLabel("Seed").fill("7");
    await page.getByLabel("Prompt").focus();
    await page.getByRole("button", { name: "Generate" }).click();
    await page.getByText(/^Queued /).waitFor({ timeout: 15_000 });
    const queuedMessage = (await page.locator("#message").textContent()) ?? "";

    const playButton = page.getByRole("button", { name: /^Play / });
    await playButton.waitFor({ timeout: 120_000 });
    const seen = (await page.evaluate("window.seen")) as string[];
    const previews = (await page.evaluate("[...window.previews]")) as string[];
    console.log(`studio e2e: statuses ${seen.join(" | ")}; previews ${previews.join(" | ")}`);
    // Latent previews were shown while it sampled (the toy model samples for seconds; the
    // stream reads every 400 ms), and the worker removed them when it finished.
    expect(previews.length, "no latent preview was shown").toBeGreaterThan(0);
    expect(previews[0]).toMatch(/^Latent preview at sampling step \d+ of /);
    const id = /^Queued (\S+)\.$/.exec(queuedMessage)?.[1];
    expect(id).toBeDefined();
    expect(existsSync(join(tmp.dir, "data", "previews", id!))).toBe(false);
    // Live updates arrived before it finished: it was seen generating, then done.
    expect(
      seen.some((s) => /^Generating \d+%$/.test(s)),
      seen.join(" | "),
    ).toBe(true);
    expect(seen[seen.length - 1]).toBe("Done");
    const card = page.locator(".card").first();
    await expect.poll(() => card.locator(".meta").textContent()).toContain("seed 7");

    // Keyboard: Enter on the focused Play button starts the player.
    await playButton.focus();
    await page.keyboard.press("Enter");
    const video = page.locator("#player");
    await expect.poll(() => video.evaluate((v: Media) => v.readyState), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    const info = await video.evaluate((v: Media) => ({
      duration: v.duration,
      width: v.videoWidth,
      height: v.videoHeight,
      error: v.error?.message ?? null,
    }));
    expect(info.error).toBeNull();
    expect(info.duration).toBeGreaterThan(0);
    expect(info.width).toBeGreaterThan(0);
    expect(info.height).toBeGreaterThan(0);
    expect(await page.locator("#player-caption").textContent()).toContain(PROMPT);

    if (process.env.REEL_STUDIO_SCREENSHOT) {
      await video.evaluate((v: Media) => {
        v.pause();
        v.currentTime = Math.min(0.5, v.duration / 2);
      });
      await page.screenshot({ path: process.env.REEL_STUDIO_SCREENSHOT, fullPage: true });
    }
    expect(errors).toEqual([]);
  });

  it("labels every control and fits a phone-width screen", async () => {
    // Every control has an accessible name: a <label>, an aria-label, or (buttons) its text.
    const unlabelled = (await page.evaluate(`[...document.querySelectorAll("input, select, textarea, button")]
      .filter((e) => !(((e.labels && e.labels[0] && e.labels[0].textContent) || e.getAttribute("aria-label") ||
        (e.tagName === "BUTTON" ? e.textContent : "")) || "").trim())
      .map((e) => e.outerHTML.slice(0, 80))`)) as string[];
    expect(unlabelled).toEqual([]);
    await page.setViewportSize({ width: 360, height: 780 });
    const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it("deletes a finished video: the stream reports it gone and the gallery empties", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole("button", { name: /^Delete / }).click();
    await page.locator(".gallery .empty").waitFor({ timeout: 15_000 });
    expect(await page.locator(".card").count()).toBe(0);
  });

  it("shows an error from the API in the page (bad seed)", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByLabel("Prompt").fill("anything");
    await page.getByLabel("Seed").fill("-5");
    await page.getByRole("button", { name: "Generate" }).click();
    await expect.poll(() => page.locator("#message").textContent(), { timeout: 15_000 }).toMatch(/seed/);
    expect(await page.locator("#message").getAttribute("class")).toContain("error");
  });
});
