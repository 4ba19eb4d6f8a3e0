/**
 * Starts a real gateway on 127.0.0.1:0 for a test, with its log lines
 * captured so tests can assert on the access log.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { validateConfig } from "../../src/config/config.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";

export interface TestGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly port: number;
  /** Parsed JSON log lines, in order. */
  readonly logs: Array<Record<string, unknown>>;
  /** Raw log text (to assert that secrets never appear). */
  logText(): string;
  close(): Promise<void>;
}

/** Raw config (as in YAML) → a listening gateway. */
export async function startGateway(
  raw: Record<string, unknown>,
  baseDir = process.cwd(),
): Promise<TestGateway> {
  const logs: Array<Record<string, unknown>> = [];
  let text = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const s = chunk.toString();
      text += s;
      for (const line of s.split("\n"))
        if (line !== "") logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const config = validateConfig({ listen: { host: "127.0.0.1", port: 0 }, ...raw }, baseDir);
  const gateway = await createGateway(config, { logger: pino({ level: "debug" }, sink) });
  const { url, port } = await gateway.listen();
  return { gateway, url, port, logs, logText: () => text, close: () => gateway.close() };
}

/** Access lines (one per call). */
export function callLines(
  logs: ReadonlyArray<Record<string, unknown>>,
): Array<Record<string, unknown>> {
  return logs.filter((l) => l.msg === "call");
}
