/**
 * gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html)
 * and the grpc-message encoding of the gRPC over HTTP/2 spec.
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/** Lower-case names by code, built once (this runs for every call's log line and metrics). */
const CODE_NAMES: readonly string[] = Object.entries(Code).reduce<string[]>(
  (names, [name, value]) => {
    names[value] = name.toLowerCase();
    return names;
  },
  [],
);

/** Lower-case names as used in logs and metrics labels. */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `code_${code}`;
}

/**
 * Maps a non-gRPC HTTP status from an upstream to a gRPC code, per the table
 * in https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md.
 */
export function codeFromHttpStatus(httpStatus: number): Code {
  switch (httpStatus) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      return Code.UNKNOWN;
  }
}

/**
 * Percent-encodes a grpc-message: bytes outside 0x20-0x7E and "%" itself are
 * written as %XX of their UTF-8 encoding (gRPC over HTTP/2, "Responses").
 */
export function encodeGrpcMessage(message: string): string {
  // Fast path: nearly every message is plain ASCII.
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Decodes a grpc-message leniently: a malformed escape is kept as it is. */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch === 0x25 && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(value[i] ?? "", "utf8")) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
