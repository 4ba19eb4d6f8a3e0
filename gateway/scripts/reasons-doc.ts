// Writes the table of reason codes (scripts/reasons-table.ts) into the root
// README between the reasons markers. `--check` fails when it is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { withReasonsTable } from "./reasons-table.ts";

const readme = new URL("../../README.md", import.meta.url);
const text = readFileSync(readme, "utf8");
const updated = withReasonsTable(text);
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
