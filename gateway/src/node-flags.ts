/**
 * The Node/V8 flags the gateway runs with. The CLI's shebang
 * (`#!/usr/bin/env -S node …`) and the container's ENTRYPOINT pass them;
 * cluster workers inherit them. cli.test.ts keeps all three in step with
 * this list, and the benchmark starts its gateways with it.
 *
 * --max-semi-space-size=4 (MiB; Node 24's default grows to 16): V8's young
 * generation then stays at 8 MiB. With the default 32 MiB, V8 kept starting
 * a full mark-compact of the whole heap (every ~50 ms, ~66 in 6 s, under
 * 64 KiB streaming, `--trace-gc`): the gateway's old generation is small
 * (~17 MB live), so after each collection its room to the next limit stayed
 * under the young generation's size, which V8 must be able to promote. At
 * 8 MiB the same load runs on cheap scavenges (1 mark-compact in 6 s) and
 * the young generation frees Node's per-read HTTP/2 buffers as it goes:
 * gateway CPU per 64 KiB stream call -37%, RSS after load ~100 MiB lower,
 * unary unchanged (bench/RESULTS.md).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];

/**
 * The gateway's flags that this Node process was started without, looking
 * at its command line and NODE_OPTIONS. A flag counts as given with any
 * value (an operator may choose another size on purpose).
 */
export function missingNodeFlags(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].map((f) => f.split("=")[0]);
  return GATEWAY_NODE_FLAGS.filter((f) => !given.includes(f.split("=")[0]));
}
