import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  createCertificateAuthority,
  type DevPkiOptions,
  ensureDevPki,
  issueCertificate,
  loadCertificateAuthority,
} from "./pki.ts";
import { runDevPkiCli } from "./pki-cli.ts";

const root = await mkdtemp(join(tmpdir(), "dev-pki-"));
after(() => rm(root, { recursive: true, force: true }));
let folders = 0;
const dayMs = 24 * 60 * 60 * 1000;

/** ensureDevPki in a fresh folder, collecting what it logs. */
function freshPki(options: Partial<DevPkiOptions> = {}) {
  const logged: string[] = [];
  const dir = join(root, `pki-${++folders}`);
  const ensure = (more: Partial<DevPkiOptions> = {}) =>
    ensureDevPki({ dir, log: (line) => logged.push(line), ...options, ...more });
  return { dir, logged, ensure };
}

const fileNames = ["ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key"];

async function readAll(dir: string): Promise<string[]> {
  return Promise.all(fileNames.map((name) => readFile(join(dir, name), "utf8")));
}

describe("ensureDevPki", () => {
  it("creates a CA, a server and a client certificate that chain to it", async () => {
    const { dir, logged, ensure } = freshPki();
    const pki = await ensure();
    assert.equal(pki.generated, true);
    assert.equal(logged.length, 1);
    assert.match(logged[0] ?? "", /ca\.crt is missing/);
    assert.equal(pki.caFile, join(dir, "ca.crt"));
    assert.equal(await readFile(pki.serverKeyFile, "utf8"), pki.serverKey);

    const ca = new X509Certificate(pki.ca);
    const server = new X509Certificate(pki.serverCert);
    const client = new X509Certificate(pki.clientCert);
    assert.ok(ca.ca);
    for (const leaf of [server, client])
      assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    assert.equal(server.checkHost("localhost"), "localhost");
    assert.equal(server.checkIP("127.0.0.1"), "127.0.0.1");
    assert.deepEqual(server.keyUsage, ["1.3.6.1.5.5.7.3.1"]); // serverAuth
    assert.deepEqual(client.keyUsage, ["1.3.6.1.5.5.7.3.2"]); // clientAuth
    assert.match(client.subject, /CN=grpc-edge-gateway/);
    for (const key of [pki.caKeyFile, pki.serverKeyFile, pki.clientKeyFile]) {
      assert.equal((await stat(key)).mode & 0o777, 0o600, key);
    }
    assert.match(pki.serverKey, /^-----BEGIN PRIVATE KEY-----/); // PKCS#8
  });

  it("reuses valid files byte for byte, without logging", async () => {
    const { dir, logged, ensure } = freshPki();
    await ensure();
    const before = await readAll(dir);
    const again = await ensure();
    assert.equal(again.generated, false);
    assert.deepEqual(await readAll(dir), before);
    assert.equal(again.ca, before[0]);
    assert.equal(logged.length, 1);
  });

  it("regenerates when a certificate has expired", async () => {
    const { dir, logged, ensure } = freshPki();
    const pki = await ensure();
    const ca = await loadCertificateAuthority({ cert: pki.ca, key: pki.caKey });
    const expired = await issueCertificate(ca, {
      commonName: "localhost",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      usage: "server",
      notBefore: new Date(Date.now() - 30 * dayMs),
      notAfter: new Date(Date.now() - dayMs),
    });
    await writeFile(pki.serverCertFile, expired.cert);
    await writeFile(pki.serverKeyFile, expired.key);
    const renewed = await ensure();
    assert.equal(renewed.generated, true);
    assert.match(logged[1] ?? "", /server\.crt expires/);
    assert.notEqual(renewed.ca, pki.ca);
    assert.equal((await readAll(dir))[2], renewed.serverCert);
  });

  it("regenerates when a file is corrupted", async () => {
    const { logged, ensure } = freshPki();
    const pki = await ensure();
    await writeFile(pki.caKeyFile, "not a key");
    assert.equal((await ensure()).generated, true);
    assert.match(logged[1] ?? "", /ca\.key does not parse/);
  });

  it("regenerates when a certificate was signed by another CA", async () => {
    const { logged, ensure } = freshPki();
    const pki = await ensure();
    const other = await createCertificateAuthority("someone else");
    const foreign = await issueCertificate(other, {
      commonName: "grpc-edge-gateway",
      usage: "client",
    });
    await writeFile(pki.clientCertFile, foreign.cert);
    await writeFile(pki.clientKeyFile, foreign.key);
    assert.equal((await ensure()).generated, true);
    assert.match(logged[1] ?? "", /client\.crt is not signed by ca\.crt/);
  });

  it("regenerates 7 days before expiry", async () => {
    const { logged, ensure } = freshPki({ validDays: 30 });
    await ensure();
    const inThreeWeeks = new Date(Date.now() + 21 * dayMs);
    assert.equal((await ensure({ now: () => inThreeWeeks })).generated, false);
    const inFourWeeks = new Date(Date.now() + 24 * dayMs);
    assert.equal((await ensure({ now: () => inFourWeeks })).generated, true);
    assert.match(logged[1] ?? "", /expires .* too soon/);
  });

  it("refuses a validity that would be renewed at once", async () => {
    await assert.rejects(freshPki({ validDays: 7 }).ensure(), RangeError);
  });
});

describe("grpc-edge-dev-pki", () => {
  it("creates the PKI in --dir and prints the file paths", async (t) => {
    const printed = t.mock.method(console, "log", () => {});
    t.mock.method(console, "warn", () => {});
    const dir = join(root, "cli");
    assert.equal(await runDevPkiCli(["--dir", dir]), 0);
    const output = printed.mock.calls.map((call) => String(call.arguments[0])).join("\n");
    for (const name of fileNames) assert.ok(output.includes(join(dir, name)), name);
  });

  it("exits 64 on a bad argument", async (t) => {
    t.mock.method(console, "error", () => {});
    assert.equal(await runDevPkiCli(["--valid-days", "3"]), 64);
    assert.equal(await runDevPkiCli(["--no-such-flag"]), 64);
  });
});
