/**
 * Decides whether an existing dev PKI can be reused. Pure: PEM text and the
 * current time in, the first problem found out, so that the caller can log
 * exactly why it regenerates.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";

/** The six PEM documents of the dev PKI. */
export interface DevPkiPem {
  /** CA certificate: both sides trust it (the gateway for the upstream, the upstream for the gateway). */
  readonly ca: string;
  /** CA private key (PKCS#8), kept so that more certificates can be issued from the same CA. */
  readonly caKey: string;
  /** The upstream's certificate: SAN DNS:localhost and IP:127.0.0.1, EKU serverAuth. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** The gateway's mTLS client certificate: CN=grpc-edge-gateway, EKU clientAuth. */
  readonly clientCert: string;
  readonly clientKey: string;
}

/** The names the dev server certificate must be valid for (what clients dial on one machine). */
export const devServerNames = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] } as const;

/** Returns why `pem` cannot be reused at `now` (each certificate must stay valid more than `minRemainingMs`), or undefined. */
export function devPkiProblem(
  pem: DevPkiPem,
  now: Date,
  minRemainingMs: number,
): string | undefined {
  const parsed = parseAll(pem);
  if (typeof parsed === "string") return parsed;
  const { ca, caKey, server, serverKey, client, clientKey } = parsed;
  if (!ca.ca) return "ca.crt is not a CA certificate";
  if (!ca.checkPrivateKey(caKey)) return "ca.key does not match ca.crt";
  for (const [name, cert, key] of [
    ["server", server, serverKey],
    ["client", client, clientKey],
  ] as const) {
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
      return `${name}.crt is not signed by ca.crt`;
    }
    if (!cert.checkPrivateKey(key)) return `${name}.key does not match ${name}.crt`;
  }
  for (const dnsName of devServerNames.dnsNames) {
    if (server.checkHost(dnsName, { subject: "never" }) === undefined) {
      return `server.crt is not valid for ${dnsName}`;
    }
  }
  for (const ip of devServerNames.ipAddresses) {
    if (server.checkIP(ip) === undefined) return `server.crt is not valid for ${ip}`;
  }
  for (const [name, cert] of [
    ["ca.crt", ca],
    ["server.crt", server],
    ["client.crt", client],
  ] as const) {
    if (cert.validFromDate.getTime() > now.getTime()) {
      return `${name} is not valid before ${cert.validFromDate.toISOString()}`;
    }
    if (cert.validToDate.getTime() - now.getTime() <= minRemainingMs) {
      return `${name} expires ${cert.validToDate.toISOString()}, too soon`;
    }
  }
  return undefined;
}

interface ParsedPki {
  ca: X509Certificate;
  caKey: KeyObject;
  server: X509Certificate;
  serverKey: KeyObject;
  client: X509Certificate;
  clientKey: KeyObject;
}

function parseAll(pem: DevPkiPem): ParsedPki | string {
  try {
    return {
      ca: parse("ca.crt", () => new X509Certificate(pem.ca)),
      caKey: parse("ca.key", () => createPrivateKey(pem.caKey)),
      server: parse("server.crt", () => new X509Certificate(pem.serverCert)),
      serverKey: parse("server.key", () => createPrivateKey(pem.serverKey)),
      client: parse("client.crt", () => new X509Certificate(pem.clientCert)),
      clientKey: parse("client.key", () => createPrivateKey(pem.clientKey)),
    };
  } catch (err) {
    return (err as Error).message;
  }
}

function parse<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new Error(`${file} does not parse (${(err as Error).message})`);
  }
}
