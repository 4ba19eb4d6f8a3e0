/** The key a ConfigError names: what tests of the config reader assert on. */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config-error.ts";

export function configErrorKey(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.key;
  }
  assert.fail("expected a ConfigError");
}
