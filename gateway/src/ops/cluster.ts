/**
 * `workers: N`: one gateway per core with Node's cluster module. The primary
 * only supervises: it forks the workers (which share the listening port),
 * restarts one that dies, forwards SIGTERM/SIGINT so each drains its calls,
 * and answers /metrics requests with the sum over all workers. A worker that
 * exits 78 (EX_CONFIG) found the config unusable: a restart would fail the
 * same way, so the primary stops every worker and exits 78 itself.
 */
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

/** sysexits.h EX_CONFIG: the CLI's exit code for a config it cannot use. */
export const EX_CONFIG = 78;

const METRICS_REQUEST = "grpc-edge:metrics-request";
const METRICS_RESPONSE = "grpc-edge:metrics-response";

interface MetricsMessage {
  readonly type: string;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

export interface PrimaryLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Runs the primary; resolves with the exit code once every worker has exited after a signal. */
export function runPrimary(workers: number, log: PrimaryLog): Promise<number> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let restarts = 0;
  cluster.on("message", (worker: Worker, message: MetricsMessage) => {
    if (message?.type !== METRICS_REQUEST) return;
    const reply = (answer: Omit<MetricsMessage, "type" | "id">) => {
      // The asking worker may have exited meanwhile.
      if (worker.isConnected())
        worker.send({ type: METRICS_RESPONSE, id: message.id, ...answer }, () => {});
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: Error) => reply({ error: err.message }),
    );
  });
  let stopWith: ((signal: NodeJS.Signals, code: number) => void) | undefined;
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    if (code === EX_CONFIG) {
      log.error(
        { pid: worker.process.pid, code },
        "gateway worker found the config unusable; stopping the other workers",
      );
      stopWith?.("SIGTERM", EX_CONFIG);
      return;
    }
    restarts++;
    const delayMs = Math.min(10_000, 100 * 2 ** Math.min(restarts, 7));
    log.error(
      { pid: worker.process.pid, code, signal, restartInMs: delayMs },
      "gateway worker exited; restarting it",
    );
    setTimeout(() => cluster.fork(), delayMs).unref();
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  log.info({ workers }, "gateway primary started its workers");
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals, exitCode: number) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "stopping workers: each drains its calls in flight");
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
      const check = () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
        else setTimeout(check, 50);
      };
      check();
    };
    stopWith = stop;
    process.once("SIGTERM", () => stop("SIGTERM", 0));
    process.once("SIGINT", () => stop("SIGINT", 0));
  });
}

/**
 * In a worker: lets the primary collect this worker's registry, and returns
 * a function that fetches the metrics of the whole cluster through the primary.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries(registry);
  // Constructing one installs prom-client's worker-side listener that answers the primary.
  new AggregatorRegistry();
  let nextId = 0;
  const pending = new Map<
    number,
    { resolve: (text: string) => void; reject: (err: Error) => void }
  >();
  process.on("message", (message: MetricsMessage) => {
    if (message?.type !== METRICS_RESPONSE) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.text ?? "");
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      process.send?.({ type: METRICS_REQUEST, id });
      setTimeout(() => {
        if (pending.delete(id)) reject(new Error("the cluster primary did not answer for metrics"));
      }, 5000).unref();
    });
}

export const isClusterWorker = (): boolean => cluster.isWorker;
export const isClusterPrimary = (): boolean => cluster.isPrimary;
