import type { StateStore } from "oidc-client-ts";
import { SESSION_STORE, transact } from "./indexed-db.ts";

/** oidc-client-ts's user store in IndexedDB, shared by the tabs of an origin. */
export class SharedSessionStore implements StateStore {
  set(key: string, value: string): Promise<void> {
    return transact(SESSION_STORE, "readwrite", (objects, done) => {
      objects.put(value, key);
      done(undefined);
    });
  }

  get(key: string): Promise<string | null> {
    return transact(SESSION_STORE, "readonly", (objects, done) => {
      const request = objects.get(key);
      request.onsuccess = () => done((request.result as string | undefined) ?? null);
    });
  }

  remove(key: string): Promise<string | null> {
    return transact(SESSION_STORE, "readwrite", (objects, done) => {
      const request = objects.get(key);
      request.onsuccess = () => {
        done((request.result as string | undefined) ?? null);
        objects.delete(key);
      };
    });
  }

  getAllKeys(): Promise<string[]> {
    return transact(SESSION_STORE, "readonly", (objects, done) => {
      const request = objects.getAllKeys();
      request.onsuccess = () => done(request.result.map(String));
    });
  }
}
