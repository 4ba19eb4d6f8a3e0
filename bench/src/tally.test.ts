import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyTally, inRoundOrder, medianInterval, perRoundRatios } from "./tally.ts";

test("the median's 95% interval uses the sign test's order statistics", () => {
  // Published table values (n, k): the interval is the k-th smallest to the k-th largest.
  const cases: Array<[n: number, k: number, coverage: number]> = [
    [6, 1, 1 - 2 / 64],
    [10, 2, 1 - (2 * 11) / 1024],
    [16, 4, 1 - (2 * 697) / 65536],
  ];
  for (const [n, k, coverage] of cases) {
    // Shuffled input: the function sorts.
    const xs = Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);
    const got = medianInterval(xs);
    assert.ok(got !== undefined, `n=${n}`);
    assert.equal(got.low, k, `n=${n} low`);
    assert.equal(got.high, n - k + 1, `n=${n} high`);
    assert.ok(Math.abs(got.coverage - coverage) < 1e-9, `n=${n} coverage ${got.coverage}`);
    assert.ok(got.coverage >= 0.95);
  }
});

test("too few rounds give no interval rather than a narrow one", () => {
  assert.equal(medianInterval([1, 2, 3, 4, 5]), undefined);
  assert.equal(medianInterval([]), undefined);
  assert.ok(medianInterval([1, 2, 3, 4, 5], 0.9) !== undefined);
});

test("many rounds do not underflow and narrow towards the middle", () => {
  const xs = Array.from({ length: 2000 }, (_, i) => i);
  const got = medianInterval(xs);
  assert.ok(got !== undefined);
  // ±1.96·√n/2 ≈ ±44 order statistics around the median of 2000.
  assert.ok(got.low > 940 && got.low < 970, `low ${got.low}`);
  assert.ok(got.high > 1029 && got.high < 1060, `high ${got.high}`);
});

test("per-round ratios pair each round of the subject with the same round of the reference", () => {
  const subject = emptyTally();
  const reference = emptyTally();
  const ratios = [0.9, 1.1, 0.95, 1.0, 0.97, 1.02, 0.99];
  for (const r of ratios) {
    reference.runs.push({ calls: 1000, seconds: 2, proxyCpuMs: 100 });
    subject.runs.push({ calls: 1000 * r, seconds: 2, proxyCpuMs: 100 });
  }
  const { rate, cpuPerCall } = perRoundRatios(subject, reference);
  assert.equal(rate.median, 0.99);
  assert.equal(rate.min, 0.9);
  assert.equal(rate.max, 1.1);
  assert.deepEqual([rate.interval?.low, rate.interval?.high], [0.9, 1.1]);
  // Same CPU for fewer calls: dearer per call, by 1 / ratio.
  assert.ok(Math.abs(cpuPerCall.median - 1 / 0.99) < 1e-12);
});

test("targets alternate their order every other round", () => {
  assert.deepEqual(inRoundOrder(["a", "b"], 0), ["a", "b"]);
  assert.deepEqual(inRoundOrder(["a", "b"], 1), ["b", "a"]);
});
