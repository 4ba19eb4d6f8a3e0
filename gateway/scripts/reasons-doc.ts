// Writes the table of reason codes (from src/errors.ts) into the root
// README between the reasons markers. `--check` fails when it is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { reasons } from "../src/errors.ts";
import { codeName } from "../src/grpc-web/grpc-status.ts";

export function reasonsTable(): string {
  const rows = Object.entries(reasons).map(
    ([reason, info]) =>
      `| \`${reason}\` | ${info.code} ${codeName(info.code).toUpperCase()} | ${info.advice.replaceAll("|", "\\|")} |`,
  );
  return ["| reason | gRPC status | meaning and what to do |", "| --- | --- | --- |", ...rows].join(
    "\n",
  );
}

const readme = new URL("../../README.md", import.meta.url);
const text = readFileSync(readme, "utf8");
const updated = text.replace(
  /(<!-- reasons:start -->\n)[\s\S]*?(<!-- reasons:end -->)/,
  `$1${reasonsTable()}\n$2`,
);
if (process.argv.includes("--check")) {
  if (updated !== text) {
    process.stderr.write(
      "README.md's reason table is stale: run `npm run docs:reasons -w @grpc-edge/gateway`\n",
    );
    process.exit(1);
  }
} else {
  writeFileSync(readme, updated);
}
