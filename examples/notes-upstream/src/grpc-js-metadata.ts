/**
 * The two translations the grpc-js adapter needs: grpc-js Metadata to and
 * from fetch Headers (what connect handlers read and write), and a thrown
 * error to the status grpc-js sends.
 */
import { ConnectError } from "@connectrpc/connect";
import { Metadata, type ServerErrorResponse, type status } from "@grpc/grpc-js";

/**
 * Request metadata as connect-node would present it: lowercase names,
 * repeated values joined by Headers, binary (-bin) values base64.
 * grpc-js has already removed te, content-type, grpc-timeout, grpc-encoding,
 * grpc-accept-encoding and accept-encoding; connect-node keeps them.
 */
export function metadataToHeaders(metadata: Metadata): Headers {
  const headers = new Headers();
  for (const [name, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      headers.append(name, typeof value === "string" ? value : value.toString("base64"));
    }
  }
  return headers;
}

/** Response headers or trailers for grpc-js; -bin values are decoded from base64 as gRPC requires. */
export function headersToMetadata(headers: Headers): Metadata {
  const metadata = new Metadata();
  headers.forEach((value, name) => {
    if (name.endsWith("-bin")) {
      // Headers joined repeated values with ", ".
      for (const part of value.split(",")) metadata.add(name, Buffer.from(part.trim(), "base64"));
    } else {
      metadata.add(name, value);
    }
  });
  return metadata;
}

/**
 * The status for a handler's error, with the same code, message and
 * trailers (the call's response trailers plus the error's metadata) that
 * connect-node would send. The original error stays as `cause` for logs.
 */
export function errorToStatus(error: unknown, responseTrailer: Headers): ServerErrorResponse {
  const connectError = ConnectError.from(error);
  const trailers = new Headers(responseTrailer);
  connectError.metadata.forEach((value, name) => {
    // grpc-js writes this metadata after grpc-status and grpc-message: a
    // grpc-* name here would override them (connect-node skips them too).
    if (!name.startsWith("grpc-")) trailers.set(name, value);
  });
  return Object.assign(new Error(connectError.rawMessage, { cause: error }), {
    // Code and grpc-js' status are both the gRPC status numbers.
    code: connectError.code as number as status,
    details: connectError.rawMessage,
    metadata: headersToMetadata(trailers),
  });
}

/** Whether any header is set (grpc-js should only send response headers early when there are some). */
export function hasEntries(headers: Headers): boolean {
  return !headers.keys().next().done;
}
