import assert from "node:assert/strict";
import { it } from "node:test";
import { Registry } from "prom-client";
import { BucketCounts, routeHistogram } from "./route-histogram.ts";

it("renders per-route counts as a Prometheus histogram (cumulative buckets, +Inf, sum, count)", async () => {
  const buckets = new BucketCounts([0.1, 1]);
  for (const v of [0.05, 0.5, 0.7, 3]) buckets.observe(v);
  const idle = new BucketCounts([0.1, 1]);
  const registry = new Registry();
  registry.registerMetric(
    routeHistogram({
      name: "d_seconds",
      help: "h",
      bounds: [0.1, 1],
      series: () => [
        { labels: { method: "A" }, buckets },
        { labels: { method: "B" }, buckets: idle },
      ],
    }),
  );
  assert.equal(
    await registry.metrics(),
    [
      "# HELP d_seconds h",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="0.1",method="A"} 1',
      'd_seconds_bucket{le="1",method="A"} 3',
      'd_seconds_bucket{le="+Inf",method="A"} 4',
      'd_seconds_sum{method="A"} 4.25',
      'd_seconds_count{method="A"} 4',
      "",
    ].join("\n"),
  );
});
