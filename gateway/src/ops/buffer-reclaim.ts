/**
 * Buffer reclaim, opt-in (memory.reclaimAfterBytes > 0; off by default): a
 * forced young-generation GC when socket buffers pile up.
 *
 * Node hands each TLS read from an upstream to JavaScript in a fresh buffer
 * that only a GC frees. Streaming to a slow reader makes little other
 * garbage, so V8's own scavenges can come seconds apart while those buffers
 * pile up, and the C allocator keeps the memory it grew for them.
 *
 * When on, every 250 ms the gateway reads `process.memoryUsage().arrayBuffers`;
 * when it stands `memory.reclaimAfterBytes` above its lowest reading since
 * the last GC asked for, it forces one minor GC. A scavenge V8 ran by itself
 * lowers the reading and restarts the count, so under unary load it does not
 * fire. What it buys and costs: bench/RESULTS.md (slow reader).
 *
 * The GC is forced through V8's `gc` extension, turned on at run time with
 * `v8.setFlagsFromString('--expose-gc')`, which Node documents as unsafe
 * after start-up; it runs in a context of its own, so this process's global
 * scope is left alone. That is why it is off unless an operator asks for it.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** How often the gateway reads the size of its array buffers. */
export const RECLAIM_INTERVAL_MS = 250;

/**
 * The decision alone, one reading at a time: true when the reading stands
 * more than `growthBytes` above the lowest one since the last time it said
 * true (so after a GC the count starts again from what the GC left).
 */
export class GrowthTrigger {
  readonly growthBytes: number;
  #floor = Number.POSITIVE_INFINITY;

  constructor(growthBytes: number) {
    this.growthBytes = growthBytes;
  }

  observe(bytes: number): boolean {
    if (bytes < this.#floor) this.#floor = bytes;
    if (bytes - this.#floor <= this.growthBytes) return false;
    this.#floor = Number.POSITIVE_INFINITY;
    return true;
  }
}

let minorGc: (() => void) | undefined | null;

/**
 * V8's minor GC, through its gc extension in a context of its own; null
 * (after one process warning) if this Node cannot provide it, and then
 * buffer reclaim stays off rather than failing inside its timer.
 */
function youngGc(): (() => void) | null {
  if (minorGc !== undefined) return minorGc;
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    if (typeof gc !== "function") throw new Error("the gc extension is not available");
    minorGc = () => (gc as (options: { type: "minor" }) => void)({ type: "minor" });
  } catch (err) {
    minorGc = null;
    process.emitWarning(
      `buffer reclaim (memory.reclaimAfterBytes) is off: ${(err as Error).message}. Streams to slow readers may grow the gateway's memory by tens of MiB until V8 collects on its own; set memory.reclaimAfterBytes: 0 to silence this warning`,
    );
  }
  return minorGc;
}

// One timer per process, however many gateways it runs (tests run many):
// the GC is per process too. The smallest threshold asked for applies.
const holders = new Map<symbol, number>();
let timer: NodeJS.Timeout | undefined;
let trigger: GrowthTrigger | undefined;
let reclaims = 0;

/** GCs asked for by buffer reclaim in this process (grpc_edge_buffer_reclaims_total). */
export const bufferReclaims = (): number => reclaims;

/**
 * Starts buffer reclaim for one gateway (growthBytes > 0); returns the
 * function that stops it for that gateway. The timer does not keep the
 * process alive.
 */
export function holdBufferReclaim(growthBytes: number): () => void {
  if (youngGc() === null) return () => {};
  const key = Symbol("buffer-reclaim");
  holders.set(key, growthBytes);
  restart();
  return () => {
    if (holders.delete(key)) restart();
  };
}

function restart(): void {
  if (holders.size === 0) {
    clearInterval(timer);
    timer = undefined;
    trigger = undefined;
    return;
  }
  const growth = Math.min(...holders.values());
  if (trigger?.growthBytes === growth) return;
  trigger = new GrowthTrigger(growth);
  if (timer !== undefined) return;
  timer = setInterval(() => {
    if (trigger?.observe(process.memoryUsage().arrayBuffers) === true) {
      minorGc?.();
      reclaims++;
    }
  }, RECLAIM_INTERVAL_MS);
  timer.unref();
}
