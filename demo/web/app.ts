// The demo page's script: connect-web's gRPC-Web transport against the gateway.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";

declare const GATEWAY_URL: string;

const transport = createGrpcWebTransport({ baseUrl: GATEWAY_URL });
const notes = createClient(NotesService, transport);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $("status");

function show(message: string, ok: boolean): void {
  status.textContent = message;
  status.className = ok ? "ok" : "error";
}

async function run(label: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
    show(`${label}: OK`, true);
  } catch (err) {
    const e = ConnectError.from(err);
    show(`${label}: ${Code[e.code]} (${e.code}): ${e.rawMessage}`, false);
  }
}

$("gateway").textContent = GATEWAY_URL;

$("create").onclick = () =>
  run("CreateNote", async () => {
    const { note } = await notes.createNote({ text: $<HTMLInputElement>("text").value });
    $("notes").textContent = `created ${note?.id}: ${note?.text}`;
  });

$("list").onclick = () =>
  run("ListNotes", async () => {
    const lines: string[] = [];
    for await (const { note } of notes.listNotes({})) lines.push(`${note?.id}  ${note?.text}`);
    $("notes").textContent = lines.join("\n") || "(no notes yet)";
  });

let watching: AbortController | undefined;
$("watch").onclick = () => {
  const controller = new AbortController();
  watching = controller;
  $<HTMLButtonElement>("watch").disabled = true;
  $<HTMLButtonElement>("stop").disabled = false;
  void run("WatchNotes", async () => {
    try {
      for await (const event of notes.watchNotes(
        { intervalMs: 1000 },
        { signal: controller.signal },
      )) {
        const line = document.createElement("div");
        line.textContent = `#${event.sequence} ${event.note?.text ?? ""}`;
        $("events").prepend(line);
      }
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    } finally {
      $<HTMLButtonElement>("watch").disabled = false;
      $<HTMLButtonElement>("stop").disabled = true;
    }
  });
};
$("stop").onclick = () => watching?.abort();

$("echo").onclick = () =>
  run("EchoMetadata", async () => {
    const { headers } = await notes.echoMetadata(
      {},
      { headers: { "x-demo-note": "sent by the page", "x-auth-subject": "spoofed-by-the-page" } },
    );
    $("metadata").textContent = Object.entries(headers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n");
  });

$("fail").onclick = () =>
  run("Fail", async () => {
    for await (const _ of notes.fail({
      code: Code.PermissionDenied,
      message: "the upstream says no",
    })) {
      // no messages expected
    }
  });

$("unknown").onclick = async () => {
  // A raw gRPC-Web request: the gateway answers 12 UNIMPLEMENTED itself, and
  // CORS exposes grpc-status and grpc-message to the page.
  const res = await fetch(`${GATEWAY_URL}/demo.missing.v1.Missing/Get`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
    body: new Uint8Array(5),
  });
  const code = Number(res.headers.get("grpc-status"));
  show(
    `Unknown service: ${Code[code]} (${code}): ${decodeURIComponent(res.headers.get("grpc-message") ?? "")}`,
    false,
  );
};
