/**
 * The Node/V8 flags the gateway runs with. The CLI's shebang
 * (`#!/usr/bin/env -S node …`) and the container's ENTRYPOINT pass them;
 * cluster workers inherit them. cli.test.ts keeps all three in step with
 * this list, and the benchmark starts its gateways with it. What each buys
 * is measured in bench/RESULTS.md ("Node flags").
 *
 * - `--max-semi-space-size=8`: a 16 MiB young generation. With the default
 *   32 MiB, the gateway's small old generation made V8 start full
 *   mark-compacts back to back under streaming load.
 * - `--external-memory-accounted-in-global-limit`: Node's per-read socket
 *   buffers are weighed within the heap limit instead of forcing a full GC
 *   at each fixed 64 MB external-memory step. Node refuses it in
 *   NODE_OPTIONS: it must be on node's command line.
 * - `--no-memory-reducer`: the minor GCs buffer reclaim asks for
 *   (buffer-reclaim.ts) would otherwise wake V8's memory reducer, whose
 *   collections shrink the young generation and set off mark-compact storms.
 * - `--initial-old-space-size=64`: room above the ~20 MB live old
 *   generation, so that one full GC does not lead straight to the next.
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
