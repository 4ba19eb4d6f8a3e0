/**
 * grpc-timeout (gRPC over HTTP/2: `TimeoutValue TimeoutUnit`, 1-8 ASCII
 * digits then H, M, S, m, u or n). DESIGN.md checklist item 9.
 */
import { GatewayError } from "../errors.ts";

const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** The timeout in milliseconds, or undefined when the header is absent. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) {
    throw new GatewayError("invalid_timeout", `malformed grpc-timeout "${value.slice(0, 16)}"`);
  }
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/**
 * Formats milliseconds as a grpc-timeout value, choosing the finest unit
 * that fits in 8 digits (never rounding a deadline up by more than 1 unit).
 */
export function formatGrpcTimeout(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 1e5) return `${Math.ceil(safe * 1000)}u`;
  if (safe < 1e8) return `${Math.ceil(safe)}m`;
  if (safe < 1e11) return `${Math.ceil(safe / 1000)}S`;
  return `${Math.ceil(safe / 60_000)}M`;
}
