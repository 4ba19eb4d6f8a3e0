/**
 * The development PKI: one CA, the upstream's server certificate and the
 * gateway's mTLS client certificate, kept in a folder (`.dev-pki/` at the repo
 * root by default, git-ignored). It is reused while valid, so that restarting
 * one process of the demo does not invalidate what the others already loaded.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createCertificateAuthority, issueCertificate } from "./certificate-authority.ts";
import { type DevPkiPem, devPkiProblem, devServerNames } from "./pki-check.ts";

export {
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  createCertificateAuthority,
  type IssueCertificateOptions,
  type IssuedCertificate,
  issueCertificate,
  loadCertificateAuthority,
} from "./certificate-authority.ts";
export type { DevPkiPem } from "./pki-check.ts";

const dayMs = 24 * 60 * 60 * 1000;
/** A PKI closer than this to expiry is regenerated, so a long demo session never outlives it. */
export const devPkiMinRemainingMs = 7 * dayMs;
/** The gateway's client certificate subject; upstream logs show it as the peer. */
export const gatewayClientCommonName = "grpc-edge-gateway";

/** `<repo root>/.dev-pki`, where the CLI, the demo and gateway/examples/gateway.yaml expect the PKI. */
export const defaultDevPkiDir = fileURLToPath(new URL("../../../.dev-pki", import.meta.url));

/** Where each PEM of DevPkiPem lives, relative to the PKI folder. */
const fileNames = {
  ca: "ca.crt",
  caKey: "ca.key",
  serverCert: "server.crt",
  serverKey: "server.key",
  clientCert: "client.crt",
  clientKey: "client.key",
} as const satisfies Record<keyof DevPkiPem, string>;

export interface DevPkiOptions {
  readonly dir: string;
  /** Validity of newly generated certificates; must exceed 7 days. Default 90. */
  readonly validDays?: number;
  /** Current time (tests inject it). */
  readonly now?: () => Date;
  /** Receives the one line saying why the PKI is (re)generated. Default: console.warn. */
  readonly log?: (line: string) => void;
}

/** A ready dev PKI: the PEM contents (DevPkiPem) and the absolute path of each file. */
export interface DevPki extends DevPkiPem {
  readonly dir: string;
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** True when this call wrote new files, false when it reused the existing ones. */
  readonly generated: boolean;
}

/**
 * Returns the dev PKI in `dir`, reusing the files when all are present, parse,
 * chain to the CA and stay valid more than 7 days; otherwise generates a new
 * one (all six files, so nothing mixes two CAs) and logs why.
 */
export async function ensureDevPki(options: DevPkiOptions): Promise<DevPki> {
  const dir = resolve(options.dir);
  const validDays = options.validDays ?? 90;
  if (!(validDays * dayMs > devPkiMinRemainingMs)) {
    throw new RangeError(`validDays must be more than 7, got ${validDays}`);
  }
  const now = options.now?.() ?? new Date();
  const existing = await readDevPkiPem(dir);
  const problem =
    typeof existing === "string" ? existing : devPkiProblem(existing, now, devPkiMinRemainingMs);
  if (problem === undefined && typeof existing !== "string") {
    return describe(dir, existing, false);
  }
  (options.log ?? console.warn)(`dev-pki: generating a new PKI in ${dir}: ${problem}`);
  const pem = await generateDevPkiPem(now, validDays);
  await writeDevPkiPem(dir, pem);
  return describe(dir, pem, true);
}

/** Generates the CA and both leaf certificates in memory, valid `validDays` from `now`. */
export async function generateDevPkiPem(now: Date, validDays: number): Promise<DevPkiPem> {
  const notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  const notAfter = new Date(now.getTime() + validDays * dayMs);
  const ca = await createCertificateAuthority("grpc-edge dev CA", { notBefore, notAfter });
  const server = await issueCertificate(ca, {
    commonName: "localhost",
    ...devServerNames,
    usage: "server",
    notBefore,
    notAfter,
  });
  const client = await issueCertificate(ca, {
    commonName: gatewayClientCommonName,
    usage: "client",
    notBefore,
    notAfter,
  });
  return {
    ca: ca.cert,
    caKey: ca.key,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
  };
}

async function readDevPkiPem(dir: string): Promise<DevPkiPem | string> {
  const entries = Object.entries(fileNames) as [keyof DevPkiPem, string][];
  const pem: Partial<Record<keyof DevPkiPem, string>> = {};
  for (const [field, name] of entries) {
    try {
      pem[field] = await readFile(join(dir, name), "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === "ENOENT" ? `${name} is missing` : `${name} cannot be read (${code})`;
    }
  }
  return pem as DevPkiPem;
}

async function writeDevPkiPem(dir: string, pem: DevPkiPem): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [field, name] of Object.entries(fileNames) as [keyof DevPkiPem, string][]) {
    const mode = name.endsWith(".key") ? 0o600 : 0o644;
    const path = join(dir, name);
    // Write then rename: a process watching the file (the gateway reloads
    // certificates) never reads half a PEM.
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, pem[field], { mode });
    await chmod(temporary, mode); // the umask may have narrowed or an old file kept its mode
    await rename(temporary, path);
  }
}

function describe(dir: string, pem: DevPkiPem, generated: boolean): DevPki {
  return {
    ...pem,
    dir,
    caFile: join(dir, fileNames.ca),
    caKeyFile: join(dir, fileNames.caKey),
    serverCertFile: join(dir, fileNames.serverCert),
    serverKeyFile: join(dir, fileNames.serverKey),
    clientCertFile: join(dir, fileNames.clientCert),
    clientKeyFile: join(dir, fileNames.clientKey),
    generated,
  };
}
