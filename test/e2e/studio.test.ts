/**
 * The web studio end to end: the real `reel serve` (embedded model reel-toy) and the built
 * studio in Debian's Chromium driven by playwright-core. Enters the API key, types a prompt,
 * watches live progress and latent previews arrive over /studio/events, plays the finished
 * video, and checks the page's labels and phone-width layout. Chromium missing: skipped with a reason locally, a
 * failure under CI=true. REEL_STUDIO_SCREENSHOT=docs/studio.png saves a screenshot
 * (REEL_STUDIO_STORY_SCREENSHOT=docs/studio-story.png: the story editor after a render).
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
    await expect
      .poll(() => page.getByLabel("Model", { exact: true }).inputValue(), { timeout: 15_000 })
      .toBe("reel-toy");
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

    await page.getByLabel("Prompt", { exact: true }).fill(PROMPT);
    await page.getByLabel("Seed", { exact: true }).fill("7");
    await page.getByLabel("Prompt", { exact: true }).focus();
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
    await page.getByLabel("Prompt", { exact: true }).fill("anything");
    await page.getByLabel("Seed", { exact: true }).fill("-5");
    await page.getByRole("button", { name: "Generate" }).click();
    await expect.poll(() => page.locator("#message").textContent(), { timeout: 15_000 }).toMatch(/seed/);
    expect(await page.locator("#message").getAttribute("class")).toContain("error");
  });

  it("makes a three-shot story: plan, edit, reorder, render with per-shot progress, play, re-render one shot", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const shotStatuses = () => page.locator("#story-shots .shot-status").allTextContents();
    await page
      .getByLabel("Story prompts, one shot per line")
      .fill("a red ball rolls to the right over green grass\nit stops under an orange sunset\na blue star spins");
    await page.getByLabel("Story seed").fill("3");
    await page.getByRole("button", { name: "Plan shots" }).click();
    await expect.poll(() => page.locator("#story-shots .shot").count(), { timeout: 15_000 }).toBe(3);
    // edit shot 3, swap shots 2 and 3 and back (keyboard-reachable buttons), then render
    await page.getByLabel("Shot 3 prompt").fill("a blue star spins on a checkerboard");
    await page.getByRole("button", { name: "Move shot 2 down" }).click();
    expect(await page.getByLabel("Shot 2 prompt").inputValue()).toBe("a blue star spins on a checkerboard");
    await page.getByRole("button", { name: "Move shot 3 up" }).click();
    expect(await page.getByLabel("Shot 3 prompt").inputValue()).toBe("a blue star spins on a checkerboard");

    await page.evaluate(`(() => {
      const seen = (window.storySeen = new Set());
      new MutationObserver(() => {
        for (const s of document.querySelectorAll("#story-shots .shot-status")) seen.add(s.textContent);
      }).observe(document.getElementById("story-shots"), { childList: true, subtree: true, characterData: true });
    })()`);
    await page.getByRole("button", { name: "Render story" }).click();
    await expect.poll(() => page.locator("#story-status").textContent(), { timeout: 240_000 }).toMatch(/^Story: done/);
    expect(await shotStatuses()).toEqual(["rendered", "rendered", "rendered"]);
    const seen = (await page.evaluate("[...window.storySeen]")) as string[];
    expect(
      seen.some((t) => /^rendering \d+%$/.test(t)),
      `shot statuses seen: ${seen.join(", ")}`,
    ).toBe(true);
    const film = (await page.locator("#player").getAttribute("src")) ?? "";
    expect(film).toMatch(/^\/files\/story_/);
    await expect
      .poll(() => page.evaluate("document.getElementById('player').duration"), { timeout: 30_000 })
      .toBeGreaterThan(2);
    expect(await page.locator("#story-board").isVisible()).toBe(true);
    if (process.env.REEL_STUDIO_STORY_SCREENSHOT)
      await page
        .locator("section[aria-labelledby=story-h]")
        .screenshot({ path: process.env.REEL_STUDIO_STORY_SCREENSHOT });

    await page.getByRole("button", { name: "Re-render shot 2" }).click();
    await expect.poll(() => page.locator("#story-status").textContent(), { timeout: 240_000 }).toMatch(/^Shot 2: done/);
    expect(await shotStatuses()).toEqual(["cached", "rendered", "cached"]);
    expect(await page.locator("#player").getAttribute("src")).not.toBe(film);
  }, 600_000);
});
