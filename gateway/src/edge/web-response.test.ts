import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseWebBody } from "../../test/support/http.ts";
import { WebResponse } from "./web-response.ts";

const frame = (length: number, fill: number): Buffer => {
  const f = Buffer.alloc(5 + length, fill);
  f[0] = 0;
  f.writeUInt32BE(length, 1);
  return f;
};
/** Lets every scheduled flush and uncork run: they take up to three turns of the event loop. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 4; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * One gRPC-Web response over a real HTTP/1.1 socket, written by `script`
 * the way the relay writes (one write() per upstream 'data' event); returns
 * the chunked body's chunk sizes and its messages as the browser reads them.
 */
describe("WebResponse over HTTP/1.1", () => {
  let server: Server;
  let script: (w: WebResponse, res: ServerResponse) => Promise<void>;
  before(async () => {
    server = createServer((_req, res) => {
      const w = new WebResponse(res, {
        contentType: "application/grpc-web+proto",
        text: false,
        baseHeaders: {},
      });
      void script(w, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(() => server.close());

  const exchange = async () => {
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const socket = new Socket();
      const got: Buffer[] = [];
      socket.on("data", (c: Buffer) => {
        got.push(c);
        if (Buffer.concat(got).includes("\r\n0\r\n\r\n")) socket.end();
      });
      socket.on("end", () => resolve(Buffer.concat(got)));
      socket.on("error", reject);
      const { port } = server.address() as AddressInfo;
      socket.connect(port, "127.0.0.1", () =>
        socket.write("POST /x HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n"),
      );
    });
    let at = raw.indexOf("\r\n\r\n") + 4;
    const sizes: number[] = [];
    const body: Buffer[] = [];
    for (;;) {
      const eol = raw.indexOf("\r\n", at);
      const size = Number.parseInt(raw.toString("latin1", at, eol), 16);
      if (size === 0) break;
      sizes.push(size);
      body.push(raw.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    return { sizes, ...parseWebBody(Buffer.concat(body)) };
  };

  it("joins small chunks written in one turn into one HTTP/1.1 chunk", async () => {
    const small = Array.from({ length: 40 }, (_, i) => frame(200, i));
    script = async (w) => {
      w.sendHeaders({});
      w.write(frame(10, 0xff));
      await settle(); // headers and the first message are out
      for (const f of small) assert.equal(w.write(f), true, "below 16 KiB: no backpressure");
      w.end({ "grpc-status": "0" });
    };
    const { sizes, messages, trailers } = await exchange();
    assert.equal(messages.length, 41);
    assert.deepEqual(
      messages.slice(1),
      small.map((f) => f.subarray(5)),
      "every message, in order",
    );
    assert.equal(trailers["grpc-status"], "0");
    // The first message, the 40 joined, the trailer frame. Without joining: 42.
    assert.deepEqual(sizes, [15, 40 * 205, sizes[2]]);
  });

  it("keeps the order when a large chunk follows small ones, and writes it as it is", async () => {
    const a = frame(100, 1);
    const b = frame(100, 2);
    const big = frame(8000, 3);
    const c = frame(100, 4);
    script = async (w) => {
      w.sendHeaders({});
      w.write(frame(10, 0xff));
      await settle();
      w.write(a);
      w.write(b);
      w.write(big);
      w.write(c);
      await settle(); // c goes out when the turn ends, before the trailer frame
      w.end({ "grpc-status": "0" });
    };
    const { sizes, messages } = await exchange();
    assert.deepEqual(
      messages.map((m) => m[0]),
      [0xff, 1, 2, 3, 4],
    );
    assert.deepEqual(sizes.slice(0, 4), [15, 210, 8005, 105]);
  });

  it("reports the socket's backpressure, holding at most 16 KiB of small chunks", async () => {
    const results: boolean[] = [];
    let highWaterMark = 0;
    script = async (w, res) => {
      w.sendHeaders({});
      w.write(frame(10, 0xff));
      await settle();
      highWaterMark = res.writableHighWaterMark;
      // All in one turn: the socket stays corked, so its buffer only grows.
      for (let i = 0; i < 200; i++) results.push(w.write(frame(1000, i)));
      w.end({ "grpc-status": "0" });
    };
    const { messages } = await exchange();
    assert.equal(messages.length, 201, "nothing lost");
    const firstFalse = results.indexOf(false);
    assert.ok(firstFalse > 0, "a full socket is reported");
    // Held chunks reach the socket every 16 KiB; the first false comes with
    // the write that takes the socket's buffer past its high-water mark, so
    // at most 16 KiB (and one frame) past it.
    const accepted = firstFalse * 1005;
    assert.ok(accepted >= highWaterMark - 16 * 1024, `false after only ${accepted} bytes`);
    assert.ok(accepted <= highWaterMark + 16 * 1024, `false after ${accepted} bytes`);
  });
});
