// With tracing.openTelemetry on and an SDK registered, each call is a span
// that continues the browser's trace and is the parent the upstream sees.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { type Stack, startStack } from "./support/stack.ts";

const exporter = new InMemorySpanExporter();
let stack: Stack;

before(async () => {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  stack = await startStack({ impl: "connect-node", gateway: { tracing: { openTelemetry: true } } });
});
after(async () => {
  await stack.close();
  trace.disable();
  propagation.disable();
});

it("continues the browser's trace and hands its own span to the upstream", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const browserSpan = "00f067aa0ba902b7";
  const client = createClient(NotesService, createGrpcWebTransport({ baseUrl: stack.gateway.url }));
  const { headers } = await client.echoMetadata(
    {},
    { headers: { traceparent: `00-${traceId}-${browserSpan}-01` } },
  );
  const spans = exporter.getFinishedSpans();
  const span = spans.find((s) => s.name === "demo.notes.v1.NotesService/EchoMetadata");
  assert.ok(span, `spans: ${spans.map((s) => s.name).join(", ")}`);
  assert.equal(span.kind, SpanKind.SERVER);
  assert.equal(span.spanContext().traceId, traceId);
  assert.equal(span.parentSpanContext?.spanId, browserSpan);
  assert.equal(span.attributes["rpc.grpc.status_code"], 0);
  assert.equal(headers.traceparent, `00-${traceId}-${span.spanContext().spanId}-01`);
});

it("marks failed calls as errors with the status", async () => {
  const client = createClient(NotesService, createGrpcWebTransport({ baseUrl: stack.gateway.url }));
  await assert.rejects(client.getNote({ id: "missing" }));
  const span = exporter
    .getFinishedSpans()
    .find((s) => s.name === "demo.notes.v1.NotesService/GetNote");
  assert.equal(span?.attributes["rpc.grpc.status_code"], 5);
  assert.equal(span?.status.code, SpanStatusCode.ERROR);
});
