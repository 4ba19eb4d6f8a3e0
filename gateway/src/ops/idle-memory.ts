/**
 * Memory back when the gateway goes idle (memory.releaseWhenIdle, on by
 * default).
 *
 * V8 has a "memory reducer": a few seconds after a process's allocation
 * rate drops, it runs full, compacting collections that shrink the heap,
 * free the buffers that dead objects held and hand pooled pages back to the
 * system. Before it starts one it checks three allocation rates: young
 * generation, old generation and the embedder's heap (cppgc, where Node
 * keeps a few C++ objects). Since V8 13 (Node 24) a rate that has only ever
 * seen zero bytes reads as exactly 0, which that check takes for the
 * highest rate there is, and a process that never allocates on cppgc (the
 * gateway, like most Node servers) is judged busy forever: an idle gateway
 * kept its peak heap until V8's watchdog, long after the load, if ever.
 * Reproduce with `node --trace-memory-reducer`: "high alloc" on every tick
 * while nothing runs.
 *
 * Compiling an empty `vm.Script` allocates one small object on cppgc (its
 * ContextifyScript). Doing it every 30 s keeps that rate a small number
 * above zero (V8 decays it back to zero only after much longer without
 * any), so the reducer's own check works and it collects when the gateway
 * is idle, and only then. Nothing is forced: V8 decides whether and when to collect.
 * Measured in bench/RESULTS.md (footprint).
 */
import { Script } from "node:vm";

/** Well inside the time V8 takes to decay the rate back to zero. */
export const NUDGE_INTERVAL_MS = 30_000;

const nudge = (): void => {
  new Script("");
};

// One timer per process, however many gateways it runs: the heap is per
// process too.
const holders = new Set<symbol>();
let timer: NodeJS.Timeout | undefined;

/**
 * Keeps V8's memory reducer able to see an idle gateway; returns the
 * function that stops it for this holder. The timer does not keep the
 * process alive.
 */
export function holdIdleMemoryRelease(): () => void {
  const key = Symbol("idle-memory");
  holders.add(key);
  if (timer === undefined) {
    nudge();
    timer = setInterval(nudge, NUDGE_INTERVAL_MS);
    timer.unref();
  }
  return () => {
    if (!holders.delete(key) || holders.size > 0) return;
    clearInterval(timer);
    timer = undefined;
  };
}

/** True while some gateway in this process holds it (for tests). */
export const idleMemoryReleaseHeld = (): boolean => timer !== undefined;
