/** A set of listeners; `add` returns the function that removes the listener again. */
export interface Subscribers<T> {
  add(listener: (value: T) => void): () => void;
  emit(value: T): void;
}

export function createSubscribers<T>(): Subscribers<T> {
  const listeners = new Set<(value: T) => void>();
  return {
    add(listener) {
      // A wrapper per subscription, so the same function subscribed twice is
      // called twice and each unsubscribe removes only its own.
      const entry = (value: T) => listener(value);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    emit(value) {
      for (const listener of [...listeners]) {
        try {
          listener(value);
        } catch (err) {
          // One failing listener must not stop the others or the SDK.
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    },
  };
}
