/**
 * Step 2: each upstream over mutual TLS with the gateway's own client
 * certificate, through the same session pool and the same error mapping
 * as calls (so each cause gets the reason a call would get), then
 * grpc.health.v1.Health/Check as /readyz asks it.
 */
import { readFileSync } from "node:fs";
import pino from "pino";
import type { UpstreamConfig } from "../config/config.ts";
import type { Reason } from "../errors.ts";
import { type HealthProbe, probeHealth } from "../ops/health.ts";
import { createUpstreamPool } from "../upstream/pool.ts";
import { readCertificates } from "./certificate-check.ts";
import { type Check, fail, failWith, pass, skip } from "./report.ts";

/** Reasons of a connection that never carried a call: the TLS check fails with them. */
const CONNECTION_REASONS: ReadonlySet<Reason> = new Set([
  "upstream_unavailable",
  "upstream_not_tls",
  "upstream_tls",
  "upstream_cert_untrusted",
  "upstream_cert_name_mismatch",
  "upstream_cert_expired",
  "upstream_cert_not_yet_valid",
]);

export async function checkUpstreams(
  upstreams: readonly UpstreamConfig[],
  timeoutMs: number,
): Promise<Check[]> {
  const each = await Promise.all(upstreams.map((u) => checkUpstream(u, timeoutMs)));
  return each.flat();
}

async function checkUpstream(upstream: UpstreamConfig, timeoutMs: number): Promise<Check[]> {
  const id = `upstream.${upstream.name}`;
  const serverName = upstream.tls.serverName ?? upstream.address.hostname;
  const tlsTitle = `${upstream.name}: mutual TLS to ${upstream.address.host} as ${serverName}`;
  const healthTitle = `${upstream.name}: grpc.health.v1.Health/Check`;
  let probe: HealthProbe;
  try {
    // The files as they are: an expired client certificate is sent, as a
    // running gateway whose certificate expired would send it.
    const pool = createUpstreamPool({
      name: upstream.name,
      address: upstream.address,
      tls: {
        ca: readFileSync(upstream.tls.caFile),
        cert: readFileSync(upstream.tls.certFile),
        key: readFileSync(upstream.tls.keyFile),
        serverName: upstream.tls.serverName,
      },
      maxStreamsPerSession: 1,
      keepalive: {
        pingIntervalMs: upstream.pingIntervalMs,
        pingTimeoutMs: upstream.pingTimeoutMs,
        idleConnectionTimeoutMs: upstream.idleConnectionTimeoutMs,
      },
      log: pino({ level: "silent" }),
    });
    try {
      probe = await probeHealth(pool, timeoutMs);
    } finally {
      pool.close(false);
    }
  } catch (err) {
    return [
      fail({
        id: `${id}.tls`,
        title: tlsTitle,
        detail: `cannot use the TLS files (${(err as Error).message})`,
        fix: "fix the certificate files (step 1)",
      }),
      skip(`${id}.health`, healthTitle, "no connection"),
    ];
  }
  if (probe.kind === "no-answer") {
    return [
      fail({
        id: `${id}.tls`,
        title: tlsTitle,
        detail: `neither a TLS failure nor a gRPC answer within ${timeoutMs} ms`,
        fix: "check that the address is the upstream's gRPC port and that nothing in between holds the connection",
        reason: "upstream_unavailable",
      }),
      skip(`${id}.health`, healthTitle, "no connection"),
    ];
  }
  if (probe.kind === "failed" && CONNECTION_REASONS.has(probe.error.reason)) {
    const { reason } = probe.error;
    return [
      failWith(
        `${id}.tls`,
        tlsTitle,
        `${probe.error.message}${reason === "upstream_cert_untrusted" ? `; caFile holds ${caSubjects(upstream.tls.caFile)}` : ""}`,
        reason,
      ),
      skip(`${id}.health`, healthTitle, "no connection"),
    ];
  }
  return [
    pass(`${id}.tls`, tlsTitle, "handshake and HTTP/2 with the gateway's client certificate"),
    healthCheck(`${id}.health`, healthTitle, probe),
  ];
}

function healthCheck(id: string, title: string, probe: HealthProbe): Check {
  switch (probe.kind) {
    case "serving":
      return pass(id, title, "SERVING");
    case "not-serving":
      return fail({
        id,
        title,
        detail: `the upstream reports ${probe.status}`,
        fix: "see the upstream's logs; /readyz reports the gateway not ready meanwhile",
      });
    case "status":
      return fail({
        id,
        title,
        detail:
          probe.grpcStatus === "12"
            ? "the upstream has no grpc.health.v1.Health service (12 UNIMPLEMENTED)"
            : `answered grpc-status ${probe.grpcStatus} ${probe.message}`.trim(),
        fix: "serve grpc.health.v1.Health at the upstream: the gateway's /readyz asks it",
      });
    case "failed":
      return failWith(id, title, probe.error.message, probe.error.reason);
    case "no-answer":
      return fail({ id, title, detail: "no answer", fix: "see the upstream's logs" });
  }
}

function caSubjects(caFile: string): string {
  try {
    return readCertificates(caFile)
      .map((ca) => ca.subject.replaceAll("\n", ", "))
      .join("; ");
  } catch {
    return "no readable certificate";
  }
}
