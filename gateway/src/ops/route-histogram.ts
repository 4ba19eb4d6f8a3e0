/**
 * A Prometheus histogram fed from plain numbers on each route's record: one
 * observation is a bucket search and three additions, with no label object
 * to build and hash per call. prom-client's registry renders it at scrape
 * in the same text as its own Histogram, and sums it over cluster workers.
 */
import type { Metric } from "prom-client";

/** One line of the rendered histogram, as prom-client's registry reads it. */
interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
}

/** One series' counts: per upper bound (not cumulative), sum and count. */
export class BucketCounts {
  readonly counts: number[];
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number)++;
        return;
      }
    }
  }
}

export interface RouteHistogramOptions<Labels extends Record<string, string>> {
  readonly name: string;
  readonly help: string;
  readonly bounds: readonly number[];
  /** The series at scrape time: labels and counts. */
  readonly series: () => Iterable<{ readonly labels: Labels; readonly buckets: BucketCounts }>;
}

/** The metric object to register (Registry.registerMetric). */
export function routeHistogram<Labels extends Record<string, string>>(
  options: RouteHistogramOptions<Labels>,
): Metric {
  const { name, help, bounds } = options;
  const get = async () => {
    const values: Sample[] = [];
    for (const { labels, buckets } of options.series()) {
      if (buckets.count === 0) continue;
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += buckets.counts[i] as number;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push(
        { labels: { le: "+Inf", ...labels }, value: buckets.count, metricName: `${name}_bucket` },
        { labels: { ...labels }, value: buckets.sum, metricName: `${name}_sum` },
        { labels: { ...labels }, value: buckets.count, metricName: `${name}_count` },
      );
    }
    return { name, help, type: "histogram", values, aggregator: "sum" };
  };
  return { name, help, get, reset() {}, aggregator: "sum" } as unknown as Metric;
}
