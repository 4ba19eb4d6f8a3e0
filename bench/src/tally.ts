/**
 * What one target's runs add up to, round after round: the load's results
 * and the CPU each process spent meanwhile (proxy, upstream, load
 * generator). Shared by `npm run bench` and `npm run bench:profile`.
 */
import type { LoadResult } from "./load-generator.ts";
import { cpuMs, cpuSplitMs, endedChildrenCpuMs, rssBytes } from "./proc-stats.ts";

export interface Tally {
  calls: number;
  errors: number;
  seconds: number;
  bytes: number;
  /** Proxy CPU in ms (0 when there is no proxy: direct calls). */
  proxyUserMs: number;
  proxySystemMs: number;
  upstreamCpuMs: number;
  generatorCpuMs: number;
  /** Each run's p50 and p99 (ms); tables show their medians. */
  p50: number[];
  p99: number[];
  /** The proxy's RSS after the latest run (bytes; 0 without a proxy). */
  rss: number;
  /** Each run on its own (round by round), for per-round comparisons. */
  runs: Array<{ readonly calls: number; readonly seconds: number; readonly proxyCpuMs: number }>;
  firstError?: string;
}

export const emptyTally = (): Tally => ({
  calls: 0,
  errors: 0,
  seconds: 0,
  bytes: 0,
  proxyUserMs: 0,
  proxySystemMs: 0,
  upstreamCpuMs: 0,
  generatorCpuMs: 0,
  p50: [],
  p99: [],
  rss: 0,
  runs: [],
});

/** Runs one load and adds it to `tally`, with the CPU of `proxy` (a pid, if any) and `upstream`. */
export async function tallyRun(
  tally: Tally,
  run: () => Promise<LoadResult>,
  pids: { readonly proxy: number | undefined; readonly upstream: number },
): Promise<void> {
  const none = { user: 0, system: 0 };
  const proxy0 = pids.proxy === undefined ? none : cpuSplitMs(pids.proxy);
  const upstream0 = cpuMs(pids.upstream);
  const generator0 = endedChildrenCpuMs();
  const result = await run();
  const proxy1 = pids.proxy === undefined ? none : cpuSplitMs(pids.proxy);
  const proxyUserMs = proxy1.user - proxy0.user;
  const proxySystemMs = proxy1.system - proxy0.system;
  tally.proxyUserMs += proxyUserMs;
  tally.proxySystemMs += proxySystemMs;
  tally.upstreamCpuMs += cpuMs(pids.upstream) - upstream0;
  tally.generatorCpuMs += endedChildrenCpuMs() - generator0;
  tally.calls += result.calls;
  tally.errors += result.errors;
  tally.seconds += result.seconds;
  tally.bytes += result.bytes;
  tally.p50.push(result.p50Ms);
  tally.p99.push(result.p99Ms);
  tally.rss = pids.proxy === undefined ? 0 : rssBytes(pids.proxy);
  tally.runs.push({
    calls: result.calls,
    seconds: result.seconds,
    proxyCpuMs: proxyUserMs + proxySystemMs,
  });
  if (result.firstError !== undefined) tally.firstError ??= result.firstError;
}

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * The targets in the order one round runs them: as given in even rounds,
 * reversed in odd ones (A B, B A, …). A fixed order let position effects
 * pass for differences between targets: two identical gateways measured
 * A-then-B, round after round, showed the upstream ~15% dearer per call
 * behind whichever ran first.
 */
export const inRoundOrder = <T>(targets: readonly T[], round: number): readonly T[] =>
  round % 2 === 0 ? targets : [...targets].reverse();

/**
 * How `subject` compares with `reference` round by round (each round runs
 * both, next to each other): the median and range of the per-round ratios
 * (subject ÷ reference) of calls/s and of proxy CPU per call. The spread
 * says how far one run's totals can be trusted on a noisy machine.
 */
export function perRoundRatios(
  subject: Tally,
  reference: Tally,
): { readonly rate: Spread; readonly cpuPerCall: Spread } {
  const rounds = Math.min(subject.runs.length, reference.runs.length);
  const rate: number[] = [];
  const cpuPerCall: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const y = subject.runs[i] as Tally["runs"][number];
    const x = reference.runs[i] as Tally["runs"][number];
    rate.push(y.calls / y.seconds / (x.calls / x.seconds));
    cpuPerCall.push(y.proxyCpuMs / y.calls / (x.proxyCpuMs / x.calls));
  }
  return { rate: spread(rate), cpuPerCall: spread(cpuPerCall) };
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** A 95% confidence interval for the median; undefined below 6 rounds. */
  readonly interval: MedianInterval | undefined;
}

const spread = (xs: number[]): Spread => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
  interval: medianInterval(xs),
});

export interface MedianInterval {
  readonly low: number;
  readonly high: number;
  /** The interval's exact coverage (at least the confidence asked for). */
  readonly coverage: number;
}

/**
 * A distribution-free confidence interval for the median of `xs` (the sign
 * test's order statistics): the k-th smallest and k-th largest value, with
 * the largest k for which P(Binomial(n, ½) < k) ≤ (1 − confidence) / 2.
 * It assumes only that rounds are independent draws, not that their ratios
 * are normally distributed (a slow phase of the VM gives outliers that a
 * mean ± 2σ would be dragged by). Undefined when there are too few values
 * for the confidence asked (fewer than 6 at 95%).
 */
export function medianInterval(
  xs: readonly number[],
  confidence = 0.95,
): MedianInterval | undefined {
  const n = xs.length;
  const tail = (1 - confidence) / 2;
  // P(X = i) for X ~ Binomial(n, 1/2), in log space so that large n does not underflow.
  let logChoose = 0;
  let below = 0; // P(X < k), growing with k
  let k = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.exp(logChoose - n * Math.LN2);
    if (below + p > tail) break;
    below += p;
    k = i + 1;
    logChoose += Math.log((n - i) / (i + 1));
  }
  if (k === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    low: sorted[k - 1] as number,
    high: sorted[n - k] as number,
    coverage: 1 - 2 * below,
  };
}
