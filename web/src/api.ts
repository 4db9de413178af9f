/** Talking to `reel serve`: the API key, authenticated requests, the event stream. */

const KEY = "reel.apiKey";

export function apiKey(): string {
  try {
    return localStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveApiKey(k: string): void {
  if (k) localStorage.setItem(KEY, k);
  else localStorage.removeItem(KEY);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const k = apiKey();
  return k ? { ...extra, authorization: `Bearer ${k}` } : extra;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function failure(r: Response): Promise<HttpError> {
  let msg = `${r.status} ${r.statusText}`;
  try {
    const b = (await r.json()) as { error?: { message?: string; param?: string } };
    if (b.error?.message) msg = b.error.message;
  } catch {
    // not JSON: keep the status line
  }
  if (r.status === 401) msg = `${msg} (enter an API key at the top)`;
  return new HttpError(r.status, msg);
}

export async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) throw await failure(r);
  return (await r.json()) as T;
}

export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { "content-type": "application/json" }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!r.ok) throw await failure(r);
  return (await r.json()) as T;
}

export interface ModelInfo {
  id: string;
  default: boolean;
  resolutions: string[];
  ratios: string[];
  fps: number;
  default_seconds: number;
  max_seconds: number;
  supports_first_frame: boolean;
  supports_last_frame: boolean;
  requires_first_frame: boolean;
}

export interface StudioJob {
  id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: number;
  prompt: string;
  model: string;
  seed: number;
  width: number;
  height: number;
  frames: number;
  fps: number;
  created_at: number;
  error: { code: string; message: string } | null;
  /** Sampling step of the newest latent preview (0: none yet). */
  preview_step: number;
  video_url: string | null;
  thumbnail_url: string | null;
}

export interface StreamHandlers {
  job(j: StudioJob): void;
  gone(id: string): void;
  state(s: "open" | "closed" | "unauthorized", detail?: string): void;
}

/**
 * Reads `GET /studio/events` with fetch (EventSource cannot send a Bearer header) and
 * reconnects after a drop. Returns a function that stops it.
 */
export function openStream(h: StreamHandlers): () => void {
  let stopped = false;
  let ctl: AbortController | null = null;
  const run = async () => {
    while (!stopped) {
      ctl = new AbortController();
      try {
        const r = await fetch("/studio/events", { headers: headers(), signal: ctl.signal });
        if (r.status === 401) {
          h.state("unauthorized", (await failure(r)).message);
          return;
        }
        if (!r.ok || !r.body) throw await failure(r);
        h.state("open");
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut = buf.indexOf("\n\n");
          while (cut >= 0) {
            dispatch(buf.slice(0, cut), h);
            buf = buf.slice(cut + 2);
            cut = buf.indexOf("\n\n");
          }
        }
      } catch (e) {
        if (stopped) return;
        h.state("closed", (e as Error).message);
      }
      if (!stopped) h.state("closed");
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
  return () => {
    stopped = true;
    ctl?.abort();
  };
}

function dispatch(block: string, h: StreamHandlers): void {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return;
  const payload = JSON.parse(data.join("\n")) as unknown;
  if (event === "job") h.job(payload as StudioJob);
  else if (event === "gone") h.gone((payload as { id: string }).id);
}

/** A running task's newest latent preview as an object URL (images cannot send a Bearer header). */
export async function previewUrl(id: string): Promise<string | null> {
  const r = await fetch(`/studio/tasks/${encodeURIComponent(id)}/preview`, { headers: headers() });
  if (!r.ok) return null;
  return URL.createObjectURL(await r.blob());
}
