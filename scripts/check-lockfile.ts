// Fails when `npm ci` would refuse the committed package-lock.json, as it does
// when the lockfile lacks other platforms' optional packages (the container
// image and users' CI install with `npm ci`). `npm install` quietly rewrites
// such a lockfile, so the committed one is checked, in a scratch folder with
// this checkout's package.json files.
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const committed = execFileSync("git", ["show", "HEAD:package-lock.json"], {
  cwd: root,
  encoding: "utf8",
});
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  workspaces: string[];
};

/** Workspace folders, with `dir/*` patterns expanded. */
function workspaceDirs(): string[] {
  return manifest.workspaces.flatMap((pattern) => {
    if (!pattern.endsWith("/*")) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(root, parent)).map((name) => `${parent}/${name}`);
  });
}

const scratch = mkdtempSync(join(tmpdir(), "lockfile-check-"));
try {
  writeFileSync(join(scratch, "package-lock.json"), committed);
  cpSync(join(root, "package.json"), join(scratch, "package.json"));
  for (const dir of workspaceDirs()) {
    const file = join(root, dir, "package.json");
    if (!existsSync(file)) continue;
    mkdirSync(dirname(join(scratch, dir, "package.json")), { recursive: true });
    cpSync(file, join(scratch, dir, "package.json"));
  }
  const result = spawnSync(
    "npm",
    ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"],
    {
      cwd: scratch,
      encoding: "utf8",
    },
  );
  if (result.status !== 0) {
    const said = `${result.stdout}${result.stderr}`
      .split("\n")
      .filter((line) => /in sync|Missing:|Invalid:/.test(line))
      .slice(0, 12)
      .join("\n");
    process.stderr.write(
      `package-lock.json: \`npm ci\` would refuse the committed lockfile:\n${said}\n` +
        "Run `npm install` and commit package-lock.json.\n",
    );
    process.exit(1);
  }
  process.stdout.write("package-lock.json: npm ci accepts it\n");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
