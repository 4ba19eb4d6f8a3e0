// A raw gRPC echo upstream in its own process (see load.test.ts for why):
// prints its port on stdout. Args: <caFile> <certFile> <keyFile>.
import { readFileSync } from "node:fs";
import { replyOk, startRawUpstream } from "./raw-upstream.ts";

const [ca, cert, key] = process.argv.slice(2).map((f) => readFileSync(f, "utf8")) as [
  string,
  string,
  string,
];
const upstream = await startRawUpstream({
  ca,
  cert,
  key,
  handle: (call) => {
    call.body().then((body) => replyOk(call.stream, body));
  },
});
process.stdout.write(`listening ${upstream.port}\n`);
