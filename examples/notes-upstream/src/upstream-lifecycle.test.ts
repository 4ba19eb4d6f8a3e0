/**
 * Both upstreams: who may connect (mutual TLS), and what close and restart do
 * to the clients (the gateway's reconnection tests rely on both).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { startConnectUpstream } from "./connect-server.ts";
import { startGrpcJsUpstream } from "./grpc-js-server.ts";
import {
  createCertificateAuthority,
  ensureDevPki,
  issueCertificate,
  loadCertificateAuthority,
} from "./pki.ts";
import { type ClientTls, createTestClients, tlsProbe } from "./test-clients.ts";

const dir = await mkdtemp(join(tmpdir(), "notes-upstream-"));
const pki = await ensureDevPki({ dir, log: () => {} });
after(() => rm(dir, { recursive: true, force: true }));
const gateway: ClientTls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
const untrustedCa = await createCertificateAuthority("untrusted CA");
const impostor = await issueCertificate(untrustedCa, {
  commonName: "grpc-edge-gateway",
  usage: "client",
});

/** Asserts the call did not succeed (whatever code the client library chose for a broken connection). */
async function assertCallFails(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (error: unknown) => error instanceof ConnectError);
}

for (const start of [startConnectUpstream, startGrpcJsUpstream]) {
  describe(`${start.name}: mutual TLS`, () => {
    let url: string;
    let close: () => Promise<void>;
    before(async () => {
      ({ url, close } = await start({ tls: pki }));
    });
    after(() => close());

    it("accepts the gateway's client certificate", async () => {
      assert.equal(await tlsProbe(url, gateway), "accepted");
      await createTestClients(url, gateway).notes.echo({});
    });

    it("refuses a client without a certificate", async () => {
      const noCertificate = { ca: pki.ca };
      // OpenSSL refuses an absent certificate during the handshake, with an alert.
      assert.equal(await tlsProbe(url, noCertificate), "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
      await assertCallFails(createTestClients(url, noCertificate).notes.echo({}));
    });

    it("refuses a client certificate from an untrusted CA", async () => {
      const stranger = { ca: pki.ca, cert: impostor.cert, key: impostor.key };
      // Node verifies the chain after the handshake and destroys the socket:
      // no alert, the connection just closes before the server's SETTINGS.
      assert.equal(await tlsProbe(url, stranger), "closed");
      await assertCallFails(createTestClients(url, stranger).notes.echo({}));
    });
  });

  it(`${start.name}: a server certificate for another name is refused by the client`, async () => {
    const ca = await loadCertificateAuthority({ cert: pki.ca, key: pki.caKey });
    const elsewhere = await issueCertificate(ca, {
      commonName: "elsewhere.example",
      dnsNames: ["elsewhere.example"],
      usage: "server",
    });
    const upstream = await start({ tls: { ca: pki.ca, cert: elsewhere.cert, key: elsewhere.key } });
    try {
      assert.equal(await tlsProbe(upstream.url, gateway), "ERR_TLS_CERT_ALTNAME_INVALID");
      await assertCallFails(createTestClients(upstream.url, gateway).notes.echo({}));
    } finally {
      await upstream.close();
    }
  });

  describe(`${start.name}: close and restart`, () => {
    it("close() ends open streams at once", async () => {
      const upstream = await start({ tls: pki });
      const client = createTestClients(upstream.url, gateway);
      const events = client.notes.watchNotes({ intervalMs: 60_000 })[Symbol.asyncIterator]();
      assert.equal((await events.next()).value?.sequence, 1n);
      const ended = assertCallFails(events.next());
      await upstream.close();
      await ended;
    });

    it("restarts on the same port, and the same client reconnects", async () => {
      const first = await start({ tls: pki });
      const client = createTestClients(first.url, gateway);
      const { note } = await client.notes.createNote({ text: "survives a restart" });
      await first.close();
      await assertCallFails(client.notes.getNote({ id: note?.id ?? "" }));

      const second = await start({ tls: pki, port: first.port, store: first.store });
      try {
        assert.equal(second.url, first.url);
        const got = await client.notes.getNote({ id: note?.id ?? "" });
        assert.equal(got.note?.text, "survives a restart");
      } finally {
        await second.close();
      }
    });
  });
}
