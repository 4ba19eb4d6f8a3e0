/**
 * The SDK's IndexedDB database: the session the tabs of an origin share, and
 * the refresh lease. IndexedDB rather than localStorage because its
 * transactions are atomic and a committed write is seen by every tab's next
 * transaction; localStorage may show another tab's write late (Chromium syncs
 * each renderer's copy asynchronously), so a tab could redeem a refresh token
 * another tab had already rotated.
 */
export const SESSION_STORE = "session";
export const LEASE_STORE = "leases";

let opening: Promise<IDBDatabase> | undefined;

export function hasIndexedDb(): boolean {
  return typeof indexedDB !== "undefined";
}

function open(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open("grpc-edge", 1);
    request.onupgradeneeded = () => {
      for (const name of [SESSION_STORE, LEASE_STORE]) request.result.createObjectStore(name);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  }).catch((err: unknown) => {
    opening = undefined;
    throw err;
  });
  return opening;
}

/**
 * Runs `work` in one transaction on `store` and resolves, once the
 * transaction has committed, with what `work` passed to `done`.
 */
export async function transact<T>(
  store: string,
  mode: IDBTransactionMode,
  work: (objects: IDBObjectStore, done: (value: T) => void) => void,
): Promise<T> {
  const db = await open();
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(store, mode);
    let result: T;
    work(tx.objectStore(store), (value) => {
      result = value;
    });
    tx.oncomplete = () => resolve(result);
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}
