/** Runs `task` while no other tab of this origin runs a task under the same name. */
export type Exclusive = <T>(task: () => Promise<T>) => Promise<T>;

/** An atomic lease: taken only if free, expired or already the caller's. */
export interface LeaseStore {
  tryTake(owner: string, untilMs: number, nowMs: number): Promise<boolean>;
  release(owner: string): Promise<void>;
}

export interface Lease {
  owner: string;
  untilMs: number;
}

export interface LeaseLockOptions {
  /** A holder that dies keeps others waiting at most this long. */
  readonly leaseMs?: number;
  readonly pollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Mutual exclusion through a lease, for browsers without Web Locks. */
export function createLeaseLock(leases: LeaseStore, options: LeaseLockOptions = {}): Exclusive {
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 50;
  const tab = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  let taken = 0;
  return async (task) => {
    const owner = `${tab}-${++taken}`;
    while (!(await leases.tryTake(owner, Date.now() + leaseMs, Date.now()))) {
      await sleep(pollMs + Math.random() * pollMs);
    }
    try {
      return await task();
    } finally {
      await leases.release(owner);
    }
  };
}
