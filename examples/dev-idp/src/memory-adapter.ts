/**
 * oidc-provider's storage interface over Maps, one store per provider
 * instance: the dev provider keeps codes, sessions, grants and refresh tokens
 * in memory and loses them when it stops (which is what a dev IdP wants).
 */
type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string };

interface Entry {
  payload: Payload;
  expiresAtMs: number;
}

export type AdapterClass = new (
  model: string,
) => {
  upsert(id: string, payload: Payload, expiresInSeconds?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
};

export function createMemoryAdapter(): AdapterClass {
  const entries = new Map<string, Entry>();
  const live = (key: string): Payload | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  const findBy = (model: string, field: "uid" | "userCode", value: string) => {
    for (const [key, entry] of entries) {
      if (key.startsWith(`${model}:`) && entry.payload[field] === value) return live(key);
    }
    return undefined;
  };

  return class MemoryAdapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }
    async upsert(id: string, payload: Payload, expiresInSeconds?: number) {
      const expiresAtMs = expiresInSeconds ? Date.now() + expiresInSeconds * 1000 : Infinity;
      entries.set(`${this.#model}:${id}`, { payload, expiresAtMs });
    }
    async find(id: string) {
      return live(`${this.#model}:${id}`);
    }
    async findByUid(uid: string) {
      return findBy(this.#model, "uid", uid);
    }
    async findByUserCode(userCode: string) {
      return findBy(this.#model, "userCode", userCode);
    }
    async consume(id: string) {
      const payload = live(`${this.#model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      entries.delete(`${this.#model}:${id}`);
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of entries) {
        if (entry.payload.grantId === grantId) entries.delete(key);
      }
    }
  };
}
