import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alertName, errorFromUpstreamFailure } from "./node-error.ts";
import { CLOSED_AFTER_HANDSHAKE } from "./tls-rejection.ts";

const withCode = (code: string, extra: object = {}) =>
  Object.assign(new Error(code), { code, ...extra });
/** How Node's HTTP/2 client reports a session failure on each of its streams. */
const streamCancel = (cause: Error) =>
  Object.assign(new Error("The pending stream has been canceled", { cause }), {
    code: "ERR_HTTP2_STREAM_CANCEL",
  });

describe("upstream failures → reasons", () => {
  it("names TLS alerts as RFC 8446 does", () => {
    assert.equal(alertName("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), "certificate required");
    assert.equal(alertName("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"), "unknown CA");
    assert.equal(alertName("ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED"), "certificate expired");
    assert.equal(alertName("ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE"), "bad certificate");
    assert.equal(alertName("ERR_SSL_WRONG_VERSION_NUMBER"), undefined);
  });

  for (const [code, reason] of [
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "upstream_cert_untrusted"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "upstream_cert_untrusted"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "upstream_cert_name_mismatch"],
    ["CERT_HAS_EXPIRED", "upstream_cert_expired"],
    ["CERT_NOT_YET_VALID", "upstream_cert_not_yet_valid"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "upstream_not_tls"],
    ["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "upstream_tls"],
    [CLOSED_AFTER_HANDSHAKE, "upstream_tls"],
    ["INVALID_PURPOSE", "upstream_tls"],
    ["ECONNREFUSED", "upstream_unavailable"],
  ] as const) {
    it(`${code} → ${reason}, on the session or as a stream's cause`, () => {
      for (const err of [withCode(code), streamCancel(withCode(code))]) {
        const mapped = errorFromUpstreamFailure(err, "upstream notes");
        assert.equal(mapped.reason, reason);
        assert.equal(mapped.code, 14);
      }
    });
  }
});
