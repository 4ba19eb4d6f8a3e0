/** Reading V8 .cpuprofile files (from --cpu-prof) for the profile tools. */
import { readFileSync } from "node:fs";

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface LoadedProfile {
  readonly nodes: ProfileNode[];
  /** Sampled node ids, one per sample. */
  readonly samples: number[];
  /** Microseconds before each sample. */
  readonly timeDeltas: number[];
  readonly byId: Map<number, ProfileNode>;
  /** Caller of each node. */
  readonly parent: Map<number, number>;
}

export function loadProfile(file: string): LoadedProfile {
  const raw = JSON.parse(readFileSync(file, "utf8")) as Omit<LoadedProfile, "byId" | "parent">;
  const byId = new Map(raw.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of raw.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  return { ...raw, byId, parent };
}
