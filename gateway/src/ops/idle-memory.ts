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
 *
 * What V8 frees (dead objects' buffers, sockets' read buffers, HTTP/2 and
 * TLS state) goes back to the C allocator, not to the system: glibc's malloc
 * keeps freed memory for reuse and returns only the top of its heap, which
 * a few live allocations pin, so after a load most of it stays in RSS. On
 * Linux with glibc, each tick on which the event loop was mostly idle since
 * the last one also calls glibc's `malloc_trim(0)` (through koffi, an FFI
 * library with prebuilt binaries), which hands the free pages of every
 * arena back. It walks the free lists (milliseconds when there is much to
 * give back, less when not) on the main thread, so never under load. Where
 * it cannot be loaded (musl, another OS) only V8's part is given back.
 * Measured in bench/RESULTS.md (footprint).
 */
import { performance } from "node:perf_hooks";
import { Script } from "node:vm";

/** Well inside the time V8 takes to decay the rate back to zero. */
const NUDGE_INTERVAL_MS = 30_000;

/** Busy less than this share of a tick: mostly idle, trimming costs nothing that matters. */
const IDLE_UTILIZATION = 0.05;

/** glibc's malloc_trim, once loaded (undefined before, or where it cannot be). */
let mallocTrim: ((pad: number) => number) | undefined;

/** Loads malloc_trim; why it is not available here, or undefined when it is. */
async function loadMallocTrim(): Promise<string | undefined> {
  if (process.platform !== "linux") return `not Linux (${process.platform}): nothing to do`;
  let koffi: typeof import("koffi").default;
  try {
    koffi = (await import("koffi")).default;
  } catch (err) {
    return `the koffi package could not be loaded (${(err as Error).message}): install the gateway's dependencies, or rebuild the CLI bundle (gateway/scripts/bundle.ts), which copies koffi into dist/cli/node_modules`;
  }
  try {
    mallocTrim = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)");
    return undefined;
  } catch (err) {
    return `no glibc here (${(err as Error).message}); with another C library (e.g. Alpine's musl) only V8's memory is given back, nothing to fix`;
  }
}

let loading: Promise<string | undefined> | undefined;
let lastUtilization = performance.eventLoopUtilization();

const nudge = (): void => {
  new Script("");
};

const tick = (): void => {
  nudge();
  const busy = performance.eventLoopUtilization(lastUtilization).utilization;
  lastUtilization = performance.eventLoopUtilization();
  if (busy < IDLE_UTILIZATION) mallocTrim?.(0);
};

/**
 * Undefined when the C allocator's free memory can be given back (Linux
 * with glibc), else why not. Loads the trim once per process.
 */
export function allocatorTrimUnavailable(): Promise<string | undefined> {
  loading ??= loadMallocTrim();
  return loading;
}

// One timer per process, however many gateways it runs: the heap is per
// process too.
const holders = new Set<symbol>();
let timer: NodeJS.Timeout | undefined;

/**
 * Keeps V8's memory reducer able to see an idle gateway, and trims the C
 * allocator on idle ticks; returns the function that stops it for this
 * holder. The timer does not keep the process alive. `intervalMs` applies
 * when this call starts the timer (tests shorten it).
 */
export function holdIdleMemoryRelease(intervalMs = NUDGE_INTERVAL_MS): () => void {
  const key = Symbol("idle-memory");
  holders.add(key);
  if (timer === undefined) {
    void allocatorTrimUnavailable();
    lastUtilization = performance.eventLoopUtilization();
    nudge();
    timer = setInterval(tick, intervalMs);
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
