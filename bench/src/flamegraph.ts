/**
 * Renders a V8 .cpuprofile (from --cpu-prof) as a flame graph SVG, drawn as
 * an icicle: one box per stack frame, as wide as the time spent in it and
 * its callees, callers above callees, so the wide boxes that matter are at
 * the top. Stacks deeper than MAX_DEPTH are cut (start-up module loading).
 * Idle and GC are kept (they are part of the cost).
 * Hover a box for its function, file and share.
 * Usage: node bench/src/flamegraph.ts <file.cpuprofile> <out.svg> [title]
 */
import { writeFileSync } from "node:fs";
import { loadProfile, type ProfileNode } from "./cpu-profile.ts";

interface Box {
  name: string;
  detail: string;
  total: number;
  children: Map<string, Box>;
}

const [input, output, title = "gateway CPU profile"] = process.argv.slice(2) as [
  string,
  string,
  string | undefined,
];
const profile = loadProfile(input);
const { byId, parent } = profile;

const frameName = (n: ProfileNode) => n.callFrame.functionName || "(anonymous)";
const frameDetail = (n: ProfileNode) => {
  const { url, lineNumber } = n.callFrame;
  if (url === "") return frameName(n);
  const short = url.replace(/^file:\/\/.*?\/(node_modules|gateway|bench)\//, "$1/");
  return `${frameName(n)} ${short}:${lineNumber + 1}`;
};

// Merge the sampled stacks into one tree (same frame under the same parent = one box).
const root: Box = { name: "all", detail: "all samples", total: 0, children: new Map() };
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const stack: ProfileNode[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur) as ProfileNode;
    if (n.callFrame.functionName !== "(root)") stack.push(n);
  }
  root.total += dt;
  let box = root;
  for (const n of stack.reverse()) {
    const key = frameDetail(n);
    let child = box.children.get(key);
    if (child === undefined) {
      child = { name: frameName(n), detail: key, total: 0, children: new Map() };
      box.children.set(key, child);
    }
    child.total += dt;
    box = child;
  }
});

const WIDTH = 1600;
const ROW = 17;
const MIN_WIDTH = 0.5;
const MAX_DEPTH = 40;
const TOP = 26;
let depthMax = 0;
const rects: string[] = [];
const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
function colour(detail: string): string {
  if (detail.includes("gateway/")) return "#e8743b"; // ours
  if (detail.includes("node_modules/")) return "#d9b44a"; // npm packages
  if (detail.includes("node:")) return "#6aa0d8"; // Node's own JS
  return "#b0b0b0"; // native, GC, idle
}
function draw(box: Box, x: number, depth: number): void {
  const w = (box.total / root.total) * WIDTH;
  if (w < MIN_WIDTH || depth > MAX_DEPTH) return;
  depthMax = Math.max(depthMax, depth);
  const share = ((100 * box.total) / root.total).toFixed(2);
  const label = w > 40 ? escapeXml(box.name.slice(0, Math.floor(w / 7))) : "";
  rects.push(
    `<g><title>${escapeXml(box.detail)} — ${share}%</title><rect x="${x.toFixed(2)}" y="{Y${depth}}" width="${w.toFixed(2)}" height="${ROW - 1}" fill="${colour(box.detail)}" rx="2"/><text x="${(x + 3).toFixed(2)}" y="{T${depth}}">${label}</text></g>`,
  );
  let cx = x;
  for (const child of [...box.children.values()].sort((a, b) => b.total - a.total)) {
    draw(child, cx, depth + 1);
    cx += (child.total / root.total) * WIDTH;
  }
}
draw(root, 0, 0);
const height = TOP + (depthMax + 1) * ROW + 10;
// Callers on top: depth 0 is the first row under the title.
const svg = rects
  .join("\n")
  .replace(/\{Y(\d+)\}/g, (_, d) => String(TOP + Number(d) * ROW))
  .replace(/\{T(\d+)\}/g, (_, d) => String(TOP + Number(d) * ROW + 12));
writeFileSync(
  output,
  `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">
<title>${escapeXml(title)}</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="4" y="16" font-size="14">${escapeXml(title)} (${(root.total / 1e6).toFixed(1)} s sampled; orange: gateway, yellow: npm, blue: Node, grey: native/GC/idle)</text>
${svg}
</svg>
`,
);
console.log(`${output}: ${rects.length} boxes`);
