/**
 * X.509 building blocks for the dev PKI, and for tests that need odd
 * certificates (an untrusted CA, an expired or wrong-name certificate).
 * ECDSA P-256 with SHA-256 throughout: small keys, fast to generate, and
 * accepted by every TLS stack the gateway talks to.
 */
// @peculiar/x509 resolves its internals through tsyringe, which needs the Reflect
// metadata API: the polyfill must load before it (see the x509 README).
import "reflect-metadata";
import { createPrivateKey, KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

const keyAlgorithm = { name: "ECDSA", namedCurve: "P-256" } as const;
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" } as const;
const dayMs = 24 * 60 * 60 * 1000;
/** Start validity a little in the past so that small clock skew between peers does not matter. */
const backdateMs = 5 * 60 * 1000;

/** A CA that can issue certificates: its PEMs, and its key as a WebCrypto key for signing. */
export interface CertificateAuthority {
  /** The CA certificate, PEM: what a peer lists in `ca` to trust what this CA issues. */
  readonly cert: string;
  /** The CA private key, PKCS#8 PEM. */
  readonly key: string;
  readonly signingKey: webcrypto.CryptoKey;
  readonly certificate: x509.X509Certificate;
}

/** A leaf certificate and its private key, both PEM (key in PKCS#8). */
export interface IssuedCertificate {
  readonly cert: string;
  readonly key: string;
}

export interface CertificateAuthorityOptions {
  readonly notBefore?: Date;
  /** Default: 365 days after notBefore. */
  readonly notAfter?: Date;
}

export interface IssueCertificateOptions {
  readonly commonName: string;
  /** SAN DNS names; a server certificate is checked against these (and ipAddresses). */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Extended key usage: serverAuth or clientAuth. TLS stacks refuse a certificate used for the other role. */
  readonly usage: "server" | "client";
  readonly notBefore?: Date;
  /** Default: 365 days after notBefore. */
  readonly notAfter?: Date;
}

/** Creates a self-signed CA (basicConstraints CA:true, pathLen 0: it signs leaves only). */
export async function createCertificateAuthority(
  name: string,
  options: CertificateAuthorityOptions = {},
): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"]);
  const validity = validityPeriod(options.notBefore, options.notAfter);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: distinguishedName(name),
      ...validity,
      keys,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return {
    cert: certificate.toString("pem"),
    key: exportPrivateKey(keys.privateKey),
    signingKey: keys.privateKey,
    certificate,
  };
}

/** Rebuilds a CertificateAuthority from its PEMs, to issue more certificates from an existing CA. */
export async function loadCertificateAuthority(pem: {
  readonly cert: string;
  readonly key: string;
}): Promise<CertificateAuthority> {
  const signingKey = await createPrivateKey(pem.key).toCryptoKey(keyAlgorithm, false, ["sign"]);
  return { ...pem, signingKey, certificate: new x509.X509Certificate(pem.cert) };
}

/** Issues a leaf certificate signed by `ca`, with a fresh key pair. */
export async function issueCertificate(
  ca: CertificateAuthority,
  options: IssueCertificateOptions,
): Promise<IssuedCertificate> {
  const keys = await webcrypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"]);
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const usage =
    options.usage === "server"
      ? x509.ExtendedKeyUsage.serverAuth
      : x509.ExtendedKeyUsage.clientAuth;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
    await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey, false, webcrypto),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const certificate = await x509.X509CertificateGenerator.create(
    {
      subject: distinguishedName(options.commonName),
      issuer: ca.certificate.subject,
      ...validityPeriod(options.notBefore, options.notAfter),
      publicKey: keys.publicKey,
      signingKey: ca.signingKey,
      signingAlgorithm,
      extensions,
    },
    webcrypto,
  );
  return { cert: certificate.toString("pem"), key: exportPrivateKey(keys.privateKey) };
}

function validityPeriod(notBefore?: Date, notAfter?: Date): { notBefore: Date; notAfter: Date } {
  const start = notBefore ?? new Date(Date.now() - backdateMs);
  return { notBefore: start, notAfter: notAfter ?? new Date(start.getTime() + 365 * dayMs) };
}

function distinguishedName(commonName: string): string {
  // x509 parses a string name as RFC 4514; escape what would split it.
  return `CN=${commonName.replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`)}`;
}

function exportPrivateKey(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
}
