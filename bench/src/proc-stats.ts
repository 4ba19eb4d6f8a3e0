/**
 * CPU time and memory of another process, from /proc (Linux): what "CPU per
 * call" divides, and the RSS the tables report.
 */
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux

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
