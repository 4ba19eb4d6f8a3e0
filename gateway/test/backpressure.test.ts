// Backpressure: a large server stream to a slow reader must not pile up in
// the gateway. The raw upstream writes only as fast as HTTP/2 flow control
// lets it, so "bytes the upstream produced − bytes the browser read" is what
// sits in buffers between them; it must stay small while the reader crawls.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, it } from "node:test";
import { startGateway, type TestGateway } from "./support/gateway.ts";
import {
  grpcFrame,
  type RawUpstream,
  respondOk,
  startRawUpstream,
} from "./support/raw-upstream.ts";
import { gatewayConfig, testPki } from "./support/stack.ts";

const CHUNK = grpcFrame(new Uint8Array(64 * 1024));
const TOTAL_FRAMES = 1600; // 100 MiB
let produced = 0;
let upstream: RawUpstream;
let gw: TestGateway;

before(async () => {
  const pki = await testPki();
  upstream = await startRawUpstream({
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    handle: ({ stream }) => {
      respondOk(stream);
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL_FRAMES) {
          sent++;
          produced += CHUNK.length;
          if (!stream.write(CHUNK)) {
            stream.once("drain", pump);
            return;
          }
        }
        stream.end();
      };
      pump();
    },
  });
  gw = await startGateway(gatewayConfig(pki, upstream.url));
});
after(async () => {
  await gw.close();
  await upstream.close();
});

it("holds memory flat while a 100 MiB stream goes to a slow reader", async () => {
  let received = 0;
  let maxGap = 0;
  await new Promise<void>((resolve, reject) => {
    const req = request(`${gw.url}/demo.notes.v1.NotesService/Download`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
    });
    req.on("response", (res) => {
      res.pause();
      // Read 256 KiB every 10 ms (~25 MiB/s) for 1.5 s, then fast to the end.
      const started = Date.now();
      const slow = setInterval(() => {
        let taken = 0;
        while (taken < 256 * 1024) {
          const chunk = res.read() as Buffer | null;
          if (chunk === null) break;
          taken += chunk.length;
          received += chunk.length;
        }
        maxGap = Math.max(maxGap, produced - received);
        if (Date.now() - started > 1500) {
          clearInterval(slow);
          res.on("data", (c: Buffer) => {
            received += c.length;
          });
          res.on("end", resolve);
          res.resume();
        }
      }, 10);
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(grpcFrame(new Uint8Array(0)));
  });
  assert.equal(received, CHUNK.length * TOTAL_FRAMES + 5 + "grpc-status: 0\r\n".length);
  // Socket buffers + HTTP/2 windows on both hops; nothing close to the stream size.
  assert.ok(maxGap < 8 * 1024 * 1024, `up to ${maxGap} bytes were in flight`);
});
