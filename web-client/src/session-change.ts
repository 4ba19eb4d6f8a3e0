/**
 * What a `storage` event says about the session another tab changed: the
 * tabs of an origin share it through localStorage, and the browser fires
 * `storage` in every other tab when it changes.
 */
export function sessionChange(
  event: { key: string | null; oldValue: string | null; newValue: string | null },
  userKey: string,
): "signed-in" | "refreshed" | "signed-out" | undefined {
  // key null: the other tab called localStorage.clear().
  if (event.key === null) return "signed-out";
  if (event.key !== userKey) return undefined;
  if (event.newValue === null) return event.oldValue === null ? undefined : "signed-out";
  return event.oldValue === null ? "signed-in" : "refreshed";
}
