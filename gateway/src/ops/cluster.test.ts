import assert from "node:assert/strict";
import cluster from "node:cluster";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { EX_CONFIG, runPrimary } from "./cluster.ts";

it("restarts a worker that dies, and stops with 78 when one finds the config unusable", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gw-cluster-"));
  const runs = join(dir, "runs");
  writeFileSync(runs, "0");
  // The first start dies as a crash would (1); the restart finds the config unusable (78).
  const worker = join(dir, "worker.mjs");
  writeFileSync(
    worker,
    `import { readFileSync, writeFileSync } from "node:fs";
const n = Number(readFileSync(${JSON.stringify(runs)}, "utf8")) + 1;
writeFileSync(${JSON.stringify(runs)}, String(n));
process.exit(n === 1 ? 1 : ${EX_CONFIG});
`,
  );
  cluster.setupPrimary({ exec: worker, silent: true });
  const errors: string[] = [];
  const log = { info() {}, error: (_obj: object, msg: string) => errors.push(msg) };
  assert.equal(await runPrimary(1, log), EX_CONFIG);
  assert.equal(readFileSync(runs, "utf8"), "2", "restarted once after the crash, not after 78");
  assert.equal(errors.length, 2);
});
