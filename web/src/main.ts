import "./style.css";
import {
  apiKey,
  getJson,
  type ModelInfo,
  openStream,
  previewUrl,
  type StudioJob,
  saveApiKey,
  sendJson,
} from "./api.ts";
import { initStoryEditor } from "./story.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const form = $<HTMLFormElement>("create");
const prompt = $<HTMLTextAreaElement>("prompt");
const model = $<HTMLSelectElement>("model");
const resolution = $<HTMLSelectElement>("resolution");
const ratio = $<HTMLSelectElement>("ratio");
const duration = $<HTMLInputElement>("duration");
const seed = $<HTMLInputElement>("seed");
const frames = $<HTMLInputElement>("frames");
const cameraFixed = $<HTMLInputElement>("camera-fixed");
const returnLast = $<HTMLInputElement>("return-last");
const firstFrame = $<HTMLInputElement>("first-frame");
const lastFrame = $<HTMLInputElement>("last-frame");
const message = $<HTMLParagraphElement>("message");
const gallery = $<HTMLUListElement>("gallery");
const connection = $<HTMLParagraphElement>("connection");
const player = $<HTMLVideoElement>("player");
const playerCaption = $<HTMLParagraphElement>("player-caption");
const keyInput = $<HTMLInputElement>("api-key");

let models: ModelInfo[] = [];
const jobs = new Map<string, StudioJob>();
/** Latent previews of running tasks: the step shown and its object URL. */
const previews = new Map<string, { step: number; url: string }>();

function dropPreview(id: string): void {
  const p = previews.get(id);
  if (p) URL.revokeObjectURL(p.url);
  previews.delete(id);
}

async function refreshPreview(j: StudioJob): Promise<void> {
  if (j.status !== "running") {
    dropPreview(j.id);
    return;
  }
  const have = previews.get(j.id);
  if (j.preview_step <= 0 || (have && have.step >= j.preview_step)) return;
  const url = await previewUrl(j.id).catch(() => null);
  if (!url) return;
  const now = jobs.get(j.id);
  if (now?.status !== "running") {
    URL.revokeObjectURL(url);
    return;
  }
  dropPreview(j.id);
  previews.set(j.id, { step: j.preview_step, url });
  render();
}

function say(text: string, error = false): void {
  message.textContent = text;
  message.classList.toggle("error", error);
}

function option(value: string, label = value): HTMLOptionElement {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  return o;
}

function fillModelFields(): void {
  const m = models.find((x) => x.id === model.value);
  resolution.replaceChildren(option("", "model default"), ...(m?.resolutions ?? []).map((r) => option(r)));
  ratio.replaceChildren(option("", "model default"), ...(m?.ratios ?? []).map((r) => option(r)));
  if (m) {
    duration.max = String(m.max_seconds);
    duration.placeholder = String(m.default_seconds);
  }
  firstFrame.disabled = m ? !m.supports_first_frame : false;
  lastFrame.disabled = m ? !m.supports_last_frame : false;
  firstFrame.required = m?.requires_first_frame ?? false;
}

async function loadModels(): Promise<void> {
  try {
    models = (await getJson<{ data: ModelInfo[] }>("/studio/models")).data;
    model.replaceChildren(...models.map((m) => option(m.id)));
    const d = models.find((m) => m.default);
    if (d) model.value = d.id;
    fillModelFields();
    if (models.length === 0) say("The server offers no models.", true);
  } catch (e) {
    say(`Cannot load the models: ${(e as Error).message}`, true);
  }
}

function readImage(input: HTMLInputElement): Promise<string | null> {
  const f = input.files?.[0];
  if (!f) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(new Error(`cannot read ${f.name}`));
    r.readAsDataURL(f);
  });
}

function showPreview(input: HTMLInputElement, img: HTMLImageElement): void {
  input.addEventListener("change", async () => {
    const url = await readImage(input).catch(() => null);
    img.hidden = !url;
    if (url) {
      img.src = url;
      img.alt = `${input.labels?.[0]?.textContent ?? "image"}: ${input.files?.[0]?.name ?? ""}`;
    }
  });
}
showPreview(firstFrame, $<HTMLImageElement>("first-preview"));
showPreview(lastFrame, $<HTMLImageElement>("last-preview"));

function whole(input: HTMLInputElement): number | undefined {
  if (input.value.trim() === "") return undefined;
  const n = Number(input.value);
  if (!Number.isInteger(n)) throw new Error(`${input.labels?.[0]?.textContent ?? input.id}: a whole number`);
  return n;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = prompt.value.trim();
  if (!text) {
    say("Write a prompt first.", true);
    prompt.focus();
    return;
  }
  const button = $<HTMLButtonElement>("generate");
  button.disabled = true;
  try {
    const first = await readImage(firstFrame);
    const last = await readImage(lastFrame);
    const content: unknown[] = [{ type: "text", text }];
    if (first) content.push({ type: "image_url", image_url: { url: first }, role: "first_frame" });
    if (last) content.push({ type: "image_url", image_url: { url: last }, role: "last_frame" });
    const f = whole(frames);
    const d = whole(duration);
    const s = whole(seed);
    const body = {
      model: model.value,
      content,
      ...(resolution.value ? { resolution: resolution.value } : {}),
      ...(ratio.value ? { ratio: ratio.value } : {}),
      ...(f !== undefined ? { frames: f } : d !== undefined ? { duration: d } : {}),
      ...(s !== undefined ? { seed: s } : {}),
      ...(cameraFixed.checked ? { camera_fixed: true } : {}),
      ...(returnLast.checked ? { return_last_frame: true } : {}),
    };
    const { id } = await sendJson<{ id: string }>("POST", "/api/v3/contents/generations/tasks", body);
    say(`Queued ${id}.`);
  } catch (e) {
    say((e as Error).message, true);
  } finally {
    button.disabled = false;
  }
});

const STATUS_TEXT: Record<StudioJob["status"], string> = {
  queued: "Queued",
  running: "Generating",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

function play(j: StudioJob): void {
  if (!j.video_url) return;
  player.src = j.video_url;
  if (j.thumbnail_url) player.poster = j.thumbnail_url;
  playerCaption.textContent = `${j.prompt} — ${j.width}×${j.height}, ${j.frames} frames at ${j.fps} fps, seed ${j.seed}`;
  player.focus();
  void player.play().catch(() => {
    // autoplay may be refused; the controls are there
  });
}

function card(j: StudioJob): HTMLLIElement {
  const li = document.createElement("li");
  li.className = `card ${j.status}`;
  li.dataset.id = j.id;
  const title = document.createElement("p");
  title.className = "prompt";
  title.textContent = j.prompt;
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = `${j.model} · ${j.width}×${j.height} · ${j.frames} frames · seed ${j.seed}`;
  const status = document.createElement("p");
  status.className = "status";
  status.textContent =
    j.status === "running" || j.status === "queued"
      ? `${STATUS_TEXT[j.status]} ${j.progress}%`
      : j.status === "failed" && j.error
        ? `Failed: ${j.error.message}`
        : STATUS_TEXT[j.status];
  li.append(title, meta, status);
  if (j.status === "queued" || j.status === "running") {
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = j.progress;
    bar.setAttribute("aria-label", `Progress of “${j.prompt.slice(0, 60)}”`);
    li.append(bar);
  }
  const pv = previews.get(j.id);
  if (j.status === "running" && pv) {
    const img = document.createElement("img");
    img.className = "thumb preview";
    img.src = pv.url;
    img.alt = `Latent preview at sampling step ${pv.step} of “${j.prompt.slice(0, 80)}”`;
    li.append(img);
  }
  if (j.thumbnail_url) {
    const img = document.createElement("img");
    img.className = "thumb";
    img.src = j.thumbnail_url;
    img.alt = `First frame of “${j.prompt.slice(0, 80)}”`;
    li.append(img);
  }
  const actions = document.createElement("div");
  actions.className = "actions";
  if (j.status === "succeeded" && j.video_url) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "primary";
    b.textContent = "Play";
    b.setAttribute("aria-label", `Play “${j.prompt.slice(0, 60)}”`);
    b.addEventListener("click", () => play(j));
    const a = document.createElement("a");
    a.href = j.video_url;
    a.download = `${j.id}.mp4`;
    a.textContent = "Download";
    actions.append(b, a);
  }
  const running = j.status === "queued" || j.status === "running";
  const del = document.createElement("button");
  del.type = "button";
  del.textContent = running ? "Cancel" : "Delete";
  del.setAttribute("aria-label", `${del.textContent} “${j.prompt.slice(0, 60)}”`);
  del.addEventListener("click", async () => {
    try {
      await sendJson("DELETE", `/api/v3/contents/generations/tasks/${encodeURIComponent(j.id)}`);
      say(running ? "Cancelling…" : "Deleted.");
    } catch (e) {
      say((e as Error).message, true);
    }
  });
  actions.append(del);
  li.append(actions);
  return li;
}

function render(): void {
  const list = [...jobs.values()].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
  const focused = document.activeElement?.closest?.("li")?.dataset.id;
  gallery.replaceChildren(...list.map(card));
  if (list.length === 0) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "No videos yet.";
    gallery.append(li);
  }
  if (focused) gallery.querySelector<HTMLElement>(`li[data-id="${CSS.escape(focused)}"] button`)?.focus();
}

let stop: (() => void) | null = null;
function connect(): void {
  stop?.();
  jobs.clear();
  for (const id of [...previews.keys()]) dropPreview(id);
  render();
  stop = openStream({
    job(j) {
      const before = jobs.get(j.id);
      jobs.set(j.id, j);
      void refreshPreview(j);
      if (before && before.status !== "succeeded" && j.status === "succeeded") say(`Done: ${j.prompt}`);
      render();
    },
    gone(id) {
      jobs.delete(id);
      dropPreview(id);
      render();
    },
    state(s, detail) {
      connection.textContent =
        s === "open" ? "Live" : s === "unauthorized" ? (detail ?? "API key needed") : "Reconnecting…";
      connection.classList.toggle("error", s !== "open");
    },
  });
}

$<HTMLFormElement>("key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  saveApiKey(keyInput.value.trim());
  say(keyInput.value.trim() ? "API key saved in this browser." : "API key removed.");
  void loadModels();
  connect();
});
keyInput.value = apiKey();
model.addEventListener("change", fillModelFields);

initStoryEditor({
  model: () => model.value,
  play(url, caption) {
    player.removeAttribute("poster");
    player.src = url;
    playerCaption.textContent = caption;
    player.focus();
    void player.play().catch(() => {
      // autoplay may be refused; the controls are there
    });
  },
});

void loadModels();
connect();
