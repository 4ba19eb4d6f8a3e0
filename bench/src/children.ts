/** Starting the benchmark's processes and waiting until they listen. */
import { type ChildProcess, fork } from "node:child_process";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { type DevPki, ensureDevPki } from "@grpc-edge/example-upstream";
import { GATEWAY_NODE_FLAGS } from "../../gateway/src/ops/node-flags.ts";
import { buildGoUpstream, spawnGoUpstream } from "./go-upstream.ts";
import type { LoadResult, LoadSpec } from "./load-generator.ts";

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/** The handle for a started child listening on `port`: stop() sends SIGTERM and waits for its exit. */
export function runningChild(child: ChildProcess, port: number): Child {
  return {
    process: child,
    pid: child.pid as number,
    port,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}

/** Forks a .ts module that reports { port } over IPC once it listens. */
export function startChild(
  module: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; stdout?: boolean } = {},
): Promise<Child> {
  const child = fork(new URL(module, import.meta.url).pathname, args, {
    execArgv: ["--conditions=source", ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    // stdout: V8's traces (--trace-gc, --trace-deopt, ...) print there.
    stdio: ["ignore", options.stdout ? "inherit" : "ignore", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`${module} exited with ${code} before listening`)),
    );
    child.once("message", (message: { port: number }) => {
      child.removeAllListeners("exit");
      resolve(runningChild(child, message.port));
    });
  });
}

/**
 * A gateway in its own process (gateway-process.ts, or another checkout's
 * copy of it), with the Node flags the CLI runs with, then `execArgv`
 * (which may override them).
 */
export const startGateway = (
  config: string,
  options: {
    /** Node options after the CLI's flags (which they may override). */
    execArgv?: string[];
    /** Another checkout's gateway-process.ts (for --baseline). */
    module?: string;
    /** The gateway's stdout on the bench's (V8 traces print there). */
    stdout?: boolean;
  } = {},
): Promise<Child> =>
  startChild(options.module ?? "./gateway-process.ts", [config], {
    execArgv: [...GATEWAY_NODE_FLAGS, ...(options.execArgv ?? [])],
    stdout: options.stdout ?? false,
  });

/** Which echo upstream the bench calls: Node's http2 (default) or grpc-go. */
export type UpstreamKind = "node" | "go";

/** The benchmark's echo upstream (HTTP/2 + mTLS) with a dev PKI in `dir`/pki. */
export async function startEchoUpstream(
  dir: string,
  kind: UpstreamKind = "node",
): Promise<{ pki: DevPki; upstream: Child; upstreamUrl: string }> {
  const pki = await ensureDevPki({ dir: join(dir, "pki"), log: () => {} });
  const go = kind === "go" ? await spawnGoUpstream(buildGoUpstream(dir), pki) : undefined;
  const upstream =
    go !== undefined
      ? runningChild(go.child, go.port)
      : await startChild("./echo-upstream.ts", [pki.caFile, pki.serverCertFile, pki.serverKeyFile]);
  return { pki, upstream, upstreamUrl: `https://127.0.0.1:${upstream.port}` };
}

/** One run of the Node load generator, in a process of its own. */
export function runNodeLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = fork(new URL("./load-generator.ts", import.meta.url).pathname, [], {
    execArgv: ["--conditions=source"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    let result: LoadResult | undefined;
    child.once("message", (r: LoadResult) => {
      result = r;
    });
    // Resolve once the child has exited (and been reaped), so that its CPU
    // time shows in this process's ended-children time (endedChildrenCpuMs).
    child.once("exit", (code) =>
      result === undefined
        ? reject(new Error(`load generator exited with ${code} and no result`))
        : resolve(result),
    );
    child.once("error", reject);
    child.send(spec);
  });
}

/** A port free on 127.0.0.1 now, for programs that cannot report the one they bound. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts connections; fails if `child` exits first. */
export async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gateway did not listen on ${port}`);
}
