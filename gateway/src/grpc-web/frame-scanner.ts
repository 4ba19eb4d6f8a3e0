/**
 * Follows gRPC length-prefixed framing across arbitrary chunk boundaries
 * without copying or holding message bytes: chunks are forwarded as they
 * are, and sizes are checked from the 5-byte prefix before the message
 * arrives (DESIGN.md decisions 1 and 3; checklist items 12 and 13).
 */
import { GatewayError } from "../errors.ts";

export const FLAG_COMPRESSED = 0x01;
export const FLAG_TRAILER = 0x80;

export interface FrameScannerOptions {
  readonly maxMessageBytes: number;
  /** Which direction, for error messages: "request" or "response". */
  readonly direction: "request" | "response";
  /** Whether a frame with the compressed flag may pass. */
  readonly allowCompressed: boolean;
  /** Whether a trailer frame (0x80) may appear (never from a browser). */
  readonly allowTrailer: boolean;
}

export class FrameScanner {
  private readonly options: FrameScannerOptions;
  /** Header bytes still needed (0 while inside a message body). */
  private headerNeeded = 5;
  /** The prefix read so far: flags, then the length, big-endian (no buffer per scanner). */
  private flags = 0;
  private length = 0;
  private bodyRemaining = 0;
  /** Complete frames seen (data and trailer). */
  frames = 0;

  constructor(options: FrameScannerOptions) {
    this.options = options;
  }

  /** True when the bytes seen so far end exactly at a frame boundary. */
  get atBoundary(): boolean {
    return this.headerNeeded === 5 && this.bodyRemaining === 0;
  }

  /** Inspects one chunk; throws GatewayError on a size or flag violation. */
  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.bodyRemaining > 0) {
        const take = Math.min(this.bodyRemaining, n - i);
        this.bodyRemaining -= take;
        i += take;
        if (this.bodyRemaining === 0) this.frames++;
        continue;
      }
      const byte = chunk[i] as number;
      if (this.headerNeeded === 5) this.flags = byte;
      else this.length = this.length * 256 + byte;
      this.headerNeeded--;
      i++;
      if (this.headerNeeded === 0) this.onHeader();
    }
  }

  private onHeader(): void {
    const { flags, length } = this;
    this.length = 0;
    const { direction, maxMessageBytes } = this.options;
    if ((flags & FLAG_TRAILER) !== 0) {
      if (!this.options.allowTrailer) {
        throw new GatewayError("malformed_frame", `unexpected trailer frame in the ${direction}`);
      }
    } else if ((flags & ~FLAG_COMPRESSED) !== 0) {
      throw new GatewayError(
        "malformed_frame",
        `unknown frame flags 0x${flags.toString(16)} in the ${direction}`,
      );
    } else if ((flags & FLAG_COMPRESSED) !== 0 && !this.options.allowCompressed) {
      throw new GatewayError(
        "upstream_compressed",
        `compressed ${direction} message, but compression was not negotiated`,
      );
    }
    if (length > maxMessageBytes) {
      throw new GatewayError(
        "message_too_large",
        `${direction} message of ${length} bytes exceeds limits.maxMessageBytes (${maxMessageBytes})`,
      );
    }
    this.headerNeeded = 5;
    this.bodyRemaining = length;
    if (length === 0) this.frames++; // zero-length messages are valid
  }
}
