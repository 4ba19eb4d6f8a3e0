/**
 * Incremental base64 for grpc-web-text (DESIGN.md checklist items 3 and 4).
 * Input arrives in arbitrary chunks, and clients may pad at any 4-character
 * boundary (each frame base64-encoded on its own, then concatenated), which
 * Buffer's decoder alone does not handle: it stops at the first "=".
 */
import { GatewayError } from "../errors.ts";

const BASE64_CHARS = /^[A-Za-z0-9+/=]*$/;
/** A complete quartet with padding: "xx==" or "xxx=". */
const PADDED_QUARTET = /^[A-Za-z0-9+/]{2}(?:==|[A-Za-z0-9+/]=)$/;

export class Base64Decoder {
  /** 0-3 characters left over from the previous chunk. */
  private pending = "";

  /** Decodes what can be decoded from this chunk; keeps the rest. */
  push(chunk: Uint8Array): Buffer {
    const text =
      this.pending +
      Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
    if (!BASE64_CHARS.test(text)) {
      throw new GatewayError("invalid_base64", "grpc-web-text body has a character outside base64");
    }
    const usable = text.length - (text.length % 4);
    this.pending = text.slice(usable);
    return decodeQuartets(text, usable);
  }

  /** Call at the end of the body: leftover characters are an error. */
  end(): void {
    if (this.pending.length !== 0) {
      throw new GatewayError("invalid_base64", "grpc-web-text body ends inside a base64 quartet");
    }
  }
}

/** Decodes text[0, length) where length is a multiple of 4; padding may end any quartet. */
function decodeQuartets(text: string, length: number): Buffer {
  let pad = text.indexOf("=");
  if (pad === -1 || pad >= length) return Buffer.from(text.slice(0, length), "base64");
  const parts: Buffer[] = [];
  let start = 0;
  while (pad !== -1 && pad < length) {
    const quartetEnd = pad - (pad % 4) + 4;
    const quartet = text.slice(quartetEnd - 4, quartetEnd);
    if (!PADDED_QUARTET.test(quartet)) {
      throw new GatewayError("invalid_base64", "grpc-web-text body has misplaced base64 padding");
    }
    parts.push(Buffer.from(text.slice(start, quartetEnd), "base64"));
    start = quartetEnd;
    pad = text.indexOf("=", start);
  }
  if (start < length) parts.push(Buffer.from(text.slice(start, length), "base64"));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * Encodes one response chunk on its own, padded: every write reaches the
 * browser whole, so a long-lived stream never holds back a message's last
 * bytes waiting for the next one.
 */
export function encodeBase64Chunk(chunk: Uint8Array): Buffer {
  return Buffer.from(
    Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64"),
    "latin1",
  );
}
