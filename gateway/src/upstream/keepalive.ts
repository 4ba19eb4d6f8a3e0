/**
 * Keepalive for one upstream HTTP/2 session, after gRPC's client-side
 * keepalive (gRPC proposal A8) as connect-node's session manager and
 * grpc-go's keepalive apply it. A load balancer or NAT that drops an idle
 * connection without a FIN leaves a session that looks open; calls sent on
 * it would hang until TCP gives up. So:
 *
 * - a session from which nothing has arrived for `pingIntervalMs` (streams
 *   open or not) is sent a PING;
 * - a session that has been quiet that long is verified with a PING before
 *   a new call uses it (the call waits for the answer);
 * - a PING not answered within `pingTimeoutMs` ends the session
 *   (`onUnanswered`), and the next call opens a new one;
 * - a session without streams for `idleConnectionTimeoutMs` ends (`onIdle`).
 *
 * "Something arrived" is read from the session socket's byte count, so
 * the call path pays for no timer and no listener.
 */
import type { ClientHttp2Session } from "node:http2";

export interface KeepaliveOptions {
  /** 0: no PINGs. */
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  /** 0: idle sessions stay open. */
  readonly idleConnectionTimeoutMs: number;
}

export interface KeepaliveEvents {
  /** A PING went unanswered for pingTimeoutMs: the session is dead. */
  readonly onUnanswered: () => void;
  /** No stream for idleConnectionTimeoutMs. */
  readonly onIdle: () => void;
}

export class SessionKeepalive {
  readonly #session: ClientHttp2Session;
  readonly #options: KeepaliveOptions;
  readonly #events: KeepaliveEvents;
  #bytesRead = 0;
  #lastHeardMs = performance.now();
  #ping: Promise<boolean> | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleSinceMs = performance.now();
  #streams = 0;
  #stopped = false;

  constructor(session: ClientHttp2Session, options: KeepaliveOptions, events: KeepaliveEvents) {
    this.#session = session;
    this.#options = options;
    this.#events = events;
  }

  /** Starts the timers (once the session is connected). */
  start(): void {
    this.#lastHeardMs = performance.now();
    if (this.#options.pingIntervalMs > 0) this.#armPing(this.#options.pingIntervalMs);
    if (this.#streams === 0) this.#armIdle(this.#options.idleConnectionTimeoutMs);
  }

  streamOpened(): void {
    this.#streams++;
  }

  streamClosed(): void {
    if (--this.#streams > 0) return;
    this.#idleSinceMs = performance.now();
    if (this.#idleTimer === undefined) this.#armIdle(this.#options.idleConnectionTimeoutMs);
  }

  /** True when a new call must wait for a PING: quiet past pingIntervalMs, or one in flight. */
  needsVerify(): boolean {
    if (this.#options.pingIntervalMs === 0) return false;
    if (this.#ping !== undefined) return true;
    return this.#quietMs(performance.now()) >= this.#options.pingIntervalMs;
  }

  /**
   * PINGs the session (one PING at a time); resolves true on the answer,
   * false when none came within pingTimeoutMs (onUnanswered has run).
   */
  ping(): Promise<boolean> {
    this.#ping ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        resolve(false);
        if (!this.#stopped) this.#events.onUnanswered();
      }, this.#options.pingTimeoutMs);
      timer.unref();
      const answered = (err: Error | null) => {
        clearTimeout(timer);
        if (err === null) this.#lastHeardMs = performance.now();
        resolve(err === null);
        // A PING that cannot be sent on a live session: as good as unanswered.
        if (err !== null && !this.#stopped && !this.#session.destroyed) this.#events.onUnanswered();
      };
      try {
        if (!this.#session.ping(answered)) answered(new Error("too many PINGs in flight"));
      } catch (err) {
        answered(err as Error);
      }
    }).finally(() => {
      this.#ping = undefined;
    });
    return this.#ping;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#idleTimer);
  }

  /** Milliseconds since anything arrived on the session, as of `nowMs`. */
  #quietMs(nowMs: number): number {
    if (nowMs - this.#lastHeardMs < this.#options.pingIntervalMs) return nowMs - this.#lastHeardMs;
    const read = this.#session.destroyed ? this.#bytesRead : this.#session.socket.bytesRead;
    if (read !== this.#bytesRead) {
      this.#bytesRead = read;
      this.#lastHeardMs = nowMs;
    }
    return nowMs - this.#lastHeardMs;
  }

  #armPing(delayMs: number): void {
    this.#pingTimer = setTimeout(() => {
      if (this.#stopped) return;
      const interval = this.#options.pingIntervalMs;
      const quiet = this.#quietMs(performance.now());
      if (quiet < interval) {
        this.#armPing(interval - quiet);
        return;
      }
      this.ping().then((answered) => {
        if (answered && !this.#stopped) this.#armPing(interval);
      });
    }, delayMs);
    this.#pingTimer.unref();
  }

  #armIdle(delayMs: number): void {
    if (delayMs === 0 || this.#stopped) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#stopped || this.#streams > 0) return;
      const idle = performance.now() - this.#idleSinceMs;
      const limit = this.#options.idleConnectionTimeoutMs;
      if (idle >= limit) this.#events.onIdle();
      else this.#armIdle(limit - idle);
    }, delayMs);
    this.#idleTimer.unref();
  }
}
