/**
 * Summarizes a V8 .cpuprofile (from --cpu-prof): self time by function and
 * by where the code lives (gateway, node internals, each npm package), and
 * inclusive time of the gateway's own functions.
 * Usage: node bench/src/summarize-profile.ts <file.cpuprofile> [top=40]
 */
import { loadProfile, type ProfileNode } from "./cpu-profile.ts";

const [file, topArg] = process.argv.slice(2) as [string, string | undefined];
const top = Number(topArg ?? 40);
const profile = loadProfile(file);
const { byId, parent } = profile;

function where(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith("node:")) return url.replace(/^node:internal\/(\w+).*/, "node:$1");
  const ours = /\/work\/[^/]+\/([^/]+\/[^/]+)/.exec(url);
  return ours ? (ours[1] as string) : url;
}
const label = (n: ProfileNode) => {
  const f = n.callFrame;
  const short = f.url.split("/").slice(-2).join("/");
  return `${f.functionName || "(anonymous)"} ${short}:${f.lineNumber + 1}`;
};

const self = new Map<number, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});
const bucket = (key: (n: ProfileNode) => string) => {
  const m = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id) as ProfileNode;
    const k = key(n);
    m.set(k, (m.get(k) ?? 0) + t);
  }
  return [...m].sort((a, b) => b[1] - a[1]);
};
const pct = (t: number) => `${((100 * t) / total).toFixed(1)}%`.padStart(6);

console.log(`total ${(total / 1e6).toFixed(2)} s sampled\n\nself time by place:`);
for (const [k, t] of bucket((n) => where(n.callFrame.url, n.callFrame.functionName)).slice(0, 25))
  console.log(`${pct(t)}  ${k}`);
console.log("\nself time by function:");
for (const [k, t] of bucket(label).slice(0, top)) console.log(`${pct(t)}  ${k}`);

// Inclusive time: every distinct frame on the stack of a sample counts once.
const inclusive = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur) as ProfileNode;
    const k = label(n);
    if (!seen.has(k)) {
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
});
console.log("\ninclusive time, top frames:");
for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(t)}  ${k}`);
