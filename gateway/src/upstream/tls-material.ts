/**
 * Reads and checks TLS files, for start-up and for reloads: a renewal that
 * is broken (bad PEM, key not matching the certificate) is refused with a
 * readable reason and the credentials in use stay as they are.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { UpstreamTls } from "./pool.ts";

export interface ListenerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Loads a certificate and key, throwing an Error that names the problem. */
export function readListenerTls(certFile: string, keyFile: string): ListenerTls {
  const material = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  check(material, certFile);
  return material;
}

/** Loads the CA, client certificate and key for an upstream. */
export function readUpstreamTls(
  files: { readonly caFile: string; readonly certFile: string; readonly keyFile: string },
  serverName: string | undefined,
): UpstreamTls {
  const material = {
    ca: readFileSync(files.caFile),
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    serverName,
  };
  check(material, files.certFile);
  return material;
}

function check(material: { cert: Buffer; key: Buffer; ca?: Buffer }, certFile: string): void {
  try {
    // Throws on unparsable PEM and on a key that does not match the certificate.
    createSecureContext({
      cert: material.cert,
      key: material.key,
      ...(material.ca ? { ca: material.ca } : {}),
    });
  } catch (err) {
    throw new Error(`${certFile}: ${(err as Error).message}`);
  }
  const cert = new X509Certificate(material.cert);
  if (Date.parse(cert.validTo) < Date.now()) {
    throw new Error(`${certFile}: certificate expired on ${cert.validTo}`);
  }
}
