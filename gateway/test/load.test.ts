// Keep-alive load against an upstream in its own process: every call must
// end OK and the gateway must keep serving. (Node emits a client stream's
// 'response' on the next tick but 'data' at once; a gateway that read DATA
// arriving with its HEADERS before handling them wrote headers twice.)
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { Agent } from "node:http";
import { after, before, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { EchoRequestSchema } from "@grpc-edge/proto/demo/notes/v1/notes";
import { startGateway, type TestGateway } from "./support/gateway.ts";
import { parseWebBody, postGrpcWeb } from "./support/http.ts";
import { grpcFrame } from "./support/raw-upstream.ts";
import { gatewayConfig, testPki } from "./support/stack.ts";
import { waitFor } from "./support/wait.ts";

const UPSTREAM = new URL("./support/echo-upstream-process.ts", import.meta.url).pathname;
let upstream: ChildProcess;
let gw: TestGateway;

before(async () => {
  const pki = await testPki();
  upstream = spawn(
    process.execPath,
    ["--conditions=source", UPSTREAM, pki.caFile, pki.serverCertFile, pki.serverKeyFile],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let output = "";
  upstream.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  await waitFor(() => /listening \d+/.test(output), 15_000);
  const port = Number(/listening (\d+)/.exec(output)?.[1]);
  gw = await startGateway(gatewayConfig(pki, `https://127.0.0.1:${port}`));
});
after(async () => {
  await gw?.close();
  upstream?.kill("SIGKILL");
});

it("relays 2000 unary calls at 50 concurrent keep-alive connections, all OK", async () => {
  const body = grpcFrame(
    toBinary(EchoRequestSchema, create(EchoRequestSchema, { payload: new Uint8Array(100) })),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  let ok = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      for (let i = 0; i < 40; i++) {
        const res = await postGrpcWeb(
          gw.url,
          "/demo.notes.v1.NotesService/Echo",
          body,
          {},
          undefined,
          agent,
        );
        if (parseWebBody(res.body).trailers["grpc-status"] === "0") ok++;
      }
    }),
  );
  agent.destroy();
  assert.equal(ok, 2000);
});
