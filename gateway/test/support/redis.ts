/**
 * A real redis-server (Debian's package, installed by the test prerequisites)
 * on 127.0.0.1 and a free port, without persistence, stopped by the test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "./ports.ts";

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (a Redis outage); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = server;
    await new Promise<void>((resolve, reject) => {
      let output = "";
      server.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) resolve();
      });
      server.once("error", reject);
      server.once("exit", (code) =>
        reject(new Error(`redis-server exited with ${code}: ${output}`)),
      );
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      const running = child;
      child = undefined;
      if (running === undefined || running.exitCode !== null) return;
      await new Promise((resolve) => {
        running.once("exit", resolve);
        running.kill("SIGKILL");
      });
    },
    start,
  };
}
