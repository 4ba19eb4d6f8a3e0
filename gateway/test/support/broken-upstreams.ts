/**
 * One upstream per TLS cause, broken on purpose, each with the gateway-side
 * TLS files that meet it: certificates from the dev PKI's CA that are
 * expired, not yet valid or for another name; a server and a client
 * certificate from another CA; a plaintext HTTP/2 server behind https://;
 * OpenSSL servers that refuse the client certificate with an alert; and a
 * port where nothing listens. Each serves its own service, so one gateway
 * can route to all of them.
 */
import { writeFileSync } from "node:fs";
import { createServer as createPlaintextServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer } from "node:net";
import { join } from "node:path";
import {
  createCertificateAuthority,
  type IssuedCertificate,
  issueCertificate,
  loadCertificateAuthority,
  startConnectUpstream,
} from "@grpc-edge/example-upstream";
import type { Reason } from "../../src/errors.ts";
import { startOpensslServer } from "./openssl-server.ts";
import type { TestPki } from "./stack.ts";

export interface BrokenUpstream {
  /** Upstream name, and the service it serves: `broken.<name with _ for ->.Svc`. */
  readonly name: string;
  readonly service: string;
  readonly url: string;
  readonly tls: {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly serverName: string;
  };
  /** The reason a call to it ends with. */
  readonly reason: Reason;
}

export interface BrokenUpstreams {
  readonly upstreams: readonly BrokenUpstream[];
  get(name: string): BrokenUpstream;
  /** Raw `upstreams` config entries for all of them. */
  config(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

const dayMs = 24 * 60 * 60 * 1000;

export async function startBrokenUpstreams(pki: TestPki, dir: string): Promise<BrokenUpstreams> {
  const ca = await loadCertificateAuthority({ cert: pki.ca, key: pki.caKey });
  const otherCa = await createCertificateAuthority("another CA");
  const server = (extra: { dnsNames?: string[]; notBefore?: Date; notAfter?: Date }) =>
    issueCertificate(ca, {
      commonName: "localhost",
      dnsNames: ["localhost"],
      usage: "server",
      ...extra,
    });
  const now = Date.now();
  const files = (name: string, issued: IssuedCertificate) => {
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    writeFileSync(certFile, issued.cert);
    writeFileSync(keyFile, issued.key, { mode: 0o600 });
    return { certFile, keyFile };
  };
  const otherClient = files(
    "other-ca-client",
    await issueCertificate(otherCa, { commonName: "grpc-edge-gateway", usage: "client" }),
  );
  const devClient = { certFile: pki.clientCertFile, keyFile: pki.clientKeyFile };
  const connectWith = async (cert: IssuedCertificate) =>
    startConnectUpstream({ tls: { ca: pki.ca, cert: cert.cert, key: cert.key } });

  const closers: Array<() => Promise<void>> = [];
  const upstreams: BrokenUpstream[] = [];
  const add = (
    name: string,
    started: { url: string; close(): Promise<void> },
    client: { certFile: string; keyFile: string },
    reason: Reason,
  ) => {
    closers.push(() => started.close());
    upstreams.push({
      name,
      service: `broken.${name.replaceAll("-", "_")}.Svc`,
      url: started.url,
      tls: { caFile: pki.caFile, ...client, serverName: "localhost" },
      reason,
    });
  };

  add(
    "untrusted",
    await connectWith(
      await issueCertificate(otherCa, {
        commonName: "localhost",
        dnsNames: ["localhost"],
        usage: "server",
      }),
    ),
    devClient,
    "upstream_cert_untrusted",
  );
  add(
    "wrong-name",
    await connectWith(await server({ dnsNames: ["notes.internal"] })),
    devClient,
    "upstream_cert_name_mismatch",
  );
  add(
    "expired",
    await connectWith(
      await server({ notBefore: new Date(now - 30 * dayMs), notAfter: new Date(now - dayMs) }),
    ),
    devClient,
    "upstream_cert_expired",
  );
  add(
    "not-yet-valid",
    await connectWith(
      await server({ notBefore: new Date(now + dayMs), notAfter: new Date(now + 30 * dayMs) }),
    ),
    devClient,
    "upstream_cert_not_yet_valid",
  );
  add("client-other-ca", await startConnectUpstream({ tls: pki }), otherClient, "upstream_tls");
  add(
    "alert-unknown-ca",
    await startOpensslServer({
      certFile: pki.serverCertFile,
      keyFile: pki.serverKeyFile,
      clientCaFile: pki.caFile,
    }),
    otherClient,
    "upstream_tls",
  );
  // The gateway's key is ECDSA; an upstream that takes only RSA signatures
  // gets no certificate it accepts and says "certificate required".
  add(
    "alert-certificate-required",
    await startOpensslServer({
      certFile: pki.serverCertFile,
      keyFile: pki.serverKeyFile,
      clientCaFile: pki.caFile,
      clientSigalgs: "rsa_pss_rsae_sha256:rsa_pkcs1_sha256",
    }),
    devClient,
    "upstream_tls",
  );
  add("plaintext", await startPlaintext(), devClient, "upstream_not_tls");
  add(
    "refused",
    { url: await closedPort(), close: async () => {} },
    devClient,
    "upstream_unavailable",
  );

  return {
    upstreams,
    get(name) {
      const found = upstreams.find((u) => u.name === name);
      if (found === undefined) throw new Error(`no broken upstream ${name}`);
      return found;
    },
    config: () =>
      upstreams.map((u) => ({ name: u.name, address: u.url, services: [u.service], tls: u.tls })),
    async close() {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/** HTTP/2 without TLS (h2c), as an upstream deployed without its certificates would serve. */
async function startPlaintext(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createPlaintextServer((_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An address where nothing listens: a port the system handed out, then freed. */
async function closedPort(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}
