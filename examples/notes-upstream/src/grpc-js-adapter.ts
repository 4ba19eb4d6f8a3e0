/**
 * Runs connect-es ServiceImpl handlers on @grpc/grpc-js, so that the grpc-js
 * upstream serves the very same logic as the connect-node one. The grpc-js
 * service definition is built from the protobuf-es descriptors: no
 * proto-loader, no .proto parsing at run time.
 */
import { once } from "node:events";
import {
  create,
  type DescMethod,
  type DescService,
  fromBinary,
  type Message,
  toBinary,
} from "@bufbuild/protobuf";
import {
  createHandlerContext,
  createServiceImplSpec,
  type MethodImplSpec,
  type ServiceImpl,
} from "@connectrpc/connect";
import type {
  MethodDefinition,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  sendUnaryData,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import {
  errorToStatus,
  hasEntries,
  headersToMetadata,
  metadataToHeaders,
} from "./grpc-js-metadata.ts";

/** What `Server.addService` takes. */
export interface GrpcJsService {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/**
 * Adapts `impl` of `service` for grpc-js. `shutdownSignal` aborts every call's
 * context (as connect-node's option of the same name does). Only unary and
 * server-streaming methods are supported: the services here have no others.
 */
export function toGrpcJsService<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  shutdownSignal?: AbortSignal,
): GrpcJsService {
  const spec = createServiceImplSpec(service, impl);
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const methodSpec = spec.methods[method.localName];
    if (!methodSpec) continue;
    definition[method.localName] = methodDefinition(method);
    implementation[method.localName] = handlerFor(methodSpec, shutdownSignal);
  }
  return { definition, implementation };
}

/** The method's path and codecs, derived from its descriptor. */
function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  const { input, output, methodKind } = method;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: methodKind === "client_streaming" || methodKind === "bidi_streaming",
    responseStream: methodKind === "server_streaming" || methodKind === "bidi_streaming",
    requestSerialize: (message) => Buffer.from(toBinary(input, create(input, message as never))),
    requestDeserialize: (bytes) => fromBinary(input, bytes),
    responseSerialize: (message) => Buffer.from(toBinary(output, create(output, message as never))),
    responseDeserialize: (bytes) => fromBinary(output, bytes),
    originalName: method.localName,
  };
}

function handlerFor(
  spec: MethodImplSpec,
  shutdownSignal: AbortSignal | undefined,
): UntypedHandleCall {
  switch (spec.kind) {
    case "unary":
      return (call: ServerUnaryCall<Message, unknown>, callback: sendUnaryData<unknown>) => {
        const context = contextFor(spec.method, call, shutdownSignal);
        Promise.resolve()
          .then(() => spec.impl(call.request, context))
          .then(
            (response) => {
              sendResponseHeader(call, context.responseHeader);
              callback(null, response, headersToMetadata(context.responseTrailer));
            },
            (error: unknown) => callback(errorToStatus(error, context.responseTrailer)),
          )
          .finally(() => context.abort());
      };
    case "server_streaming":
      return async (call: ServerWritableStream<Message, unknown>) => {
        const context = contextFor(spec.method, call, shutdownSignal);
        try {
          let first = true;
          for await (const response of spec.impl(call.request, context)) {
            // Cancelled, past the deadline or shutting down: grpc-js ends the
            // call itself; stop pulling from the handler.
            if (context.signal.aborted) return;
            if (first) sendResponseHeader(call, context.responseHeader);
            first = false;
            // Backpressure: wait for the HTTP/2 stream to drain before asking
            // the handler for the next message (a cancel ends the wait).
            if (!call.write(response)) await once(call, "drain", { signal: context.signal });
          }
          call.end(headersToMetadata(context.responseTrailer));
        } catch (error) {
          // An aborted call has been ended by grpc-js already (no one left to tell).
          if (!context.signal.aborted)
            call.emit("error", errorToStatus(error, context.responseTrailer));
        } finally {
          context.abort();
        }
      };
    default:
      throw new Error(
        `${spec.method.parent.typeName}.${spec.method.name}: ${spec.kind} unsupported`,
      );
  }
}

/** A connect HandlerContext for a grpc-js call: its metadata, deadline, and a signal that fires on cancel. */
function contextFor(
  method: DescMethod,
  call: ServerUnaryCall<Message, unknown>,
  shutdownSignal: AbortSignal | undefined,
) {
  const cancelled = new AbortController();
  call.once("cancelled", () => cancelled.abort());
  const deadline = Number(call.getDeadline());
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `https://${call.getHost()}${call.getPath()}`,
    requestHeader: metadataToHeaders(call.metadata),
    requestSignal: cancelled.signal,
    ...(Number.isFinite(deadline) ? { timeoutMs: Math.max(0, deadline - Date.now()) } : {}),
    ...(shutdownSignal ? { shutdownSignal } : {}),
  });
}

function sendResponseHeader(call: ServerUnaryCall<Message, unknown>, header: Headers): void {
  if (hasEntries(header)) call.sendMetadata(headersToMetadata(header));
}
