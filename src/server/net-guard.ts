/**
 * Outbound HTTP for user-given URLs (image_url, callback_url) without server-side request
 * forgery: the host name is resolved first, every address is checked against loopback,
 * private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast and reserved
 * ranges, and the connection goes to the checked address (so a second DNS answer cannot
 * swap it). Redirects are followed by hand, each hop checked the same way. Sizes and times
 * are bounded. `allow` lists `host:port` pairs that may be private (tests, an internal bucket).
 */
import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP } from "node:net";

export class UrlRefused extends Error {
  constructor(
    message: string,
    readonly status: "refused" | "failed" | "too_large" | "timeout",
  ) {
    super(message);
  }
}

const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
  ["64:ff9b::", 96],
] as const)
  blocked.addSubnet(net, bits, "ipv6");

/** True for addresses a server must not reach on a user's behalf. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return blocked.check(ip, "ipv4");
  if (v === 6) {
    const lower = ip.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return blocked.check(mapped[1]!, "ipv4");
    return blocked.check(lower, "ipv6");
  }
  return true;
}

export interface GuardOptions {
  /** `host:port` entries allowed even when private. */
  readonly allow?: readonly string[];
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly maxRedirects?: number;
}

async function resolveChecked(u: URL, o: GuardOptions): Promise<string> {
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  const allowed = o.allow?.includes(`${host}:${port}`) ?? false;
  const addrs = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  if (addrs.length === 0) throw new UrlRefused(`${host}: no address`, "failed");
  if (!allowed)
    for (const a of addrs)
      if (isPrivateAddress(a))
        throw new UrlRefused(
          `${u.protocol}//${u.host}: resolves to ${a}, a loopback, private, link-local or reserved address; reel does not fetch those`,
          "refused",
        );
  return addrs[0]!;
}

export interface GuardedResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly url: string;
}

function once(
  u: URL,
  address: string,
  o: GuardOptions,
  method: string,
  body: Buffer | undefined,
  headers: Record<string, string>,
  deadline: number,
): Promise<GuardedResponse> {
  return new Promise((resolve, reject) => {
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.request({
      host: address,
      port: u.port || (u.protocol === "https:" ? 443 : 80),
      path: `${u.pathname}${u.search}`,
      method,
      headers: { ...headers, host: u.host, ...(body ? { "content-length": String(body.length) } : {}) },
      servername: isIP(u.hostname) ? undefined : u.hostname,
      timeout: Math.max(1, deadline - Date.now()),
    });
    const timer = setTimeout(
      () => req.destroy(new UrlRefused(`${u.origin}: no answer within ${o.timeoutMs} ms`, "timeout")),
      Math.max(1, deadline - Date.now()),
    );
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e instanceof UrlRefused ? e : new UrlRefused(`${u.origin}: ${e.message}`, "failed"));
    });
    req.on("response", (res) => {
      const declared = Number(res.headers["content-length"] ?? 0);
      if (declared > o.maxBytes) {
        clearTimeout(timer);
        res.destroy();
        reject(new UrlRefused(`${u.origin}: ${declared} bytes is more than the ${o.maxBytes} allowed`, "too_large"));
        return;
      }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on("data", (c: Buffer) => {
        n += c.length;
        if (n > o.maxBytes) {
          clearTimeout(timer);
          res.destroy();
          reject(new UrlRefused(`${u.origin}: more than the ${o.maxBytes} bytes allowed`, "too_large"));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url: u.href });
      });
      res.on("error", (e) => {
        clearTimeout(timer);
        reject(new UrlRefused(`${u.origin}: ${e.message}`, "failed"));
      });
    });
    req.end(body);
  });
}

/** GET or POST a user-given http(s) URL under the guard; follows up to maxRedirects redirects (GET only). */
export async function guardedRequest(
  url: string,
  o: GuardOptions,
  init: { method?: "GET" | "POST"; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<GuardedResponse> {
  const deadline = Date.now() + o.timeoutMs;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UrlRefused(`${url.slice(0, 80)}: not a URL`, "refused");
  }
  const method = init.method ?? "GET";
  for (let hop = 0; ; hop++) {
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new UrlRefused(`${u.protocol} URLs are not fetched; use http(s) or data:`, "refused");
    if (u.username || u.password) throw new UrlRefused("URLs with credentials are not fetched", "refused");
    const address = await resolveChecked(u, o);
    const r = await once(u, address, o, method, init.body, init.headers ?? {}, deadline);
    const loc = r.headers.location;
    if (method === "GET" && r.status >= 300 && r.status < 400 && loc) {
      if (hop >= (o.maxRedirects ?? 3)) throw new UrlRefused(`${url}: too many redirects`, "failed");
      u = new URL(loc, u);
      continue;
    }
    return r;
  }
}
