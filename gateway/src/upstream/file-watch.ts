/**
 * Polls files for changes (mtime, size, inode) so that renewed certificates
 * take effect without a restart. Polling rather than fs.watch: it follows
 * symlink swaps (Kubernetes secrets, certbot) and works on every filesystem.
 */
import { statSync } from "node:fs";

export interface FileWatcher {
  close(): void;
}

function signature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return "missing";
  }
}

/** Calls onChange (once per change, for the whole group) when any file changes. */
export function watchFiles(
  files: readonly string[],
  intervalMs: number,
  onChange: () => void,
): FileWatcher {
  let last = files.map(signature).join("|");
  const timer = setInterval(() => {
    const now = files.map(signature).join("|");
    if (now === last) return;
    last = now;
    onChange();
  }, intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
