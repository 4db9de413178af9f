/** The outbound URL guard: address classes, DNS names resolving to loopback, redirects, allow list, size limit. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardedRequest, isPrivateAddress } from "./net-guard.ts";

describe("isPrivateAddress", () => {
  it.each([
    ["127.0.0.1", true],
    ["10.0.0.5", true],
    ["172.20.1.1", true],
    ["192.168.1.1", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["::1", true],
    ["::", true],
    ["fe80::1", true],
    ["fd00:ec2::254", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:10.0.0.1", true],
    ["8.8.8.8", false],
    ["93.184.216.34", false],
    ["2606:4700::1111", false],
    ["::ffff:8.8.8.8", false],
    ["not-an-ip", true],
  ])("%s → %s", (ip, want) => expect(isPrivateAddress(ip)).toBe(want));
});

describe("guardedRequest", () => {
  let target: Server;
  let hits = 0;
  let p = 0;
  beforeAll(async () => {
    target = createServer((req, res) => {
      hits++;
      if (req.url === "/redirect") {
        res.writeHead(302, { location: "http://localhost:1/x" });
        return res.end();
      }
      res.end(req.url === "/big" ? Buffer.alloc(5000) : "ok");
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", () => r()));
    p = (target.address() as AddressInfo).port;
  });
  afterAll(() => target.close());
  const o = { maxBytes: 1000, timeoutMs: 5000 };

  it("refuses loopback by IP and by a name that resolves to it, without connecting", async () => {
    await expect(guardedRequest(`http://127.0.0.1:${p}/`, o)).rejects.toMatchObject({ status: "refused" });
    await expect(guardedRequest(`http://localhost:${p}/`, o)).rejects.toMatchObject({ status: "refused" });
    await expect(guardedRequest("file:///etc/passwd", o)).rejects.toMatchObject({ status: "refused" });
    expect(hits).toBe(0);
  });

  it("fetches an allowed host, checks every redirect hop, and bounds the size", async () => {
    const allow = { ...o, allow: [`127.0.0.1:${p}`] };
    expect((await guardedRequest(`http://127.0.0.1:${p}/`, allow)).body.toString()).toBe("ok");
    await expect(guardedRequest(`http://127.0.0.1:${p}/redirect`, allow)).rejects.toMatchObject({ status: "refused" });
    await expect(guardedRequest(`http://127.0.0.1:${p}/big`, allow)).rejects.toMatchObject({ status: "too_large" });
    expect(hits).toBe(3);
  });
});
