/** The shared JobQueue contract (conformance.ts) against the embedded SQLite backend. */
import { join } from "node:path";
import { afterAll } from "vitest";
import { tempDir } from "../../../test/helpers/tmp.ts";
import { queueConformance } from "./conformance.ts";
import { SqliteQueue } from "./sqlite.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

queueConformance("sqlite", {
  open: async (name, o) => new SqliteQueue(join(tmp.dir, `${name}.db`), o),
  relaysEvents: false,
  skipReason: null,
});
