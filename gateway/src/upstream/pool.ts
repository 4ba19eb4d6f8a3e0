/**
 * HTTP/2 sessions to one upstream over mutual TLS. Calls share a session
 * until its peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached; then another
 * session opens. A session that closes or receives GOAWAY is taken out at
 * once, so the next call reconnects (upstream restarts need nothing else).
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
  readonly log: Logger;
}

export type SessionState = "connecting" | "ready" | "draining";

interface PooledSession {
  readonly session: ClientHttp2Session;
  state: SessionState;
  active: number;
}

export interface UpstreamPool {
  readonly name: string;
  /** The :authority sent on every call. */
  readonly authority: string;
  /** Opens a stream on a session with room, opening one when needed. */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream;
  /** New sessions use these credentials; open ones drain and close. */
  updateTls(tls: UpstreamTls): void;
  sessionStates(): SessionState[];
  /** Closes every session; with `graceful`, lets open streams finish first. */
  close(graceful: boolean): void;
}

export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const { name, address, log } = options;
  let tls = options.tls;
  const sessions: PooledSession[] = [];
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
    const pooled: PooledSession = { session, state: "connecting", active: 0 };
    sessions.push(pooled);
    const remove = () => {
      const i = sessions.indexOf(pooled);
      if (i !== -1) sessions.splice(i, 1);
    };
    session.once("connect", () => {
      if (pooled.state === "connecting") pooled.state = "ready";
      session.setLocalWindowSize(SESSION_WINDOW_BYTES);
    });
    session.on("goaway", (errorCode) => {
      pooled.state = "draining";
      remove();
      log.info({ upstream: name, errorCode }, "upstream sent GOAWAY; new calls use a new session");
    });
    // Errors also reach every stream of the session; the calls report them.
    session.on("error", (err) =>
      log.debug({ upstream: name, err: err.message }, "upstream session error"),
    );
    session.on("close", remove);
    return pooled;
  }

  function pick(): PooledSession {
    for (const pooled of sessions) {
      if (pooled.state === "draining" || pooled.session.destroyed || pooled.session.closed)
        continue;
      const peerMax = pooled.session.remoteSettings?.maxConcurrentStreams ?? 100;
      if (pooled.active < Math.min(peerMax, options.maxStreamsPerSession)) return pooled;
    }
    return open();
  }

  return {
    name,
    authority,
    request(headers) {
      const pooled = pick();
      pooled.active++;
      const stream = pooled.session.request(headers, { endStream: false });
      stream.once("close", () => {
        pooled.active--;
      });
      return stream;
    },
    updateTls(next) {
      tls = next;
      for (const pooled of sessions.splice(0)) {
        pooled.state = "draining";
        pooled.session.close();
      }
    },
    sessionStates: () => sessions.map((s) => s.state),
    close(graceful) {
      for (const pooled of sessions.splice(0)) {
        pooled.state = "draining";
        if (graceful) pooled.session.close();
        else pooled.session.destroy(undefined, constants.NGHTTP2_CANCEL);
      }
    },
  };
}
