/** Starting the benchmark's processes and waiting until they listen. */
import { type ChildProcess, fork } from "node:child_process";

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/** Forks a .ts module that reports { port } over IPC once it listens. */
export function startChild(
  module: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {},
): Promise<Child> {
  const child = fork(new URL(module, import.meta.url).pathname, args, {
    execArgv: ["--conditions=source", ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`${module} exited with ${code} before listening`)),
    );
    child.once("message", (message: { port: number }) => {
      child.removeAllListeners("exit");
      resolve({
        process: child,
        pid: child.pid as number,
        port: message.port,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}
