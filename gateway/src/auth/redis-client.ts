// The Redis client package, in a module of its own that redis-replay-store.ts
// imports when a gateway uses a Redis replay store. A static re-export names
// the CommonJS package's exports the same way under Node and in the CLI
// bundle (scripts/bundle.ts), where `import("redis")` itself would give only
// a default export.
export { createClient } from "redis";
