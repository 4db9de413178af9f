/**
 * The language-model storyboard planner: asks an OpenAI-compatible chat-completions endpoint
 * for a story plan and validates the answer with the same schema as every other story file.
 *
 * Configuration (environment): REEL_PLANNER_URL (the API base, e.g. http://localhost:8080/v1;
 * `/chat/completions` is appended unless the URL already ends with it), REEL_PLANNER_KEY
 * (sent as a Bearer token; optional for local servers), REEL_PLANNER_MODEL (default "gpt-4o-mini").
 */
import { ReelError } from "../../errors.ts";
import type { PlanOptions } from "./planner.ts";
import { parseStoryText, type Story, storyJsonSchema } from "./schema.ts";

export interface LlmPlannerConfig {
  readonly url: string;
  readonly key?: string;
  readonly model: string;
  readonly timeoutMs?: number;
}

/** The configuration from the environment, or null when REEL_PLANNER_URL is not set. */
export function plannerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmPlannerConfig | null {
  const url = env.REEL_PLANNER_URL?.trim();
  if (!url) return null;
  return {
    url,
    ...(env.REEL_PLANNER_KEY ? { key: env.REEL_PLANNER_KEY } : {}),
    model: env.REEL_PLANNER_MODEL?.trim() || "gpt-4o-mini",
  };
}

function endpoint(url: string): string {
  const u = url.replace(/\/+$/, "");
  return u.endsWith("/chat/completions") ? u : `${u}/chat/completions`;
}

export function plannerMessages(prompts: readonly string[], o: PlanOptions): { role: string; content: string }[] {
  const system = [
    "You are a film storyboard planner. Turn the user's prompts into a shot list for a short film.",
    "Answer with one JSON object only (no prose, no code fences) that validates against this JSON Schema:",
    JSON.stringify(storyJsonSchema()),
    "Rules: start with an establishing wide shot, then medium shots and close-ups; describe each character once",
    "in `characters` and list the characters each shot shows by name; keep one style line for the whole film;",
    "use continuity `continue` when a shot continues the previous shot's action, `cut` otherwise;",
    `every shot lasts ${o.duration} seconds.`,
  ].join("\n");
  const user = [
    `Prompts, in story order:\n${prompts.map((p, i) => `${i + 1}. ${p}`).join("\n")}`,
    ...(o.title ? [`Title: ${o.title}`] : []),
    ...(o.style ? [`Style line: ${o.style}`] : []),
    ...(o.characters?.length
      ? [`Characters: ${o.characters.map((c) => `${c.name}: ${c.description}`).join("; ")}`]
      : []),
    ...(o.narrate ? [`Give every shot a narration line in language "${o.narrate}".`] : []),
  ].join("\n");
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

/** Plans a story with a language model; the answer must pass the story schema. */
export async function planStoryWithLlm(
  prompts: readonly string[],
  o: PlanOptions,
  cfg: LlmPlannerConfig,
  signal?: AbortSignal,
): Promise<Story> {
  const url = endpoint(cfg.url);
  const timeout = AbortSignal.timeout(cfg.timeoutMs ?? 120_000);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(cfg.key ? { authorization: `Bearer ${cfg.key}` } : {}),
      },
      body: JSON.stringify({
        model: cfg.model,
        messages: plannerMessages(prompts, o),
        temperature: 0,
        response_format: { type: "json_object" },
      }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (e) {
    const why = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ReelError(
      "E_PLANNER",
      `planner endpoint ${url} could not be reached: ${(e as Error).message}${why ? ` (${why.code ?? why.message})` : ""}`,
      { cause: e },
    );
  }
  const body = await res.text();
  if (!res.ok)
    throw new ReelError("E_PLANNER", `planner endpoint ${url} answered ${res.status}: ${body.slice(0, 500)}`);
  let content: unknown;
  try {
    content = (JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
  } catch {
    throw new ReelError("E_PLANNER", `planner endpoint ${url} did not answer JSON: ${body.slice(0, 200)}`);
  }
  if (typeof content !== "string" || !content.trim())
    throw new ReelError("E_PLANNER", `planner endpoint ${url}: no choices[0].message.content in the answer`);
  const text = content
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/```\s*$/, "");
  let story: Story;
  try {
    story = parseStoryText(text, "the language model's plan");
  } catch (e) {
    throw new ReelError("E_PLANNER", (e as Error).message, { cause: e });
  }
  return {
    ...story,
    ...(o.model && !story.model ? { model: o.model } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  };
}
