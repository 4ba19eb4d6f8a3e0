import { hasIndexedDb, LEASE_STORE, transact } from "./indexed-db.ts";
import { createLeaseLock, type Exclusive, type Lease, type LeaseStore } from "./lease-lock.ts";

export type { Exclusive };

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * A cross-tab lock: the Web Locks API where the browser has it (held until
 * the task settles, released by the browser if the tab dies), else a lease in
 * IndexedDB, else (neither) nothing beyond this tab.
 */
export function createTabLock(name: string): Exclusive {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  if (typeof locks?.request === "function") {
    return (task) => locks.request(name, task);
  }
  return hasIndexedDb() ? createLeaseLock(indexedDbLeases(name)) : (task) => task();
}

/** The lease as one IndexedDB record: a readwrite transaction makes read-then-write atomic across tabs. */
function indexedDbLeases(name: string): LeaseStore {
  return {
    tryTake: (owner, untilMs, nowMs) =>
      transact(LEASE_STORE, "readwrite", (objects, done) => {
        const request = objects.get(name);
        request.onsuccess = () => {
          const lease = request.result as Lease | undefined;
          const free = lease === undefined || lease.untilMs <= nowMs || lease.owner === owner;
          if (free) objects.put({ owner, untilMs }, name);
          done(free);
        };
      }),
    release: (owner) =>
      transact(LEASE_STORE, "readwrite", (objects, done) => {
        const request = objects.get(name);
        request.onsuccess = () => {
          if ((request.result as Lease | undefined)?.owner === owner) objects.delete(name);
          done(undefined);
        };
      }),
  };
}
