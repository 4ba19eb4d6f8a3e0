/**
 * CPU time and memory of another process, from /proc (Linux): what "CPU per
 * call" divides, and the RSS the tables report.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux
const MiB = 2 ** 20;

/** User and system (kernel) CPU time of a process, in milliseconds. */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after ") ".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    user: (Number(fields[11]) * 1000) / TICKS_PER_SECOND,
    system: (Number(fields[12]) * 1000) / TICKS_PER_SECOND,
  };
}

/**
 * CPU time (ms) of this process's children that have ended and been
 * reaped (cutime + cstime): around a run of the load generator (wrk, or the
 * Node generator's child), the generator's own CPU.
 */
export function endedChildrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
}

/** User + system CPU time of a process, in milliseconds. */
export function cpuMs(pid: number): number {
  const { user, system } = cpuSplitMs(pid);
  return user + system;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** The pids of a process and all its descendants (from /proc/<pid>/stat ppid). */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** A per-process figure summed over a process and its descendants (cluster workers). */
function sumOverTree(root: number, read: (pid: number) => number): number {
  let sum = 0;
  for (const pid of processTree(root)) {
    try {
      sum += read(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  return sum;
}

/** CPU time of a process and its descendants, in ms. */
export const treeCpuMs = (root: number): number => sumOverTree(root, cpuMs);

/** RSS of a process and its descendants, in bytes. */
export const treeRssBytes = (root: number): number => sumOverTree(root, rssBytes);

/**
 * Every online CPU, counted once before anything is pinned
 * (availableParallelism() follows this process's own affinity, so after
 * pinning it would say 1 and unpinning would pin again).
 */
const ALL_CPUS = `0-${cpus().length - 1}`;

/** Sets the CPU affinity of processes (all their threads) with taskset. */
function taskset(cpus: string, pids: number[]): void {
  for (const pid of pids)
    execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

/**
 * Pins this process (and so the load generators it starts from now on) and
 * `onA` to core `a`, and `onB` to core `b`. False, with a message, where
 * that cannot be done (no taskset, fewer than two cores).
 */
export function pinCores(a: number, onA: number[], b: number, onB: number[]): boolean {
  if (cpus().length < 2) {
    console.error("pinning skipped: fewer than two cores");
    return false;
  }
  try {
    taskset(String(a), [process.pid, ...onA]);
    taskset(String(b), onB);
    return true;
  } catch (err) {
    console.error(`pinning skipped: taskset failed (${(err as Error).message})`);
    try {
      unpinCores([process.pid, ...onA, ...onB]); // whatever was pinned before the failure
    } catch {
      // taskset itself is missing: nothing was pinned.
    }
    return false;
  }
}

/** Lets processes run on every core again. */
export function unpinCores(pids: number[]): void {
  taskset(ALL_CPUS, pids);
}

/**
 * A memory cgroup limited to `limitBytes`, as `docker run --memory` gives a
 * container (cgroup v2 when mounted as such at /sys/fs/cgroup, else v1's
 * memory controller); its `cgroup.procs` file, or why none could be made
 * (needs Linux and root). Node reads the limit at start-up
 * (`process.constrainedMemory()`) and sizes V8's heap from it.
 */
export function memoryCgroup(
  name: string,
  limitBytes: number,
): { procs: string; charged: () => string; remove: () => void } | { why: string } {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const dir = v2 ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/memory/${name}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, v2 ? "memory.max" : "memory.limit_in_bytes"), String(limitBytes));
  } catch (error) {
    return {
      why: `no memory cgroup at ${dir} (${(error as Error).message}): run the bench as root on Linux with the cgroup memory controller mounted`,
    };
  }
  return {
    procs: join(dir, "cgroup.procs"),
    // What the kernel charged the cgroup at most (what its limit is held
    // against) and how often it reached the limit and reclaimed.
    charged: () => {
      const read = (file: string) => readFileSync(join(dir, file), "utf8");
      const mib = (bytes: string) => `${(Number(bytes) / MiB).toFixed(1)} MiB`;
      if (!v2)
        return `peak charged ${mib(read("memory.max_usage_in_bytes"))} (memory.max_usage_in_bytes), limit reached ${read("memory.failcnt").trim()} times (memory.failcnt), OOM kills: ${/oom_kill (\d+)/.exec(read("memory.oom_control"))?.[1] ?? "n/a"}`;
      const events = read("memory.events");
      const count = (name: string) =>
        new RegExp(`^${name} (\\d+)$`, "m").exec(events)?.[1] ?? "n/a";
      const peak = existsSync(join(dir, "memory.peak")) ? mib(read("memory.peak")) : "n/a";
      return `peak charged ${peak} (memory.peak), limit reached ${count("max")} times (memory.events), OOM kills: ${count("oom_kill")}`;
    },
    remove: () => {
      try {
        rmdirSync(dir);
      } catch (error) {
        console.error(`could not remove ${dir} (${(error as Error).message}): rmdir it by hand`);
      }
    },
  };
}
