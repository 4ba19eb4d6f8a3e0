/**
 * Prometheus metrics (prom-client) for what an operator asks first: calls
 * by method and status, latency, bytes, auth failures by reason, streams in
 * flight, upstream sessions; and prom-client's default process metrics.
 * Label values come from a bounded set: methods the gateway cannot route
 * are counted as "unknown", and past MAX_METHOD_LABELS distinct methods as
 * "other", so a client cannot grow the series without limit.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { authReasons } from "../errors.ts";
import { codeName } from "../grpc-web/grpc-status.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import { bufferReclaims } from "./buffer-reclaim.ts";
import { BucketCounts, routeHistogram } from "./route-histogram.ts";

const MAX_METHOD_LABELS = 2000;

export interface CallMetric {
  readonly service: string;
  readonly method: string;
  /** Whether the call reached the relay (and so counted as active). */
  readonly relayed: boolean;
  readonly grpcStatus: number;
  readonly reason: string | undefined;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** A call reached the relay; service and method as labels() returned them. */
  callStarted(service: string, method: string): void;
  callFinished(call: CallMetric): void;
  /** Counts a JWKS fetch attempt for an issuer. */
  jwksFetched(issuer: string, ok: boolean): void;
  /** Counts a CORS preflight the gateway refused, by reason. */
  preflightRefused(reason: string): void;
  /** The route labels for a method, bounded (see above). */
  labels(service: string, method: string): { service: string; method: string };
}

const AUTH_REASONS: ReadonlySet<string> = new Set(authReasons);

/** GC pauses run from ~1 ms (scavenges) to tens of ms (full collections). */
const GC_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

let processRegistry: Registry | undefined;

/**
 * prom-client's default process metrics (CPU, RSS, heap spaces, GC pauses
 * by kind, event-loop lag, handles), collected once per process however
 * many gateways it runs: each collector installs a GC observer and an
 * event-loop monitor that live as long as the process.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({
      register: processRegistry,
      gcDurationBuckets: GC_BUCKETS,
      // A coarser lag sample: the default's frequent timer costs unary calls
      // CPU (bench/RESULTS.md, "Node flags and per-call settings").
      eventLoopMonitoringPrecision: 100,
    });
    new Counter({
      name: "grpc_edge_buffer_reclaims_total",
      help: "Minor GCs the gateway asked V8 for because socket buffers piled up (memory.reclaimAfterBytes)",
      registers: [processRegistry],
      collect() {
        this.reset();
        this.inc(bufferReclaims());
      },
    });
  }
  return processRegistry;
}

/** One route's call figures, kept as numbers on the call path. */
interface RouteCounts {
  readonly labels: { readonly service: string; readonly method: string };
  /** Calls without a gateway reason, by gRPC code. */
  readonly outcomes: Map<number, number>;
  /** Calls the gateway ended with a reason, by code and reason. */
  readonly refusals: Map<string, { readonly code: string; readonly reason: string; n: number }>;
  active: number;
  /** A call of this route reached the relay (so it has an active-calls series). */
  relayed: boolean;
  bytesIn: number;
  bytesOut: number;
  /** Call durations in seconds. */
  readonly durations: BucketCounts;
}

/** Call durations from under a millisecond (unary) to a minute (streams). */
const DURATION_BOUNDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

const newRouteCounts = (service: string, method: string): RouteCounts => ({
  labels: Object.freeze({ service, method }),
  durations: new BucketCounts(DURATION_BOUNDS),
  outcomes: new Map(),
  refusals: new Map(),
  active: 0,
  relayed: false,
  bytesIn: 0,
  bytesOut: 0,
});

export function createMetrics(pools: readonly UpstreamPool[]): GatewayMetrics {
  const own = new Registry();
  // Per-call figures are plain numbers on a per-route record (no label
  // object, no label hashing on the call path); the counters below read
  // them when /metrics is scraped.
  const routes = new Map<string, Map<string, RouteCounts>>();
  const countsFor = (service: string, method: string): RouteCounts => {
    let byMethod = routes.get(service);
    if (byMethod === undefined) {
      byMethod = new Map();
      routes.set(service, byMethod);
    }
    let counts = byMethod.get(method);
    if (counts === undefined) {
      counts = newRouteCounts(service, method);
      byMethod.set(method, counts);
    }
    return counts;
  };
  const eachRoute = function* (): Generator<RouteCounts> {
    for (const byMethod of routes.values()) yield* byMethod.values();
  };
  new Counter({
    name: "grpc_edge_calls_total",
    help: "Calls finished, by service, method, gRPC status and gateway reason",
    labelNames: ["service", "method", "grpc_code", "reason"] as const,
    registers: [own],
    collect() {
      this.reset();
      for (const route of eachRoute()) {
        for (const [code, n] of route.outcomes)
          this.inc({ ...route.labels, grpc_code: codeName(code), reason: "" }, n);
        for (const outcome of route.refusals.values())
          this.inc({ ...route.labels, grpc_code: outcome.code, reason: outcome.reason }, outcome.n);
      }
    },
  });
  own.registerMetric(
    routeHistogram({
      name: "grpc_edge_call_duration_seconds",
      help: "Call duration from request to the end of the response",
      bounds: DURATION_BOUNDS,
      series: function* () {
        for (const route of eachRoute()) yield { labels: route.labels, buckets: route.durations };
      },
    }),
  );
  new Counter({
    name: "grpc_edge_bytes_total",
    help: "Body bytes relayed, by direction (in: from browsers, out: to browsers)",
    labelNames: ["service", "method", "direction"] as const,
    registers: [own],
    collect() {
      this.reset();
      for (const route of eachRoute()) {
        if (route.outcomes.size === 0 && route.refusals.size === 0) continue; // none finished yet
        this.inc({ ...route.labels, direction: "in" }, route.bytesIn);
        this.inc({ ...route.labels, direction: "out" }, route.bytesOut);
      }
    },
  });
  const authFailures = new Counter({
    name: "grpc_edge_auth_failures_total",
    help: "Calls refused by authentication or authorization, by reason code",
    labelNames: ["reason"] as const,
    registers: [own],
  });
  new Gauge({
    name: "grpc_edge_active_calls",
    help: "Calls (unary and streams) in flight",
    labelNames: ["service", "method"] as const,
    registers: [own],
    collect() {
      this.reset();
      for (const route of eachRoute()) if (route.relayed) this.set(route.labels, route.active);
    },
  });
  const jwksFetches = new Counter({
    name: "grpc_edge_jwks_fetches_total",
    help: "JWKS (and discovery) fetch attempts per issuer, by result",
    labelNames: ["issuer", "result"] as const,
    registers: [own],
  });
  const preflightRefusals = new Counter({
    name: "grpc_edge_preflight_refusals_total",
    help: "CORS preflights refused (the browser then never sends the call), by reason code",
    labelNames: ["reason"] as const,
    registers: [own],
  });
  new Gauge({
    name: "grpc_edge_upstream_sessions",
    help: "HTTP/2 sessions to each upstream, by state",
    labelNames: ["upstream", "state"] as const,
    registers: [own],
    collect() {
      this.reset();
      for (const pool of pools) {
        const counts = { connecting: 0, ready: 0, draining: 0 };
        for (const state of pool.sessionStates()) counts[state]++;
        for (const [state, n] of Object.entries(counts))
          this.set({ upstream: pool.name, state }, n);
      }
    },
  });

  new Counter({
    name: "grpc_edge_upstream_sessions_closed_total",
    help: "HTTP/2 sessions to each upstream closed since start, by reason (goaway, ping_timeout, idle, closed, credentials_reloaded, shutdown)",
    labelNames: ["upstream", "reason"] as const,
    registers: [own],
    collect() {
      this.reset();
      for (const pool of pools)
        for (const [reason, n] of pool.closedSessions())
          this.inc({ upstream: pool.name, reason }, n);
    },
  });

  // What /metrics serves: the gateway's metrics, then the process's.
  const registry = Registry.merge([own, processMetrics()]);

  // Bounded route labels: the routes counted so far, then "other".
  let distinctRoutes = 0;
  const labels = (service: string, method: string) => {
    const known = routes.get(service)?.get(method);
    if (known !== undefined) return known.labels;
    if (distinctRoutes >= MAX_METHOD_LABELS) return countsFor("other", "other").labels;
    distinctRoutes++;
    return countsFor(service, method).labels;
  };

  return {
    registry,
    labels,
    jwksFetched(issuer, ok) {
      jwksFetches.inc({ issuer, result: ok ? "ok" : "error" });
    },
    preflightRefused(reason) {
      preflightRefusals.inc({ reason });
    },
    callStarted(service, method) {
      const counts = countsFor(service, method);
      counts.relayed = true;
      counts.active++;
    },
    callFinished(call) {
      const route = countsFor(call.service, call.method);
      if (call.relayed) route.active--;
      if (call.reason === undefined) {
        route.outcomes.set(call.grpcStatus, (route.outcomes.get(call.grpcStatus) ?? 0) + 1);
      } else {
        const key = `${call.grpcStatus} ${call.reason}`;
        const outcome = route.refusals.get(key);
        if (outcome !== undefined) outcome.n++;
        else
          route.refusals.set(key, {
            code: codeName(call.grpcStatus),
            reason: call.reason,
            n: 1,
          });
        if (AUTH_REASONS.has(call.reason)) authFailures.inc({ reason: call.reason });
      }
      route.durations.observe(call.durationMs / 1000);
      route.bytesIn += call.bytesIn;
      route.bytesOut += call.bytesOut;
    },
  };
}
