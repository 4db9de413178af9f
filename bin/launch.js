// Starts a TypeScript entry point of reel under tsx. Re-executes node once with
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1 when it is not set: page faults are very costly in
// VMs and large inference buffers fault on every call without it (see README, Performance).
import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

export async function launch(entry, args) {
  if (process.env.GLIBC_TUNABLES === undefined && process.env.REEL_NO_REEXEC === undefined) {
    const env = {
      ...process.env,
      GLIBC_TUNABLES: "glibc.malloc.hugetlb=1",
      REEL_NO_REEXEC: "1",
      REEL_LAUNCHER_PID: String(process.pid),
    };
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
  watchLauncher();
  const { register } = await import("tsx/esm/api");
  register();
  process.argv = [process.argv[0], entry, ...args];
  await import(pathToFileURL(entry).href);
}

// The re-executed child: if the launcher dies without forwarding a signal (kill -9, a crashed
// terminal), stop the same way SIGTERM does instead of running on as an orphan.
function watchLauncher() {
  const launcher = Number(process.env.REEL_LAUNCHER_PID);
  if (!launcher) return;
  delete process.env.REEL_LAUNCHER_PID; // not inherited by this process's own children
  const timer = setInterval(() => {
    if (process.ppid !== launcher) {
      clearInterval(timer);
      process.kill(process.pid, "SIGTERM");
    }
  }, 1000);
  timer.unref();
}

// Direct use: node bin/launch.js <entry.ts> [args...]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, ...args] = process.argv.slice(2);
  await launch(entry, args);
}
