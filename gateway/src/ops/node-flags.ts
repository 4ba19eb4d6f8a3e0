/**
 * The Node/V8 flags the gateway runs with: this list is the one place they
 * are kept. The bin (bin/grpc-edge-gateway.js) restarts node with them
 * before loading the gateway, so the container (`node
 * gateway/bin/grpc-edge-gateway.js`), `npx grpc-edge-gateway` and a PATH
 * install all get them; cluster workers inherit them. Tested with the Node
 * major in the gateway's `engines`; what each buys is measured in
 * bench/RESULTS.md ("Node flags").
 *
 * - `--max-semi-space-size=8`: a young generation half V8's default:
 *   smaller peaks, and streaming (which makes short-lived garbage per
 *   message) scavenges cheaply.
 * - `--external-memory-accounted-in-global-limit`: Node's per-read socket
 *   buffers are weighed within the heap limit instead of forcing a full GC
 *   at each fixed 64 MB step of external memory. Node refuses it in
 *   NODE_OPTIONS: it must be on node's command line.
 * - `--initial-old-space-size=64`: room above the gateway's small live old
 *   generation (and, with the flag above, the buffers of streams in flight)
 *   so that one full GC does not lead straight to the next under streaming.
 *
 * GATEWAY_NODE_FLAGS (space-separated; empty for none) replaces the list.
 * A flag this Node rejects is left out (one warning at start-up): tuning
 * never stops the gateway from starting.
 */
import { spawnSync } from "node:child_process";

export const GATEWAY_NODE_FLAGS: readonly string[] = [
  "--max-semi-space-size=8",
  "--external-memory-accounted-in-global-limit",
  "--initial-old-space-size=64",
];

/** The flags to run with: GATEWAY_NODE_FLAGS when set, else the list above. */
export function nodeFlags(env: NodeJS.ProcessEnv): string[] {
  const override = env.GATEWAY_NODE_FLAGS;
  if (override === undefined) return [...GATEWAY_NODE_FLAGS];
  return override.split(/\s+/).filter((flag) => flag !== "");
}

/** A flag's name without its value or its `--no-` prefix. */
const flagName = (flag: string): string => (flag.split("=")[0] as string).replace(/^--no-/, "--");

/**
 * The flags that this Node process was started without, looking at its
 * command line and NODE_OPTIONS. A flag counts as given with any value, and
 * a boolean one also as its `--no-` form (an operator may choose otherwise
 * on purpose).
 */
export function missingNodeFlags(
  flags: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].map(flagName);
  return flags.filter((f) => !given.includes(flagName(f)));
}

/** True when `node <flags> -e ""` starts (a rejected flag makes node exit 9). */
function starts(execPath: string, flags: readonly string[]): boolean {
  const run = spawnSync(execPath, [...flags, "-e", ""], { stdio: "ignore", timeout: 10_000 });
  return run.status === 0;
}

/** Splits `flags` into those the Node at `execPath` accepts and those it rejects. */
export function probeNodeFlags(
  execPath: string,
  flags: readonly string[],
): { accepted: string[]; rejected: string[] } {
  if (flags.length === 0 || starts(execPath, flags)) return { accepted: [...flags], rejected: [] };
  const accepted = flags.filter((flag) => starts(execPath, [flag]));
  return { accepted, rejected: flags.filter((flag) => !accepted.includes(flag)) };
}

/**
 * Replaces this process (same pid, no wrapper left behind) with node and
 * the gateway's flags it lacks, when this Node accepts some of them; else
 * returns, and start-up goes on with what node has (main.ts warns once).
 */
export function restartWithNodeFlags(): void {
  const missing = missingNodeFlags(
    nodeFlags(process.env),
    process.execArgv,
    process.env.NODE_OPTIONS,
  );
  // No process.execve: Windows, or a Node before 22.15.
  if (missing.length === 0 || typeof process.execve !== "function") return;
  const { accepted } = probeNodeFlags(process.execPath, missing);
  if (accepted.length === 0) return;
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...process.execArgv, ...accepted, ...process.argv.slice(1)],
      process.env,
    );
  } catch {
    // Not allowed here (e.g. Node's permission model): start as we are.
  }
}
