/** Tools the benchmark takes from Debian's archive, installed on first use when root can. */
import { execFileSync } from "node:child_process";

/**
 * True when `command` runs (`probe` arguments; `okStatus` lists exit codes
 * that still mean it is there); otherwise installs Debian package `pkg`
 * (apt-get, running `apt-get update` once if the package is unknown) when
 * this process is root, and probes again.
 */
export function ensureDebianTool(
  command: string,
  pkg: string,
  probe: string[] = ["--version"],
  okStatus: number[] = [0],
): boolean {
  const has = () => {
    try {
      execFileSync(command, probe, { stdio: "ignore" });
      return true;
    } catch (err) {
      return okStatus.includes((err as { status?: number }).status ?? -1);
    }
  };
  if (has()) return true;
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync(
      "sh",
      ["-c", `apt-get install -y ${pkg} || (apt-get update && apt-get install -y ${pkg})`],
      { stdio: "ignore" },
    );
  } catch {
    return false;
  }
  return has();
}
