/**
 * A client certificate the upstream rejects, told apart from a cancelled
 * call. In TLS 1.3 the client's handshake is complete once it has sent its
 * Finished, before the server has checked the client's certificate
 * (RFC 8446 §4.4.2), so the rejection arrives after the session's
 * 'connect': as an alert (OpenSSL, Go, Envoy upstreams), or, from servers
 * on Node (connect-node, grpc-js), as a bare close of the connection,
 * which Node's HTTP/2 client reports as streams ended with CANCEL and no
 * error.
 */
import type { ClientHttp2Session } from "node:http2";
import type { Socket } from "node:net";

/** The code of the error a session is destroyed with when the peer closed before HTTP/2 began. */
export const CLOSED_AFTER_HANDSHAKE = "ERR_GRPC_EDGE_CLOSED_AFTER_HANDSHAKE";

/**
 * Makes the session fail with an error that names the cause: the socket's
 * own error (an alert), or CLOSED_AFTER_HANDSHAKE when the peer ends the
 * connection after the handshake and before its SETTINGS (a server's first
 * frame, RFC 9113 §3.4).
 */
export function watchTlsRejection(session: ClientHttp2Session): void {
  let greeted = false;
  session.once("remoteSettings", () => {
    greeted = true;
  });
  // 'connect' hands over the real socket; session.socket is a proxy that cannot destroy it.
  session.once("connect", (_session: ClientHttp2Session, socket: Socket) => {
    socket.once("end", () => {
      if (greeted || session.destroyed) return;
      const err = new Error("the peer closed the connection after the TLS handshake");
      session.destroy(Object.assign(err, { code: CLOSED_AFTER_HANDSHAKE }));
    });
    socket.once("error", (err) => {
      if (!session.destroyed) session.destroy(err);
      // After an alert Node's session waits for its GOAWAY to be written on
      // the failed socket and never closes: it would stay in the pool, and
      // its socket open, until the peer hangs up.
      socket.destroy();
    });
  });
}
