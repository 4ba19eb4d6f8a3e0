/**
 * Server-provided DPoP nonces (RFC 9449 §9), without shared state: a nonce is
 * a time slot and its HMAC under a secret, so every process with the same
 * secret issues and accepts the same nonces. One stays valid for its own slot
 * and the next (a lifetime between one and two slots), so nonces rotate
 * without a client that just got one being refused.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export interface DpopNonces {
  /** The nonce to hand out now. */
  current(): string;
  /** Whether `nonce` was handed out in this slot or the previous one. */
  accepts(nonce: string | undefined): boolean;
}

export function createDpopNonces(options: {
  readonly secret: Buffer;
  readonly slotMs: number;
  readonly now: () => number;
}): DpopNonces {
  const mac = (slot: number) =>
    createHmac("sha256", options.secret).update(String(slot)).digest().subarray(0, 16);
  const make = (slot: number) => `${slot.toString(36)}.${mac(slot).toString("base64url")}`;
  const slotNow = () => Math.floor(options.now() / options.slotMs);
  return {
    current: () => make(slotNow()),
    accepts(nonce) {
      if (nonce === undefined) return false;
      const [slotText = "", macText = ""] = nonce.split(".");
      const slot = Number.parseInt(slotText, 36);
      const current = slotNow();
      if (!Number.isSafeInteger(slot) || slot > current || slot < current - 1) return false;
      const given = Buffer.from(macText, "base64url");
      const expected = mac(slot);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
