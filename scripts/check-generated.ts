// Fails when the committed code under proto/gen differs from what buf
// generates from proto/proto now: generated code is never edited by hand.
import { execFileSync } from "node:child_process";

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

run("npx", ["--no-install", "buf", "lint"]);
run("npx", ["--no-install", "buf", "generate"]);
const status = run("git", ["status", "--porcelain", "--", "proto/gen"]);
if (status.trim() !== "") {
  process.stderr.write(
    `proto/gen is out of date with proto/proto; run \`npm run generate\` and commit:\n${status}`,
  );
  process.exit(1);
}
process.stdout.write("proto/gen matches proto/proto\n");
