/**
 * The story file schema, the offline planner (deterministic, rule by rule), the prompt
 * composer, and the language-model planner over a real HTTP round trip to a small local
 * server that speaks the chat-completions format.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timeline } from "../../media/assemble.ts";
import { toSrt, toWebVtt } from "../../media/subtitles.ts";
import { planStoryWithLlm, plannerConfigFromEnv } from "./llm-planner.ts";
import { composePrompt, planStory, speechSeconds, subjectOf } from "./planner.ts";
import { framesFor, shotSeed } from "./render.ts";
import { parseStory, parseStoryText, storyJsonSchema } from "./schema.ts";

const FOX = ["a small red fox wakes up in the snow", "it hunts a mouse", "at night the fox sleeps by a fire"];

describe("offline planner", () => {
  it("is deterministic and its plan passes the schema", () => {
    const a = planStory(FOX, { duration: 2, seed: 7 });
    const b = planStory(FOX, { duration: 2, seed: 7 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(parseStory(JSON.parse(JSON.stringify(a)))).toEqual(a);
  });

  it("plans an establishing wide shot, medium, close-up with matching camera moves", () => {
    const s = planStory(FOX, { duration: 2 });
    expect(s.shots.map((x) => x.size)).toEqual(["wide", "medium", "close"]);
    expect(s.shots.map((x) => x.camera)).toEqual(["slow push-in", "tracking", "static"]);
    expect(s.shots.every((x) => x.duration === 2)).toBe(true);
  });

  it("finds the subject and carries its description into every shot that shows it", () => {
    expect(subjectOf("a small red fox wakes up in the snow")).toEqual({ name: "fox", description: "a small red fox" });
    expect(subjectOf("an old man with a grey beard sits by the sea")).toEqual({
      name: "man",
      description: "an old man with a grey beard",
    });
    expect(subjectOf("snow falls")).toBeNull();
    const s = planStory(FOX, { duration: 2 });
    expect(s.characters).toEqual([{ name: "fox", description: "a small red fox" }]);
    expect(s.shots.map((x) => x.characters)).toEqual([["fox"], ["fox"], ["fox"]]);
    for (const shot of s.shots) expect(composePrompt(s, shot)).toContain("fox: a small red fox");
  });

  it("continues pronoun-led action with a hard cut and dissolves on a time jump", () => {
    const s = planStory(FOX, { duration: 2 });
    expect(s.shots.map((x) => [x.continuity, x.transition])).toEqual([
      ["cut", "cut"],
      ["continue", "cut"],
      ["cut", "crossfade"],
    ]);
  });

  it("lengthens a narrated shot to fit its line", () => {
    expect(speechSeconds("it hunts a mouse")).toBe(1.75); // 4 words · 0.26 s + 0.5 s, rounded up
    expect(speechSeconds("狐狸睡着了")).toBe(2.75); // 5 syllables · 0.43 s + 0.5 s
    const s = planStory(FOX, { duration: 1, narrate: "en" });
    expect(s.shots.map((x) => x.duration)).toEqual([3, 1.75, 2.75]);
    expect(planStory(FOX, { duration: 5, narrate: "en" }).shots.map((x) => x.duration)).toEqual([5, 5, 5]);
  });

  it("uses given characters, style, narration and coverage", () => {
    const s = planStory(["the knight rides to the castle", "a dragon lands on the tower"], {
      duration: 3,
      style: "watercolour, muted palette",
      characters: [
        { name: "knight", description: "a knight in blue armour" },
        { name: "dragon", description: "a green dragon with torn wings" },
      ],
      narrate: "en",
      coverage: 2,
    });
    expect(s.shots).toHaveLength(4);
    expect(s.shots.map((x) => x.size)).toEqual(["wide", "medium", "close", "close"]);
    expect(s.shots.map((x) => x.characters)).toEqual([["knight"], ["knight"], ["dragon"], ["dragon"]]);
    expect(s.shots[0]!.narration).toEqual({ text: "the knight rides to the castle", language: "en" });
    expect(s.shots[1]!.narration).toBeUndefined(); // the second angle does not repeat the line
    const p = composePrompt(s, s.shots[2]!);
    expect(p).toBe(
      "a dragon lands on the tower. close-up, static camera. dragon: a green dragon with torn wings. watercolour, muted palette.",
    );
  });
});

describe("story schema", () => {
  const yaml = `
title: The fox
style: cinematic
characters:
  - name: Fox
    description: a small red fox
shots:
  - prompt: a fox wakes up
    duration: 2
    camera: pan left
    dialogue: { character: Fox, text: "Good morning", language: en }
  - prompt: it runs
    duration: 1.5
    transition: crossfade
    continuity: continue
    characters: [fox]
    narration: { text: "狐狸在跑", language: cmn }
`;

  it("reads YAML and JSON alike, filling defaults", () => {
    const a = parseStoryText(yaml);
    expect(a.shots[0]).toMatchObject({ size: "medium", transition: "cut", continuity: "cut", characters: [] });
    expect(a.shots[1]!.narration).toEqual({ text: "狐狸在跑", language: "cmn" });
    expect(parseStoryText(JSON.stringify(a))).toEqual(a);
    expect(parseStoryText(stringify(a))).toEqual(a);
  });

  it("names every bad field and what is allowed", () => {
    const bad = {
      title: "x",
      shots: [
        { prompt: "a", duration: 0, camera: "zoom" },
        { prompt: "b", duration: 1, transition: "wipe", extra: 1 },
      ],
    };
    let msg = "";
    try {
      parseStory(bad, "film.yaml");
    } catch (e) {
      msg = (e as Error).message;
      expect((e as { code: string }).code).toBe("E_INPUT_INVALID");
    }
    expect(msg).toMatch(/^film\.yaml: /);
    for (const want of ["shots.0.duration", "shots.0.camera", "shots.1.transition", "shots.1: Unrecognized key"])
      expect(msg).toContain(want);
    // cross-field rules, once the fields themselves are valid
    expect(() =>
      parseStory({ title: "x", shots: [{ prompt: "a", duration: 1, continuity: "continue", characters: ["nobody"] }] }),
    ).toThrow(
      /shots\.0\.characters\.0: unknown character "nobody".*shots\.0\.continuity: the first shot cannot continue/,
    );
    expect(() => parseStory({ title: "x", shots: [] })).toThrow(/at least one shot/);
    expect(() => parseStoryText("title: [unclosed")).toThrow(/not valid JSON or YAML/);
  });

  it("accepts the example in docs/story.md", () => {
    const md = readFileSync(join(import.meta.dirname, "../../../docs/story.md"), "utf8");
    const yamlBlock = /```yaml\n([\s\S]*?)```/.exec(md)?.[1];
    expect(yamlBlock).toBeDefined();
    const s = parseStoryText(yamlBlock!, "docs/story.md");
    expect(s.shots.map((x) => x.continuity)).toEqual(["cut", "continue", "cut"]);
    expect(s.shots[2]!.narration?.language).toBe("cmn");
  });

  it("exports a JSON Schema for language models", () => {
    const s = storyJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(["title", "style", "characters", "shots"]));
    expect(s.required).toEqual(expect.arrayContaining(["title", "shots"]));
  });
});

describe("timing", () => {
  it("snaps durations to the model's frame grid and derives stable seeds", () => {
    expect(framesFor(17 / 16, 16, 4)).toBe(17);
    expect(framesFor(5, 16, 4)).toBe(81);
    expect(framesFor(0.01, 16, 4)).toBe(5);
    expect(shotSeed(7, 0)).toBe(7);
    expect(shotSeed(7, 1)).not.toBe(shotSeed(7, 2));
  });

  it("overlaps clips by the cross-fade and keeps cuts end to end", () => {
    const t = timeline(
      [
        { seconds: 2, transition: "cut" },
        { seconds: 2, transition: "cut" },
        { seconds: 1, transition: "crossfade" },
      ],
      0.75,
    );
    expect(t.starts).toEqual([0, 2, 3.5]);
    expect(t.overlaps).toEqual([0, 0, 0.5]); // at most half the shorter clip
    expect(t.seconds).toBe(4.5);
  });

  it("writes WebVTT and SRT cues", () => {
    const cues = [
      { start: 0.15, end: 1.2, text: "a <fox> wakes" },
      { start: 61.5, end: 3725.25, text: "good morning", speaker: "Fox" },
    ];
    expect(toWebVtt(cues)).toBe(
      "WEBVTT\n\n1\n00:00:00.150 --> 00:00:01.200\na &lt;fox&gt; wakes\n\n2\n00:01:01.500 --> 01:02:05.250\nFox: good morning\n",
    );
    expect(toSrt(cues)).toBe(
      "1\n00:00:00,150 --> 00:00:01,200\na <fox> wakes\n\n2\n00:01:01,500 --> 01:02:05,250\nFox: good morning\n",
    );
  });
});

describe("language-model planner (local chat-completions server)", () => {
  let url = "";
  let answer: (body: { model: string; messages: { role: string; content: string }[] }) => unknown = () => ({});
  const seen: { auth?: string; path?: string; body?: unknown }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => {
      raw += c.toString();
    });
    req.on("end", () => {
      const body = JSON.parse(raw) as Parameters<typeof answer>[0];
      seen.push({ ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), path: req.url, body });
      const a = answer(body);
      if (typeof a === "number") {
        res.writeHead(a, { "content-type": "application/json" }).end('{"error":{"message":"quota"}}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: "chatcmpl-1",
          object: "chat.completion",
          model: body.model,
          choices: [{ index: 0, message: { role: "assistant", content: a }, finish_reason: "stop" }],
        }),
      );
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const cfg = () =>
    plannerConfigFromEnv({ REEL_PLANNER_URL: url, REEL_PLANNER_KEY: "sk-test", REEL_PLANNER_MODEL: "m1" })!;

  it("sends the prompts and the schema, and validates the returned plan", async () => {
    const plan = {
      title: "Fox",
      style: "storybook",
      characters: [{ name: "fox", description: "a red fox" }],
      shots: FOX.map((p, i) => ({ prompt: p, duration: 2, size: ["wide", "medium", "close"][i], characters: ["fox"] })),
    };
    answer = () => `\`\`\`json\n${JSON.stringify(plan)}\n\`\`\``;
    const s = await planStoryWithLlm(FOX, { duration: 2, seed: 9 }, cfg());
    expect(s.title).toBe("Fox");
    expect(s.seed).toBe(9);
    expect(s.shots.map((x) => x.size)).toEqual(["wide", "medium", "close"]);
    const last = seen.at(-1)!;
    expect(last.path).toBe("/v1/chat/completions");
    expect(last.auth).toBe("Bearer sk-test");
    const body = last.body as { model: string; messages: { role: string; content: string }[] };
    expect(body.model).toBe("m1");
    expect(body.messages[0]!.content).toContain('"shots"');
    expect(body.messages[1]!.content).toContain("2. it hunts a mouse");
  });

  it("rejects a plan that fails the schema, and HTTP errors, with E_PLANNER", async () => {
    answer = () => JSON.stringify({ title: "x", shots: [{ prompt: "a", duration: -1 }] });
    await expect(planStoryWithLlm(FOX, { duration: 2 }, cfg())).rejects.toMatchObject({
      code: "E_PLANNER",
      message: expect.stringContaining("shots.0.duration"),
    });
    answer = () => 429;
    await expect(planStoryWithLlm(FOX, { duration: 2 }, cfg())).rejects.toMatchObject({
      code: "E_PLANNER",
      message: expect.stringContaining("429"),
    });
    await expect(
      planStoryWithLlm(FOX, { duration: 2 }, { url: "http://127.0.0.1:1/v1", model: "m" }),
    ).rejects.toMatchObject({ code: "E_PLANNER" });
  });
});
