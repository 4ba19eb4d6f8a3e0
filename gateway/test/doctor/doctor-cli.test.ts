// `grpc-edge-gateway doctor` as operators and scripts run it: the bin, its
// flags, the checklist or JSON on stdout, exit code 0, 1 or 64, and the
// token never printed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { doctorCommand } from "../../src/doctor/command.ts";
import type { DoctorReport } from "../../src/doctor/report.ts";
import { APP_ORIGIN, type DoctorFixture, NOTES, startDoctorFixture } from "./fixture.ts";

const BIN = new URL("../../bin/grpc-edge-gateway.js", import.meta.url).pathname;

function doctor(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(BIN, ["doctor", ...args], {
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("grpc-edge-gateway doctor (the CLI)", () => {
  let fx: DoctorFixture;
  let config: string;
  let token: string;

  before(async () => {
    fx = await startDoctorFixture();
    config = fx.write(fx.config({ cors: { allowedOrigins: [APP_ORIGIN] } }), "cli.yaml");
    token = await fx.idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 600 });
  });
  after(async () => {
    await fx?.close();
  });

  it("exits 0 when every check passes; --json prints the report for scripts", async () => {
    const tokenFile = join(fx.dir, "token.txt");
    writeFileSync(tokenFile, `${token}\n`);
    const args = ["--config", config, "--token-file", tokenFile, "--origin", APP_ORIGIN];
    const { code, stdout } = await doctor([...args, "--method", `${NOTES}/GetNote`, "--json"]);
    assert.equal(code, 0, stdout);
    const report = JSON.parse(stdout) as DoctorReport;
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.steps.map((s) => s.step),
      [1, 2, 3, 4, 5, 6],
    );
    assert.ok(!stdout.includes(token), "the token is never printed");
  });

  it("exits 1 with a checklist whose failures carry a fix and the reason", async () => {
    const { code, stdout } = await doctor([
      "--config",
      config,
      "--token",
      token,
      "--origin",
      "https://evil.example.com",
      "--method",
      `${NOTES}/DeleteNote`,
    ]);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^1\. config/m);
    assert.match(
      stdout,
      /\[FAIL\] origin https:\/\/evil\.example\.com: .*\[cors_origin_not_allowed\]\n\s+fix: /,
    );
    assert.match(stdout, /\[FAIL\] scopes for .*\[insufficient_scope\]\n\s+fix: /);
    assert.ok(!stdout.includes(token), "the token is never printed");
  });

  it("exits 64 on a usage error", async () => {
    let stderr = "";
    const run = (args: string[]) =>
      doctorCommand(
        args,
        {},
        { write() {} },
        {
          write(text) {
            stderr += text;
          },
        },
      );
    assert.equal(await run(["--config", config, "--token", "a", "--token-file", "b"]), 64);
    assert.match(stderr, /not both/);
    assert.equal(await run(["--config", config, "--origin", "https://app.example.com/page"]), 64);
    assert.equal(await run(["--config", config, "--gateway", "ftp://gw"]), 64);
    assert.equal(await run(["--config", config, "--verbose"]), 64);
  });
});
