// Starts a TypeScript entry point of reel under tsx. Re-executes node once with
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1 when it is not set: page faults are very costly in
// VMs and large inference buffers fault on every call without it (see README, Performance).
import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

export async function launch(entry, args) {
  if (process.env.GLIBC_TUNABLES === undefined && process.env.REEL_NO_REEXEC === undefined) {
    const env = { ...process.env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=1", REEL_NO_REEXEC: "1" };
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), entry, ...args], {
      stdio: "inherit",
      env,
    });
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
    child.on("exit", (code, signal) => {
      if (signal) process.kill(process.pid, signal);
      else process.exit(code ?? 1);
    });
    return;
  }
  const { register } = await import("tsx/esm/api");
  register();
  process.argv = [process.argv[0], entry, ...args];
  await import(pathToFileURL(entry).href);
}

// Direct use: node bin/launch.js <entry.ts> [args...]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, ...args] = process.argv.slice(2);
  await launch(entry, args);
}
