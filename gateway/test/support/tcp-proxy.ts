/**
 * A TCP proxy between the gateway and an upstream that a test can freeze:
 * its connections then swallow what arrives from either side, without a
 * FIN or a reset, as a load balancer or NAT that silently dropped them.
 * Connections made after a freeze forward normally.
 */
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Freezes every connection open now. */
  freeze(): void;
  /** Bytes that frozen connections swallowed (a PING sent on one shows here). */
  swallowed(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<{ downstream: Socket; upstream: Socket; frozen: boolean }>();
  let accepted = 0;
  let swallowed = 0;
  const server = createServer((downstream) => {
    accepted++;
    const upstream = connect(targetPort, "127.0.0.1");
    const pair = { downstream, upstream, frozen: false };
    open.add(pair);
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (pair.frozen) swallowed += chunk.length;
      else to.write(chunk);
    };
    downstream.on("data", forward(upstream));
    upstream.on("data", forward(downstream));
    const end = () => {
      open.delete(pair);
      downstream.destroy();
      upstream.destroy();
    };
    for (const socket of [downstream, upstream]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    connections: () => accepted,
    freeze() {
      for (const pair of open) pair.frozen = true;
    },
    swallowed: () => swallowed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of open) {
          pair.downstream.destroy();
          pair.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
