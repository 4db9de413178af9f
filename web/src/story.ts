/**
 * The story editor: a few prompts → the server's shot list (POST /v1/stories/plan) → edit,
 * reorder, add, remove shots → render (POST /v1/stories) with per-shot progress → play the
 * assembled film; any shot can be re-rendered alone (POST /v1/stories/{id}/shots/{n}/render
 * with the edited plan), the others come from the server's shot cache.
 */
import { getJson, sendJson } from "./api.ts";

const CAMERAS = [
  "static",
  "slow push-in",
  "pull-out",
  "pan left",
  "pan right",
  "tilt up",
  "tilt down",
  "tracking",
  "handheld",
  "orbit",
];

interface Line {
  text: string;
  language: string;
}
interface PlanShot {
  prompt: string;
  duration: number;
  camera: string;
  narration?: Line;
  continuity?: string;
  [k: string]: unknown;
}
interface Plan {
  title: string;
  shots: PlanShot[];
  [k: string]: unknown;
}
interface StoryTask {
  id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: number;
  shots: { index: number; status: string; progress: number }[];
  error: { message: string } | null;
  video_url: string | null;
  storyboard_url: string | null;
  seconds: number | null;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function initStoryEditor(opts: { model: () => string; play: (url: string, caption: string) => void }): void {
  const promptsBox = $<HTMLTextAreaElement>("story-prompts");
  const narrate = $<HTMLSelectElement>("story-narrate");
  const seedInput = $<HTMLInputElement>("story-seed");
  const list = $<HTMLOListElement>("story-shots");
  const status = $<HTMLParagraphElement>("story-status");
  const renderButton = $<HTMLButtonElement>("story-render");
  const addButton = $<HTMLButtonElement>("story-add");
  const board = $<HTMLImageElement>("story-board");
  const bar = $<HTMLProgressElement>("story-progress");
  let plan: Plan | null = null;
  let task: StoryTask | null = null;
  let busy = false;

  const say = (text: string, error = false) => {
    status.textContent = text;
    status.classList.toggle("error", error);
  };

  function field(label: string, input: HTMLElement, id: string): HTMLDivElement {
    const d = document.createElement("div");
    const l = document.createElement("label");
    l.htmlFor = id;
    l.textContent = label;
    input.id = id;
    d.append(l, input);
    return d;
  }

  function button(text: string, label: string, onClick: () => void, disabled = false): HTMLButtonElement {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.disabled = disabled;
    b.addEventListener("click", onClick);
    return b;
  }

  function shotStatus(i: number): string {
    const s = task?.shots[i];
    if (!s || !task) return "";
    if (s.status === "rendering") return `rendering ${s.progress}%`;
    return s.status;
  }

  function draw(focusId?: string): void {
    addButton.disabled = !plan || busy;
    renderButton.disabled = !plan || busy || plan.shots.length === 0;
    if (!plan) {
      list.replaceChildren();
      return;
    }
    const p = plan;
    list.replaceChildren(
      ...p.shots.map((shot, i) => {
        const n = i + 1;
        const li = document.createElement("li");
        li.className = "shot";
        li.dataset.shot = String(n);
        const h = document.createElement("h3");
        h.textContent = `Shot ${n}`;
        const st = document.createElement("span");
        st.className = "shot-status";
        st.textContent = shotStatus(i);
        st.setAttribute("aria-live", "polite");
        h.append(" ", st);
        const text = document.createElement("textarea");
        text.rows = 2;
        text.value = shot.prompt;
        text.addEventListener("input", () => {
          shot.prompt = text.value;
        });
        const dur = document.createElement("input");
        dur.type = "number";
        dur.min = "0.25";
        dur.max = "60";
        dur.step = "0.25";
        dur.value = String(shot.duration);
        dur.addEventListener("change", () => {
          const v = Number(dur.value);
          if (v > 0) shot.duration = v;
        });
        const cam = document.createElement("select");
        for (const c of CAMERAS) {
          const o = document.createElement("option");
          o.value = c;
          o.textContent = c;
          cam.append(o);
        }
        cam.value = shot.camera;
        cam.addEventListener("change", () => {
          shot.camera = cam.value;
        });
        const line = document.createElement("input");
        line.type = "text";
        line.value = shot.narration?.text ?? "";
        line.placeholder = "none";
        line.addEventListener("change", () => {
          const t = line.value.trim();
          if (t) shot.narration = { text: t, language: shot.narration?.language ?? (narrate.value || "en") };
          else delete shot.narration;
        });
        const grid = document.createElement("div");
        grid.className = "grid";
        grid.append(
          field(`Shot ${n} length (s)`, dur, `shot-${n}-duration`),
          field(`Shot ${n} camera`, cam, `shot-${n}-camera`),
          field(`Shot ${n} narration`, line, `shot-${n}-narration`),
        );
        const move = (to: number) => {
          const [s] = p.shots.splice(i, 1);
          p.shots.splice(to, 0, s!);
          fixContinuity(p);
          draw(`shot-${to + 1}-prompt`);
        };
        const actions = document.createElement("div");
        actions.className = "actions";
        actions.append(
          button("Up", `Move shot ${n} up`, () => move(i - 1), i === 0 || busy),
          button("Down", `Move shot ${n} down`, () => move(i + 1), i === p.shots.length - 1 || busy),
          button(
            "Remove",
            `Remove shot ${n}`,
            () => {
              p.shots.splice(i, 1);
              fixContinuity(p);
              draw();
            },
            p.shots.length === 1 || busy,
          ),
          button(
            "Re-render this shot",
            `Re-render shot ${n}`,
            () => void rerender(n),
            task?.status !== "succeeded" || busy,
          ),
        );
        li.append(h, field(`Shot ${n} prompt`, text, `shot-${n}-prompt`), grid, actions);
        return li;
      }),
    );
    if (focusId) document.getElementById(focusId)?.focus();
  }

  /** The first shot cannot continue from a previous one. */
  function fixContinuity(p: Plan): void {
    if (p.shots[0]?.continuity === "continue") p.shots[0].continuity = "cut";
  }

  async function follow(id: string, what: string): Promise<void> {
    busy = true;
    bar.hidden = false;
    draw();
    try {
      for (;;) {
        task = await getJson<StoryTask>(`/v1/stories/${encodeURIComponent(id)}`);
        bar.value = task.progress;
        say(`${what}: ${task.status} ${task.progress}%`);
        draw();
        if (task.status === "succeeded" || task.status === "failed" || task.status === "cancelled") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      if (task.status === "succeeded" && task.video_url) {
        say(`${what}: done, ${task.seconds ?? "?"} s film.`);
        if (task.storyboard_url) {
          board.src = task.storyboard_url;
          board.alt = `Storyboard of “${plan?.title ?? "the story"}”, one frame per shot`;
          board.hidden = false;
        }
        opts.play(task.video_url, `Story: ${plan?.title ?? ""} (${plan?.shots.length ?? 0} shots)`);
      } else say(`${what}: ${task.status}${task.error ? `: ${task.error.message}` : ""}`, true);
    } catch (e) {
      say((e as Error).message, true);
    } finally {
      busy = false;
      bar.hidden = true;
      draw();
    }
  }

  $<HTMLFormElement>("story-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const prompts = promptsBox.value
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    if (prompts.length === 0) {
      say("Write one prompt per line first.", true);
      promptsBox.focus();
      return;
    }
    try {
      const seed = seedInput.value.trim() === "" ? undefined : Number(seedInput.value);
      const r = await sendJson<{ plan: Plan }>("POST", "/v1/stories/plan", {
        prompts,
        model: opts.model(),
        ...(narrate.value ? { narrate: narrate.value } : {}),
        ...(seed !== undefined && Number.isInteger(seed) && seed >= 0 ? { seed } : {}),
      });
      plan = r.plan;
      task = null;
      say(`Planned ${plan.shots.length} shots. Edit them, then render.`);
      draw("shot-1-prompt");
    } catch (e) {
      say((e as Error).message, true);
    }
  });

  addButton.addEventListener("click", () => {
    if (!plan) return;
    const last = plan.shots[plan.shots.length - 1];
    plan.shots.push({
      prompt: "",
      duration: last?.duration ?? 1,
      camera: "static",
      size: "medium",
      transition: "cut",
      continuity: "cut",
      characters: [],
    });
    draw(`shot-${plan.shots.length}-prompt`);
  });

  renderButton.addEventListener("click", async () => {
    if (!plan) return;
    try {
      const t = await sendJson<StoryTask>("POST", "/v1/stories", { plan, model: opts.model() });
      await follow(t.id, "Story");
    } catch (e) {
      say((e as Error).message, true);
    }
  });

  async function rerender(n: number): Promise<void> {
    if (!plan || !task) return;
    try {
      const t = await sendJson<StoryTask>("POST", `/v1/stories/${encodeURIComponent(task.id)}/shots/${n}/render`, {
        plan,
      });
      await follow(t.id, `Shot ${n}`);
    } catch (e) {
      say((e as Error).message, true);
    }
  }

  draw();
}
