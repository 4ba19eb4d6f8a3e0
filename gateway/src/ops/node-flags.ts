/**
 * The Node/V8 flags the gateway runs with. The CLI's shebang
 * (`#!/usr/bin/env -S node …`) and the container's ENTRYPOINT pass them;
 * cluster workers inherit them. cli.test.ts keeps all three in step with
 * this list, and the benchmark starts its gateways with it.
 *
 * --max-semi-space-size=8 (MiB; Node 24's default grows to 16): V8's young
 * generation then stays at 16 MiB. With the default 32 MiB, V8 kept starting
 * a full mark-compact of the whole heap (every ~50 ms, ~66 in 6 s, under
 * 64 KiB streaming, `--trace-gc`): the gateway's old generation is small
 * (~17 MB live), so after each collection its room to the next limit
 * (~24 MB) stayed under the young generation's size, and (as we read V8's
 * heuristic from the traces) V8 then starts marking again at once. Smaller,
 * the same load runs on cheap scavenges, which also
 * free Node's per-read HTTP/2 buffers as they go. Measured (bench:profile,
 * same runs): gateway CPU per 64 KiB stream call -41% at 8 MiB (-37% at 4,
 * -31% at 2); unary the same as the default at 8 and ~3% worse at 4, so 8.
 * Details in bench/RESULTS.md.
 *
 * --external-memory-accounted-in-global-limit: Node copies each TLS read
 * from an upstream into a fresh 16 KiB buffer, which only a GC frees. On the
 * streaming paths the gateway makes little JavaScript garbage per byte, so
 * scavenges are rare and those buffers (some promoted while in flight) add
 * up to V8's fixed 64 MB external-memory step, which forces a full
 * mark-compact each time: 183 in one HTTP/2-listener run, and "storms" on
 * HTTP/1.1 in longer runs. With the flag V8 weighs external memory within
 * its global heap limit instead. Measured (bench:profile, same runs): 64 KiB
 * streaming over the HTTP/2 listener 15.1 -> 11.8 ms of gateway CPU per
 * call (-22%), over HTTP/1.1 8.9 -> 8.5 ms; a fresh gateway's first slow
 * 200 MiB stream +51 -> +35 MiB RSS; unary ~3-4% more CPU per call (after
 * correcting for the bench's slot bias). Unary stays well under its target
 * and 64 KiB streaming is the one still short of it, so the flag is on.
 * Node refuses it in NODE_OPTIONS: it must be on node's command line.
 *
 * --no-memory-reducer: the gateway asks V8 for minor GCs when socket buffers
 * pile up (buffer-reclaim.ts), and each such forced GC also wakes V8's memory
 * reducer. Its memory-reducing full GCs shrank the young generation to 1 MiB
 * and were followed by storms of mark-compacts under 64 KiB streaming (177%
 * and 181% of the baseline's CPU per call in two runs; with the flag the
 * same reclaim measured 96-108%). Without forced GCs the reducer did not run
 * in a gateway left idle for 45 s, so the flag costs the gateway nothing it
 * used: an idle gateway keeps the heap it grew, as it did before.
 *
 * --initial-old-space-size=64 (MiB): the gateway's old generation holds
 * only ~17-24 MB live, and after each full GC V8 set its limit close above
 * that; under 64 KiB streaming incremental marking then started again at
 * once (`--trace-gc`: "finalize incremental marking via task" with the old
 * generation far below its limit), so one full GC led to the next: bursts
 * of 5-10 mark-compacts when load resumed after a pause, and at random
 * storms of 50-185 in a run. Our reading is V8 starting to mark when the
 * room under the limit is small next to the young generation (the same rule
 * as for the flag above); the exact threshold is not established: 48 MiB
 * still stormed. With 64 MiB: 0, 0 and 2 mark-compacts in three 10-round
 * streaming runs (16-120 without; 119, 120 and 118 with 32 and 48; 0 with
 * 96). It holds after full GCs too, so V8 appears to keep the size as a
 * floor for the limit: after 15 s of unary load (11 full GCs) the old
 * generation stood at ~50 MiB and streaming then ran 4 full GCs instead of
 * 33. Measured (bench:profile, same runs): 64 KiB streaming gateway CPU per
 * call 77% (HTTP/2 listener) and 93-94% (HTTP/1.1) of the same build
 * without it, 86-96% after the unary load; unary 100% (per-round median
 * 102%). Cost: the old generation keeps up to ~50 MiB under load instead of
 * ~21 (RSS ~+20 MiB), and a fresh gateway's first slow 200 MiB stream grows
 * RSS by 12-14 MiB instead of ~10.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = [
  "--max-semi-space-size=8",
  "--external-memory-accounted-in-global-limit",
  "--no-memory-reducer",
  "--initial-old-space-size=64",
];

/** A flag's name without its value or its `--no-` prefix. */
const flagName = (flag: string): string => (flag.split("=")[0] as string).replace(/^--no-/, "--");

/**
 * The gateway's flags that this Node process was started without, looking
 * at its command line and NODE_OPTIONS. A flag counts as given with any
 * value, and a boolean one also as its `--no-` form (an operator may choose
 * otherwise on purpose).
 */
export function missingNodeFlags(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].map(flagName);
  return GATEWAY_NODE_FLAGS.filter((f) => !given.includes(flagName(f)));
}
