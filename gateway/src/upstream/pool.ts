/**
 * HTTP/2 sessions to one upstream over mutual TLS. Calls share a session
 * until its peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached; then another
 * session opens. A session that closes or receives GOAWAY is taken out at
 * once, so the next call reconnects (upstream restarts need nothing else).
 * Sessions are kept alive, verified and closed when idle by keepalive.ts;
 * why each session closed is counted (grpc_edge_upstream_sessions_closed_total).
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from "node:http2";
import type { Logger } from "pino";
import { GatewayError } from "../errors.ts";
import { type KeepaliveOptions, SessionKeepalive } from "./keepalive.ts";
import { watchTlsRejection } from "./tls-rejection.ts";

/**
 * Flow-control windows the gateway grants upstreams. Per stream it bounds
 * what a slow browser can leave buffered in the gateway (backpressure stops
 * reading, the window fills, the upstream waits); per session it bounds all
 * streams together. 64 KiB (HTTP/2's default) costs a round trip per 64 KiB.
 */
const STREAM_WINDOW_BYTES = 1024 * 1024;
const SESSION_WINDOW_BYTES = 32 * 1024 * 1024;
/** Larger DATA frames from the upstream: fewer reads and writes per message. */
const MAX_FRAME_BYTES = 256 * 1024;

export interface UpstreamTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SNI and the name checked in the server certificate. */
  readonly serverName: string | undefined;
}

export interface UpstreamPoolOptions {
  readonly name: string;
  /** https://host:port */
  readonly address: URL;
  readonly tls: UpstreamTls;
  /** Cap on streams per session, below the peer's own limit. */
  readonly maxStreamsPerSession: number;
  readonly keepalive: KeepaliveOptions;
  readonly log: Logger;
}

export type SessionState = "connecting" | "ready" | "draining";

/** Why a session closed: the label of grpc_edge_upstream_sessions_closed_total. */
export type SessionCloseReason =
  | "goaway"
  | "ping_timeout"
  | "idle"
  | "closed"
  | "credentials_reloaded"
  | "shutdown";

interface PooledSession {
  readonly session: ClientHttp2Session;
  readonly keepalive: SessionKeepalive;
  state: SessionState;
  active: number;
  /** Set by whoever closes the session first; "closed" when the peer or the network did. */
  closeReason: SessionCloseReason | undefined;
}

export interface UpstreamPool {
  readonly name: string;
  /** The :authority sent on every call. */
  readonly authority: string;
  /**
   * Opens a stream on a session with room, opening one when needed; a
   * promise when the session must first answer a PING (keepalive.ts).
   */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream | Promise<ClientHttp2Stream>;
  /** New sessions use these credentials; open ones drain and close. */
  updateTls(tls: UpstreamTls): void;
  sessionStates(): SessionState[];
  /** Sessions closed since start, by reason. */
  closedSessions(): ReadonlyMap<SessionCloseReason, number>;
  /** Closes every session; with `graceful`, lets open streams finish first. */
  close(graceful: boolean): void;
}

export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const { name, address, log } = options;
  let tls = options.tls;
  const sessions: PooledSession[] = [];
  const closed = new Map<SessionCloseReason, number>();
  const authority = address.host;

  function open(): PooledSession {
    const connectOptions: SecureClientSessionOptions = {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      ALPNProtocols: ["h2"],
      minVersion: "TLSv1.2",
      // HTTP/2's default 64 KiB windows stall a fast stream on round trips.
      settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES },
    };
    if (tls.serverName !== undefined) connectOptions.servername = tls.serverName;
    const session = connect(address, connectOptions);
    watchTlsRejection(session);
    const keepalive = new SessionKeepalive(session, options.keepalive, {
      onUnanswered() {
        end(pooled, "ping_timeout");
        log.warn(
          { upstream: name, pingTimeoutMs: options.keepalive.pingTimeoutMs },
          "upstream session did not answer a PING in time; closed it, new calls use a new session",
        );
        // Its calls end with 14 upstream_ping_timeout.
        session.destroy(
          new GatewayError(
            "upstream_ping_timeout",
            `upstream ${name} did not answer a PING within ${options.keepalive.pingTimeoutMs} ms`,
          ),
        );
      },
      onIdle() {
        end(pooled, "idle");
        session.close();
      },
    });
    const pooled: PooledSession = {
      session,
      keepalive,
      state: "connecting",
      active: 0,
      closeReason: undefined,
    };
    sessions.push(pooled);
    session.once("connect", () => {
      if (pooled.state === "connecting") pooled.state = "ready";
      session.setLocalWindowSize(SESSION_WINDOW_BYTES);
      keepalive.start();
    });
    session.on("goaway", (errorCode) => {
      end(pooled, "goaway");
      log.info({ upstream: name, errorCode }, "upstream sent GOAWAY; new calls use a new session");
    });
    // Errors also reach every stream of the session; the calls report them.
    session.on("error", (err) =>
      log.debug({ upstream: name, err: err.message }, "upstream session error"),
    );
    session.on("close", () => {
      end(pooled, "closed");
      keepalive.stop();
      const reason = pooled.closeReason ?? "closed";
      closed.set(reason, (closed.get(reason) ?? 0) + 1);
    });
    return pooled;
  }

  /** Takes a session out of use (new calls go elsewhere), noting why first. */
  function end(pooled: PooledSession, reason: SessionCloseReason): void {
    pooled.closeReason ??= reason;
    pooled.state = "draining";
    const i = sessions.indexOf(pooled);
    if (i !== -1) sessions.splice(i, 1);
  }

  /** A session with room for one more stream, opening one if none has. */
  function pick(): PooledSession | Promise<PooledSession> {
    for (const pooled of sessions) {
      if (pooled.session.destroyed || pooled.session.closed) continue;
      const peerMax = pooled.session.remoteSettings?.maxConcurrentStreams ?? 100;
      if (pooled.active >= Math.min(peerMax, options.maxStreamsPerSession)) continue;
      return pooled.keepalive.needsVerify() ? verified(pooled) : pooled;
    }
    return open();
  }

  /** The session once it answered a PING; another one if it did not (it is gone then). */
  async function verified(pooled: PooledSession): Promise<PooledSession> {
    await pooled.keepalive.ping();
    return pick();
  }

  function streamOn(pooled: PooledSession, headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const stream = pooled.session.request(headers, { endStream: false });
    pooled.active++;
    pooled.keepalive.streamOpened();
    stream.once("close", () => {
      pooled.active--;
      pooled.keepalive.streamClosed();
    });
    return stream;
  }

  return {
    name,
    authority,
    request(headers) {
      const pooled = pick();
      return pooled instanceof Promise
        ? pooled.then((p) => streamOn(p, headers))
        : streamOn(pooled, headers);
    },
    updateTls(next) {
      tls = next;
      for (const pooled of [...sessions]) {
        end(pooled, "credentials_reloaded");
        pooled.session.close();
      }
    },
    sessionStates: () => sessions.map((s) => s.state),
    closedSessions: () => closed,
    close(graceful) {
      for (const pooled of [...sessions]) {
        end(pooled, "shutdown");
        if (graceful) pooled.session.close();
        else pooled.session.destroy(undefined, constants.NGHTTP2_CANCEL);
      }
    },
  };
}
