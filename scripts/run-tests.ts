// Runs every workspace's tests through turbo, streams their output, and ends
// with one total line ("tests: N passed, N failed") summed from each node
// test runner's own summary, so a run that executed nothing is visible.
import { spawn } from "node:child_process";

const child = spawn(
  "npx",
  ["--no-install", "turbo", "run", "test", "--concurrency=1", "--output-logs=full"],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
let passed = 0;
let failed = 0;
let skipped = 0;
let buffered = "";
child.stdout.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk);
  buffered += chunk.toString();
  const lines = buffered.split("\n");
  buffered = lines.pop() ?? "";
  for (const line of lines) {
    const match = /ℹ (pass|fail|skipped) (\d+)\s*$/.exec(line);
    if (match === null) continue;
    const n = Number(match[2]);
    if (match[1] === "pass") passed += n;
    else if (match[1] === "fail") failed += n;
    else skipped += n;
  }
});
child.on("exit", (code) => {
  process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exitCode = code !== 0 ? (code ?? 1) : passed === 0 ? 1 : 0;
});
