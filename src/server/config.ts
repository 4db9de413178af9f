/**
 * `reel serve` settings: flags and environment, validated once at start.
 *
 * Environment: REEL_API_KEYS (comma-separated Bearer keys), REEL_API_KEYS_FILE (one key a
 * line, # comments), REEL_MODEL_ALIASES (`sora-2=reel-toy,...`), REEL_URL_ALLOW (`host:port`
 * pairs that image_url / callback_url may reach even when private), REEL_OUTPUT_TTL_S (24 h),
 * REEL_LEASE_MS (job lease, 30 s), REEL_DEFAULT_MODEL, REEL_RATE_LIMIT (POST requests per key
 * per minute; unset or 0: no limit).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { ReelError } from "../errors.ts";

export interface Limits {
  /** JSON request body. */
  readonly maxBodyBytes: number;
  /** Multipart upload (OpenAI input_reference). */
  readonly maxUploadBytes: number;
  readonly maxPromptChars: number;
  readonly maxImages: number;
  readonly maxImageBytes: number;
  readonly maxImageSide: number;
  readonly fetchTimeoutMs: number;
  /** `host:port` pairs allowed for outbound URLs though private. */
  readonly allowHosts: readonly string[];
  /** Frame cap for models that declare none. */
  readonly maxFrames: number;
  /** Queued + running tasks per key (Ark: 120 queued per account). */
  readonly maxQueuedPerKey: number;
  /** POST requests per key per minute (creates, remixes, plans, re-renders); 0: no limit. */
  readonly postsPerMinute: number;
}

export interface ApiKey {
  /** Stable owner id: a hash of the key (the key itself is never stored). */
  readonly owner: string;
  readonly key: string;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly workers: number;
  readonly queueUrl?: string;
  readonly keys: readonly ApiKey[];
  readonly limits: Limits;
  readonly outputTtlMs: number;
  readonly leaseMs: number;
  readonly aliases: Readonly<Record<string, string>>;
  readonly defaultModel: string;
  /** Threads per worker's ONNX sessions (default: ORT's). */
  readonly threads?: number;
  /** Seconds to let running jobs finish on SIGTERM before re-queuing them. */
  readonly graceMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 8 << 20,
  maxUploadBytes: 12 << 20,
  maxPromptChars: 4000,
  maxImages: 3,
  maxImageBytes: 5 << 20,
  maxImageSide: 4096,
  fetchTimeoutMs: 10_000,
  allowHosts: [],
  maxFrames: 121,
  maxQueuedPerKey: 120,
  postsPerMinute: 0,
};

export function ownerOf(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 24);
}

export function loadKeys(env: NodeJS.ProcessEnv): ApiKey[] {
  const raw: string[] = [];
  if (env.REEL_API_KEYS) raw.push(...env.REEL_API_KEYS.split(","));
  if (env.REEL_API_KEYS_FILE) {
    if (!existsSync(env.REEL_API_KEYS_FILE))
      throw new ReelError("E_CONFIG_INVALID", `REEL_API_KEYS_FILE ${env.REEL_API_KEYS_FILE} does not exist`);
    raw.push(
      ...readFileSync(env.REEL_API_KEYS_FILE, "utf8")
        .split("\n")
        .filter((l) => !l.trim().startsWith("#")),
    );
  }
  const keys = [...new Set(raw.map((k) => k.trim()).filter(Boolean))];
  for (const k of keys)
    if (k.length < 16 || !/^[\x21-\x7e]+$/.test(k))
      throw new ReelError("E_CONFIG_INVALID", "API keys must be at least 16 printable characters without spaces");
  return keys.map((key) => ({ key, owner: ownerOf(key) }));
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  const h = host.replace(/^\[|\]$/g, "");
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1";
  return false;
}

/** With no keys, the API is open: allowed only on loopback. */
export function checkBind(host: string, keys: readonly ApiKey[]): void {
  if (keys.length === 0 && !isLoopback(host))
    throw new ReelError(
      "E_CONFIG_INVALID",
      `refusing to serve on ${host} without API keys: anyone who can reach it could use it. ` +
        "Set REEL_API_KEYS (comma-separated) or REEL_API_KEYS_FILE, or bind to 127.0.0.1.",
    );
}

export function parseAliases(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? "").split(",").filter((p) => p.trim())) {
    const [a, b] = part.split("=").map((x) => x.trim());
    if (!a || !b) throw new ReelError("E_CONFIG_INVALID", `REEL_MODEL_ALIASES: "${part}" is not alias=model`);
    out[a] = b;
  }
  return out;
}
