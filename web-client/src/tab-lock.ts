/** Runs `task` while no other tab of this origin runs a task under the same name. */
export type Exclusive = <T>(task: () => Promise<T>) => Promise<T>;

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * A cross-tab lock: the Web Locks API where the browser has it (held until
 * the task settles, released by the browser if the tab dies), else a lease in
 * localStorage, else (no shared storage) nothing beyond this tab.
 */
export function createTabLock(name: string): Exclusive {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  if (typeof locks?.request === "function") {
    return (task) => locks.request(name, task);
  }
  const storage = sharedStorage();
  return storage === undefined ? (task) => task() : createLeaseLock(storage, name);
}

function sharedStorage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    // Storage access can throw (disabled cookies, sandboxed frames).
    return undefined;
  }
}

export interface LeaseLockOptions {
  /** A holder that dies keeps others waiting at most this long. */
  readonly leaseMs?: number;
  /** Time for a competing write to become visible before ownership is read back. */
  readonly settleMs?: number;
  readonly pollMs?: number;
}

type StorageLike = Pick<Storage, "getItem" | "setItem" | "removeItem">;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Best-effort mutual exclusion through a lease in shared storage, for browsers
 * without Web Locks: write a lease, wait for competing writes to land, and own
 * the lock only if the lease read back is still ours (the last writer wins).
 */
export function createLeaseLock(
  storage: StorageLike,
  key: string,
  options: LeaseLockOptions = {},
): Exclusive {
  const leaseMs = options.leaseMs ?? 30_000;
  const settleMs = options.settleMs ?? 50;
  const pollMs = options.pollMs ?? 100;
  const owner = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

  const holder = (): { owner?: unknown; until?: unknown } | null => {
    try {
      return JSON.parse(storage.getItem(key) ?? "null");
    } catch {
      return null;
    }
  };

  async function acquire(): Promise<void> {
    for (;;) {
      const lease = holder();
      if (lease === null || typeof lease.until !== "number" || lease.until <= Date.now()) {
        storage.setItem(key, JSON.stringify({ owner, until: Date.now() + leaseMs }));
        await sleep(settleMs);
        if (holder()?.owner === owner) return;
      }
      await sleep(pollMs + Math.random() * pollMs);
    }
  }

  return async (task) => {
    await acquire();
    try {
      return await task();
    } finally {
      if (holder()?.owner === owner) storage.removeItem(key);
    }
  };
}
