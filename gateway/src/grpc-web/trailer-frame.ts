/**
 * The gRPC-Web trailer frame (PROTOCOL-WEB.md, "Message framing"): flag 0x80,
 * 4-byte big-endian length, then `key: value\r\n` lines with lower-case keys.
 */
import type { OutgoingHttpHeaders } from "node:http";
import { FLAG_TRAILER } from "./frame-scanner.ts";

/** Headers that never belong in a trailer frame (HTTP/2 pseudo and framing). */
function isTransportHeader(name: string): boolean {
  return (
    name.startsWith(":") || name === "content-type" || name === "content-length" || name === "te"
  );
}

/** Encodes trailers (HTTP/2 trailers from upstream, or made here) as one frame. */
export function encodeTrailerFrame(trailers: OutgoingHttpHeaders): Buffer {
  let text = "";
  for (const [rawName, value] of Object.entries(trailers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (isTransportHeader(name)) continue;
    if (Array.isArray(value)) {
      for (const v of value) text += `${name}: ${v}\r\n`;
    } else {
      text += `${name}: ${value}\r\n`;
    }
  }
  const body = Buffer.from(text, "latin1");
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = FLAG_TRAILER;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/** Parses a trailer frame's body (after the 5-byte prefix); used by tests and tools. */
export function parseTrailerBlock(body: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of Buffer.from(body).toString("latin1").split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}
