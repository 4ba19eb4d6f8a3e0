/**
 * Certificate files, checked one by one against this machine's clock:
 * they parse, are within their validity (a warning 14 days before the
 * end), the key matches, the names cover what clients use, and a client
 * certificate may be used as one.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { type Check, fail, pass, warn } from "./report.ts";

const dayMs = 24 * 60 * 60 * 1000;
/** A certificate this close to its end gets a warning. */
export const EXPIRY_WARNING_DAYS = 14;
/** Extended key usage id-kp-clientAuth (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** Every certificate of a PEM file (a leaf then its chain, or a CA bundle). */
export function readCertificates(file: string): X509Certificate[] {
  const text = readFileSync(file, "utf8");
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) throw new Error(`${file} holds no PEM certificate`);
  return blocks.map((pem) => new X509Certificate(pem));
}

const days = (ms: number) => Math.round(Math.abs(ms) / dayMs);

/** Whether `cert` is valid at `nowMs`, and for how long still. */
export function validityCheck(
  id: string,
  title: string,
  cert: X509Certificate,
  nowMs: number,
  renew: string,
): Check {
  const from = cert.validFromDate.getTime();
  const to = cert.validToDate.getTime();
  const subject = cert.subject.replaceAll("\n", ", ");
  if (from > nowMs) {
    return fail({
      id,
      title,
      detail: `${subject} is not valid before ${cert.validFromDate.toISOString()} (in ${days(from - nowMs)} days) by this machine's clock`,
      fix: `check this machine's clock; otherwise ${renew}`,
    });
  }
  if (to <= nowMs) {
    return fail({
      id,
      title,
      detail: `${subject} expired on ${cert.validToDate.toISOString()} (${days(nowMs - to)} days ago)`,
      fix: renew,
    });
  }
  const left = `valid until ${cert.validToDate.toISOString()} (${days(to - nowMs)} days)`;
  if (to - nowMs < EXPIRY_WARNING_DAYS * dayMs) {
    return warn({ id, title, detail: `${subject}: expires soon, ${left}`, fix: renew });
  }
  return pass(id, title, `${subject}, ${left}`);
}

/** Whether `keyFile` is the private key of `cert`. */
export function keyCheck(id: string, title: string, cert: X509Certificate, keyFile: string): Check {
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
  } catch (err) {
    return fail({
      id,
      title,
      detail: `${keyFile} is not a readable private key (${(err as Error).message})`,
      fix: "point the keyFile at the PEM private key issued with the certificate",
    });
  }
  return matches
    ? pass(id, title, `${keyFile} matches the certificate`)
    : fail({
        id,
        title,
        detail: `${keyFile} is not the key of the certificate`,
        fix: "use the key issued together with the certificate (the two files were mixed up or one was renewed alone)",
      });
}

/** Whether the certificate's names cover every name clients use to reach it. */
export function namesCheck(
  id: string,
  title: string,
  cert: X509Certificate,
  names: readonly string[],
): Check {
  const sans = cert.subjectAltName ?? "none";
  if (names.length === 0) {
    return pass(
      id,
      title,
      `names ${sans} (give --gateway https://<name> to check the name clients use)`,
    );
  }
  const missing = names.filter((name) =>
    isIP(name) === 0 ? cert.checkHost(name) === undefined : cert.checkIP(name) === undefined,
  );
  if (missing.length === 0) return pass(id, title, `names ${sans} cover ${names.join(", ")}`);
  return fail({
    id,
    title,
    detail: `names ${sans} do not cover ${missing.join(", ")}: clients that use ${missing.length === 1 ? "it" : "them"} refuse the certificate`,
    fix: `reissue the certificate with ${missing.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(", ")} in its subjectAltName`,
  });
}

/** A client certificate whose extended key usage excludes clientAuth is refused by upstreams. */
export function clientUsageCheck(id: string, title: string, cert: X509Certificate): Check {
  const usage = cert.keyUsage;
  if (usage === undefined || usage.length === 0 || usage.includes(CLIENT_AUTH)) {
    return pass(id, title, "may be used as a TLS client certificate");
  }
  return fail({
    id,
    title,
    detail:
      "its extended key usage lacks clientAuth: upstreams refuse it (alert unsupported certificate)",
    fix: "issue the gateway a client certificate (extended key usage clientAuth)",
    reason: "upstream_tls",
  });
}
