/**
 * The call's request id (`x-request-id`): the client's when it is short and
 * printable, so a browser can tie its own logs to the gateway's and the
 * upstream's; otherwise a new UUID. Used as Fastify's `genReqId`.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

const VALID = /^[\w.:-]{1,128}$/;

export function requestIdOf(req: { readonly headers: IncomingHttpHeaders }): string {
  const value = req.headers["x-request-id"];
  return typeof value === "string" && VALID.test(value) ? value : randomUUID();
}
